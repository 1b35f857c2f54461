package main

// Tests of render-chart against the behaviour of `helm template` (Helm 3), using the small chart
// in testdata/demo.

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func render(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	err := run(append(args, "testdata/demo"), w)
	w.Flush()
	return buf.String(), err
}

func mustRender(t *testing.T, args ...string) string {
	t.Helper()
	out, err := render(t, args...)
	if err != nil {
		t.Fatalf("render %v: %v", args, err)
	}
	return out
}

func expectContains(t *testing.T, haystack string, needles ...string) {
	t.Helper()
	for _, n := range needles {
		if !strings.Contains(haystack, n) {
			t.Errorf("expected %q in:\n%s", n, haystack)
		}
	}
}

func TestRenderUsesReleaseChartAndHelpers(t *testing.T) {
	out := mustRender(t, "--release-name", "r1", "-n", "team-a")
	expectContains(t, out,
		"# Source: demo/templates/deployment.yaml",
		"name: r1-demo\n  namespace: team-a",
		"app.kubernetes.io/version: \"4.5.6\"",
		"    team: blue\n    tier: backend",        // toYaml | nindent, keys sorted
		"greeting: \"hello r1\"",                   // tpl renders values as templates
		"missing: \"\"",                            // missing keys render empty, not <no value>
		"template: demo/templates/deployment.yaml", // .Template.Name
		"image: \"example/demo:4.5.6\"",            // default from .Chart.AppVersion
		"replicas: 1\n",                            // float64 1 prints as 1
	)
}

func TestRenderOrdersDocumentsByInstallOrderAndDropsEmptyOnes(t *testing.T) {
	out := mustRender(t)
	sa := strings.Index(out, "kind: ServiceAccount")
	cm := strings.Index(out, "kind: ConfigMap")
	dep := strings.Index(out, "kind: Deployment")
	if !(sa >= 0 && sa < cm && cm < dep) {
		t.Fatalf("want ServiceAccount < ConfigMap < Deployment, got %d %d %d:\n%s", sa, cm, dep, out)
	}
	if strings.Contains(out, "Only a comment") {
		t.Errorf("a comment-only document was printed:\n%s", out)
	}
	if n := strings.Count(out, "---\n# Source:"); n != 3 {
		t.Errorf("want 3 documents, got %d:\n%s", n, out)
	}
	out = mustRender(t, "--set", "enabled=false")
	if strings.Contains(out, "ServiceAccount") {
		t.Errorf("a template that rendered nothing was printed:\n%s", out)
	}
}

func TestFilesGlobAsConfigLinesAndHelmignore(t *testing.T) {
	out := mustRender(t, "-s", "templates/configmap.yaml")
	expectContains(t, out, "  a.conf: |\n    a: 1", "  b.conf: |\n    b: 2", "lines: \"2\"",
		"ignored: \"\"", "hasMonitoring: \"false\"")
	if strings.Contains(out, "Deployment") {
		t.Errorf("--show-only printed another template:\n%s", out)
	}
	out = mustRender(t, "-s", "templates/configmap.yaml", "-a", "monitoring.coreos.com/v1")
	expectContains(t, out, "hasMonitoring: \"true\"")
	c, err := LoadChart("testdata/demo")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range c.Files {
		if strings.HasPrefix(f.Name, "ignored/") || strings.HasSuffix(f.Name, ".bak") {
			t.Errorf(".helmignore'd file loaded: %s", f.Name)
		}
	}
}

func TestIncludeCRDsPrintsThemFirst(t *testing.T) {
	out := mustRender(t, "--include-crds")
	if !strings.HasPrefix(out, "---\n# Source: demo/crds/widget.yaml\napiVersion: apiextensions.k8s.io/v1") {
		t.Errorf("CRDs are not first:\n%s", out)
	}
	if strings.Contains(mustRender(t), "widgets.example.com") {
		t.Errorf("CRDs printed without --include-crds")
	}
}

