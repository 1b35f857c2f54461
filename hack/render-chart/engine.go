package main

// The template engine: Go's text/template with sprig's functions and Helm's own (include, tpl,
// required, fail, toYaml, fromYaml, toJson, fromJson, lookup), the built-in objects (.Values,
// .Release, .Chart, .Capabilities, .Files, .Template), missing keys rendering as empty, and
// Helm's "execution error at (file:line:col): message" errors.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	yaml "gopkg.in/yaml.v2"
)

// Release is what templates see as .Release.
type Release struct {
	Name      string
	Namespace string
	Service   string
	Revision  int
	IsInstall bool
	IsUpgrade bool
}

// Capabilities is .Capabilities: the Kubernetes version and API versions the chart may test.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion map[string]string
}

type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (k KubeVersion) String() string     { return k.Version }
func (k KubeVersion) GitVersion() string { return k.Version }

// VersionSet answers .Capabilities.APIVersions.Has "group/version" and "group/version/Kind".
type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// DefaultAPIVersions is what a Kubernetes 1.32 cluster serves for the kinds charts usually test,
// the role Helm's DefaultVersionSet plays for `helm template`. --api-versions adds more
// (for example monitoring.coreos.com/v1).
var DefaultAPIVersions = VersionSet{
	"v1", "apps/v1", "batch/v1", "policy/v1", "networking.k8s.io/v1", "rbac.authorization.k8s.io/v1",
	"coordination.k8s.io/v1", "events.k8s.io/v1", "apiextensions.k8s.io/v1", "autoscaling/v2",
	"storage.k8s.io/v1", "admissionregistration.k8s.io/v1", "discovery.k8s.io/v1",
}

// Files is .Files: the chart's non-template files.
type Files map[string][]byte

func newFiles(list []File) Files {
	f := Files{}
	for _, x := range list {
		f[x.Name] = x.Data
	}
	return f
}

func (f Files) GetBytes(name string) []byte { return f[name] }
func (f Files) Get(name string) string      { return string(f[name]) }

// Glob returns the files whose path matches pattern (path.Match syntax, plus ** for any depth).
func (f Files) Glob(pattern string) Files {
	re := globRegexp(pattern)
	out := Files{}
	for name, data := range f {
		if re.MatchString(name) {
			out[name] = data
		}
	}
	return out
}

func globRegexp(pattern string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				b.WriteString(".*")
				i++
			} else {
				b.WriteString("[^/]*")
			}
		case '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// AsConfig renders the files as the data of a ConfigMap (base name: content), as YAML.
func (f Files) AsConfig() string {
	m := map[string]string{}
	for name, data := range f {
		m[path.Base(name)] = string(data)
	}
	return toYAML(m)
}

// AsSecrets renders the files as the data of a Secret (base name: base64 of content).
func (f Files) AsSecrets() string {
	m := map[string]string{}
	for name, data := range f {
		m[path.Base(name)] = base64.StdEncoding.EncodeToString(data)
	}
	return toYAML(m)
}

