// render-chart renders a Helm 3 chart like `helm template`, for machines without a helm binary
// (Debian packages none). It is Go's text/template with the Masterminds sprig functions, as in
// Helm, plus Helm's own functions and objects; see hack/render-chart/README.md for what it
// supports and where it differs.
//
// Usage:
//
//	render-chart [flags] CHART_DIR
//	  -f, --values FILE         values file (repeatable; later files win)
//	  --set a.b=v[,c=w]         set values (repeatable; typed like Helm's --set)
//	  --set-string a.b=v        set string values (repeatable)
//	  --set-file a.b=PATH       set a value to the content of a file (repeatable)
//	  --release-name NAME       .Release.Name (default "release-name", as helm template)
//	  -n, --namespace NS        .Release.Namespace (default "default")
//	  --release-service NAME    .Release.Service (default "Helm")
//	  --kube-version V          .Capabilities.KubeVersion (default v1.32.0)
//	  -a, --api-versions G/V    add to .Capabilities.APIVersions (repeatable)
//	  --include-crds            print crds/ first
//	  -s, --show-only PATH      only this template, e.g. templates/deployment.yaml (repeatable)
//	  --notes                   print the rendered NOTES.txt instead of manifests
//	  --strict                  missing keys are errors
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver"
)

type cliOptions struct {
	chartDir    string
	valueFiles  []string
	sets        []string
	setStrings  []string
	setFiles    []string
	release     Release
	kubeVersion string
	apiVersions []string
	includeCRDs bool
	showOnly    []string
	notes       bool
	strict      bool
}

func parseArgs(args []string) (*cliOptions, error) {
	o := &cliOptions{
		release:     Release{Name: "release-name", Namespace: "default", Service: "Helm", Revision: 1, IsInstall: true},
		kubeVersion: "v1.32.0",
	}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue := arg, "", false
		if strings.HasPrefix(arg, "--") {
			if eq := strings.IndexByte(arg, '='); eq >= 0 {
				name, value, hasValue = arg[:eq], arg[eq+1:], true
			}
		}
		next := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		var err error
		repeatable := map[string]*[]string{
			"-f": &o.valueFiles, "--values": &o.valueFiles, "--set": &o.sets,
			"--set-string": &o.setStrings, "--set-file": &o.setFiles,
			"-a": &o.apiVersions, "--api-versions": &o.apiVersions,
			"-s": &o.showOnly, "--show-only": &o.showOnly,
		}
		if list, ok := repeatable[name]; ok {
			v, err := next()
			if err != nil {
				return nil, err
			}
			*list = append(*list, v)
			continue
		}
		switch name {
		case "--release-name":
			o.release.Name, err = next()
		case "-n", "--namespace":
			o.release.Namespace, err = next()
		case "--release-service":
			o.release.Service, err = next()
		case "--kube-version":
			o.kubeVersion, err = next()
		case "--include-crds":
			o.includeCRDs = true
		case "--notes":
			o.notes = true
		case "--strict":
			o.strict = true
		case "-h", "--help":
			return nil, fmt.Errorf("usage: render-chart [flags] CHART_DIR (see the comment at the top of main.go)")
		default:
			if strings.HasPrefix(arg, "-") {
				return nil, fmt.Errorf("unknown flag %s", arg)
			}
			if o.chartDir != "" {
				return nil, fmt.Errorf("one chart directory expected, got %q and %q", o.chartDir, arg)
			}
			o.chartDir = arg
		}
		if err != nil {
			return nil, err
		}
	}
	if o.chartDir == "" {
		return nil, fmt.Errorf("a chart directory is required")
	}
	if len(o.release.Name) == 0 || len(o.release.Name) > 53 {
		return nil, fmt.Errorf("--release-name: must be 1 to 53 characters (Helm's limit)")
	}
	if !strings.HasPrefix(o.kubeVersion, "v") || strings.Count(o.kubeVersion, ".") < 1 {
		return nil, fmt.Errorf("--kube-version: want vMAJOR.MINOR[.PATCH], got %q", o.kubeVersion)
	}
	return o, nil
}

// run renders and writes to w; it is main without the process around it (tests call it).
func run(args []string, w *bufio.Writer) error {
	o, err := parseArgs(args)
	if err != nil {
		return err
	}
	c, err := LoadChart(o.chartDir)
	if err != nil {
		return fmt.Errorf("%s: %v", o.chartDir, err)
	}
	user := map[string]interface{}{}
	for _, f := range o.valueFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		vals, err := ReadValues(data)
		if err != nil {
			return fmt.Errorf("%s: %v", f, err)
		}
		user = Coalesce(user, vals)
	}
	for _, s := range o.sets {
		if err := ParseSet(user, s, false); err != nil {
			return err
		}
	}
	for _, s := range o.setStrings {
		if err := ParseSet(user, s, true); err != nil {
			return err
		}
	}
	for _, s := range o.setFiles {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return fmt.Errorf("--set-file %q: want key=path", s)
		}
		data, err := os.ReadFile(s[eq+1:])
		if err != nil {
			return fmt.Errorf("--set-file %q: %v", s, err)
		}
		if err := setPath(user, splitEscaped(s[:eq], '.', false), string(data)); err != nil {
			return fmt.Errorf("--set-file %q: %v", s, err)
		}
	}
	vals := Coalesce(deepCopy(c.Values).(map[string]interface{}), user)
	if err := ValidateSchema(c.Metadata.Name, c.Schema, vals); err != nil {
		return err
	}

	if c.Metadata.KubeVersion != "" {
		constraint, err := semver.NewConstraint(c.Metadata.KubeVersion)
		if err != nil {
			return fmt.Errorf("Chart.yaml: kubeVersion %q: %v", c.Metadata.KubeVersion, err)
		}
		v, err := semver.NewVersion(o.kubeVersion)
		if err != nil {
			return fmt.Errorf("--kube-version %q: %v", o.kubeVersion, err)
		}
		if !constraint.Check(v) {
			return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", c.Metadata.KubeVersion, o.kubeVersion)
		}
	}
	kv := strings.SplitN(strings.TrimPrefix(o.kubeVersion, "v"), ".", 3)
	caps := Capabilities{
		KubeVersion: KubeVersion{Version: o.kubeVersion, Major: kv[0], Minor: kv[1]},
		APIVersions: append(append(VersionSet{}, DefaultAPIVersions...), o.apiVersions...),
		HelmVersion: map[string]string{"Version": "v3.14.0"},
	}
	rendered, err := Render(c, vals, RenderOptions{Release: o.release, Capabilities: caps, Strict: o.strict})
	if err != nil {
		return err
	}
	if o.notes {
		_, err := w.WriteString(rendered[c.Metadata.Name+"/templates/NOTES.txt"])
		return err
	}
	if len(o.showOnly) > 0 {
		keep := map[string]string{}
		for _, s := range o.showOnly {
			name := c.Metadata.Name + "/" + filepath.ToSlash(s)
			text, ok := rendered[name]
			if !ok {
				return fmt.Errorf("could not find template %s in chart", s)
			}
			keep[name] = text
		}
		rendered = keep
	}
	manifests, err := SortManifests(rendered)
	if err != nil {
		return err
	}
	var crds []File
	if o.includeCRDs && len(o.showOnly) == 0 {
		crds = c.CRDs
	}
	return WriteManifests(w, crds, c.Metadata.Name, manifests)
}

func main() {
	w := bufio.NewWriter(os.Stdout)
	err := run(os.Args[1:], w)
	if flushErr := w.Flush(); err == nil {
		err = flushErr
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}