func TestValuesFilesSetAndNullCoalesce(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "v.yaml")
	if err := os.WriteFile(file, []byte("labels:\n  tier: null\n  zone: eu\nimage:\n  tag: \"7\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tagFile := filepath.Join(dir, "tag.txt")
	if err := os.WriteFile(tagFile, []byte("from-file"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustRender(t, "-f", file, "--set", "replicas=3,labels.team=red", "--set-string", "labels.num=5",
		"--set-file", "labels.file="+tagFile)
	expectContains(t, out, "replicas: 3\n", "team: red", "zone: eu", "num: \"5\"", "image: \"example/demo:7\"",
		"file: from-file")
	if strings.Contains(out, "tier:") {
		t.Errorf("a null in a values file did not delete the default:\n%s", out)
	}
}

func TestParseSetTypesLikeHelm(t *testing.T) {
	vals := map[string]interface{}{"keep": "x", "gone": "y"}
	for _, s := range []string{"a.b=TRUE,n=42,z=007,f=1.5,s=text", `e=a\,b`, "l={x,y}", "list[1].name=second", "gone=null"} {
		if err := ParseSet(vals, s, false); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	want := map[string]interface{}{
		"keep": "x",
		"a":    map[string]interface{}{"b": true},
		"n":    int64(42), "z": "007", "f": "1.5", "s": "text", "e": "a,b",
		"l":    []interface{}{"x", "y"},
		"list": []interface{}{nil, map[string]interface{}{"name": "second"}},
	}
	if !reflect.DeepEqual(vals, want) {
		t.Errorf("got %#v\nwant %#v", vals, want)
	}
	if err := ParseSet(vals, "novalue", false); err == nil || !strings.Contains(err.Error(), "has no value") {
		t.Errorf("a key without value: got %v", err)
	}
}

func TestValuesFromFilesAreJSONNumbers(t *testing.T) {
	vals, err := ReadValues([]byte("count: 3\nnested: {m: 4}\nlist: [5]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := vals["count"].(float64); !ok {
		t.Errorf("count is %T, want float64 as in Helm", vals["count"])
	}
	if _, ok := vals["list"].([]interface{})[0].(float64); !ok {
		t.Errorf("list[0] is not float64")
	}
	if _, err := ReadValues([]byte("- a\n- b\n")); err == nil {
		t.Errorf("a top-level list was accepted")
	}
}

func TestSchemaViolationsNameTheField(t *testing.T) {
	_, err := render(t, "--set", "replicas=0", "--set-string", "image.repository=")
	if err == nil {
		t.Fatal("invalid values were accepted")
	}
	expectContains(t, err.Error(), "values don't meet the specifications of the schema(s)",
		"- replicas: Must be greater than or equal to 1", "- image.repository: String length must be greater than or equal to 1")
	_, err = render(t, "--set", "image.extra=1")
	if err == nil || !strings.Contains(err.Error(), "Additional property extra is not allowed") {
		t.Errorf("additionalProperties: got %v", err)
	}
}

func writeChart(t *testing.T, templates map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "templates"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: x\nversion: 0.1.0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("count: 2\nname: \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, text := range templates {
		if err := os.WriteFile(filepath.Join(dir, "templates", name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func renderDir(dir string, args ...string) (string, error) {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	err := run(append(args, dir), w)
	w.Flush()
	return buf.String(), err
}

func TestRequiredAndFailReportLikeHelm(t *testing.T) {
	dir := writeChart(t, map[string]string{
		"a.yaml": "kind: ConfigMap\nname: {{ required \"name: set a release name\" .Values.name }}\n",
	})
	_, err := renderDir(dir)
	if err == nil || err.Error() != "execution error at (x/templates/a.yaml:2:9): name: set a release name" {
		t.Errorf("required: got %v", err)
	}
	if out, err := renderDir(dir, "--set", "name=ok"); err != nil || !strings.Contains(out, "name: ok") {
		t.Errorf("required with a value: %v %s", err, out)
	}
	dir = writeChart(t, map[string]string{
		"b.yaml": "{{- if gt (int .Values.count) 1 }}{{ fail \"count: at most 1\" }}{{ end }}\n",
	})
	if _, err := renderDir(dir); err == nil || err.Error() != "execution error at (x/templates/b.yaml:1:37): count: at most 1" {
		t.Errorf("fail: got %v", err)
	}
}

func TestNumbersFromValuesNeedIntLikeInHelm(t *testing.T) {
	// In Helm, `gt .Values.count 1` fails because values-file numbers are float64; charts must
	// convert. render-chart must fail the same way so charts that pass here pass in Helm.
	dir := writeChart(t, map[string]string{"c.yaml": "{{ if gt .Values.count 1 }}x{{ end }}\n"})
	if _, err := renderDir(dir); err == nil || !strings.Contains(err.Error(), "incompatible types for comparison") {
		t.Errorf("want Helm's float64 comparison error, got %v", err)
	}
}

func TestEnvIsNotAvailableToCharts(t *testing.T) {
	dir := writeChart(t, map[string]string{"d.yaml": "home: {{ env \"HOME\" }}\n"})
	if _, err := renderDir(dir); err == nil || !strings.Contains(err.Error(), `function "env" not defined`) {
		t.Errorf("env must not exist (Helm removes it), got %v", err)
	}
}

func TestInvalidYAMLNamesTheTemplate(t *testing.T) {
	dir := writeChart(t, map[string]string{"e.yaml": "kind: ConfigMap\ndata:\n  a: [unclosed\n"})
	_, err := renderDir(dir)
	if err == nil || !strings.Contains(err.Error(), "x/templates/e.yaml: rendered YAML is invalid") {
		t.Errorf("got %v", err)
	}
	dir = writeChart(t, map[string]string{"f.yaml": "metadata:\n  name: x\n"})
	if _, err := renderDir(dir); err == nil || !strings.Contains(err.Error(), "has no kind") {
		t.Errorf("a document without kind: got %v", err)
	}
}

func TestStrictMakesMissingKeysErrors(t *testing.T) {
	dir := writeChart(t, map[string]string{"g.yaml": "kind: ConfigMap\nv: {{ .Values.absent }}\n"})
	if _, err := renderDir(dir); err != nil {
		t.Errorf("non-strict: %v", err)
	}
	if _, err := renderDir(dir, "--strict"); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("strict: got %v", err)
	}
}

func TestNotesRenderOnRequest(t *testing.T) {
	out := mustRender(t, "--notes", "--release-name", "r2", "-n", "ops")
	if out != "Installed r2-demo in ops.\n" {
		t.Errorf("got %q", out)
	}
	if strings.Contains(mustRender(t), "Installed") {
		t.Errorf("NOTES.txt printed as a manifest")
	}
}

func TestBadFlagsAndChartsAreClearErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown flag --bogus"},
		{[]string{"--release-name", strings.Repeat("x", 54)}, "--release-name: must be 1 to 53 characters"},
		{[]string{"-s", "templates/none.yaml"}, "could not find template templates/none.yaml"},
		{[]string{"--kube-version", "1.30"}, "--kube-version"},
		{[]string{"--kube-version", "v1.24.3"}, "chart requires kubeVersion: >=1.25.0-0 which is incompatible with Kubernetes v1.24.3"},
	} {
		if _, err := render(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: want %q, got %v", tc.args, tc.want, err)
		}
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v1\nname: old\nversion: 1.0.0\n"), 0o600)
	if _, err := renderDir(dir); err == nil || !strings.Contains(err.Error(), "apiVersion must be v2") {
		t.Errorf("apiVersion v1: got %v", err)
	}
}