func (f Files) Lines(name string) []string {
	s := string(f[name])
	if s == "" {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// RenderOptions are what `helm template` takes from its flags.
type RenderOptions struct {
	Release      Release
	Capabilities Capabilities
	Strict       bool // missing keys are errors (helm lint --strict)
}

// warnWrap marks messages of required and fail so errors can show them without Go's prefix.
func warnWrap(msg string) string { return "HELM[" + msg + "]HELM" }

var warnRegex = regexp.MustCompile(`HELM\[(?s:(.*))\]HELM`)

// cleanupExecError turns `template: f:1:2: executing "f" at <...>: error calling required: HELM[m]HELM`
// into `execution error at (f:1:2): m`, the way Helm reports it.
func cleanupExecError(err error) error {
	var execErr template.ExecError
	if !errors.As(err, &execErr) {
		return err
	}
	tokens := strings.SplitN(err.Error(), ": ", 3)
	if len(tokens) != 3 {
		return err
	}
	if parts := warnRegex.FindStringSubmatch(tokens[2]); len(parts) >= 2 {
		return fmt.Errorf("execution error at (%s): %s", tokens[1], parts[1])
	}
	return err
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m, err := ReadValues([]byte(s))
	if err != nil {
		return map[string]interface{}{"Error": err.Error()}
	}
	return m
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

const maxIncludeDepth = 1000

// funcMap is sprig's text functions minus the ones Helm removes (env, expandenv: a chart must
// not read the machine it is rendered on) plus Helm's. include and tpl are bound per render.
func funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toYaml":   toYAML,
		"fromYaml": fromYAML,
		"toJson":   toJSON,
		"fromJson": fromJSON,
		"required": func(msg string, val interface{}) (interface{}, error) {
			if val == nil {
				return val, errors.New(warnWrap(msg))
			}
			if s, ok := val.(string); ok && s == "" {
				return val, errors.New(warnWrap(msg))
			}
			return val, nil
		},
		"fail": func(msg string) (string, error) { return "", errors.New(warnWrap(msg)) },
		// `helm template` has no cluster: lookup always finds nothing.
		"lookup": func(apiVersion, kind, namespace, name string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
		// Placeholders replaced in render() so they can close over the template set.
		"include": func(string, interface{}) (string, error) { return "", nil },
		"tpl":     func(string, interface{}) (string, error) { return "", nil },
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// Render executes every template of the chart. It returns rendered text by template path
// ("<chart>/templates/x.yaml"), including partials' empty output and NOTES.txt.
func Render(c *Chart, vals map[string]interface{}, opts RenderOptions) (map[string]string, error) {
	t := template.New("gotpl")
	if opts.Strict {
		t.Option("missingkey=error")
	} else {
		t.Option("missingkey=zero")
	}
	includeDepth := map[string]int{}
	fm := funcMap()
	fm["include"] = func(name string, data interface{}) (string, error) {
		if includeDepth[name] > maxIncludeDepth {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		includeDepth[name]++
		defer func() { includeDepth[name]-- }()
		var buf strings.Builder
		err := t.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	fm["tpl"] = func(text string, data interface{}) (string, error) {
		clone, err := t.Clone()
		if err != nil {
			return "", err
		}
		name := "tpl"
		if top, ok := data.(map[string]interface{}); ok {
			if tmpl, ok := top["Template"].(map[string]interface{}); ok {
				if n, ok := tmpl["Name"].(string); ok {
					name = n
				}
			}
		}
		parsed, err := clone.New(name).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %v", text, err)
		}
		var buf strings.Builder
		if err := parsed.Execute(&buf, data); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %v", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	t.Funcs(fm)

	prefix := c.Metadata.Name + "/"
	names := make([]string, 0, len(c.Templates))
	for _, f := range c.Templates {
		name := prefix + f.Name
		if _, err := t.New(name).Parse(string(f.Data)); err != nil {
			return nil, fmt.Errorf("parse error in %s", strings.TrimPrefix(err.Error(), "template: "))
		}
		names = append(names, name)
	}
	sort.Strings(names)

	out := map[string]string{}
	for _, name := range names {
		if strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		top := map[string]interface{}{
			"Values": vals,
			"Release": map[string]interface{}{
				"Name": opts.Release.Name, "Namespace": opts.Release.Namespace,
				"Service": opts.Release.Service, "Revision": opts.Release.Revision,
				"IsInstall": opts.Release.IsInstall, "IsUpgrade": opts.Release.IsUpgrade,
			},
			"Chart":        &c.Metadata,
			"Capabilities": &opts.Capabilities,
			"Files":        newFiles(c.Files),
			"Template":     map[string]interface{}{"Name": name, "BasePath": prefix + "templates"},
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, name, top); err != nil {
			return nil, cleanupExecError(err)
		}
		out[name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}
