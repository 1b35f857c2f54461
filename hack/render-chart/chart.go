package main

// Loading a chart directory the way Helm 3 does: Chart.yaml (apiVersion v2), values.yaml, the
// optional values.schema.json, templates/, crds/, and every other file as .Files, minus what
// .helmignore excludes.

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	yaml "gopkg.in/yaml.v2"
)

// Metadata is Chart.yaml. Templates see it as .Chart with Helm's Go field names (.Chart.Name,
// .Chart.Version, .Chart.AppVersion, ...).
type Metadata struct {
	APIVersion   string            `yaml:"apiVersion"`
	Name         string            `yaml:"name"`
	Version      string            `yaml:"version"`
	KubeVersion  string            `yaml:"kubeVersion"`
	Description  string            `yaml:"description"`
	Type         string            `yaml:"type"`
	Keywords     []string          `yaml:"keywords"`
	Home         string            `yaml:"home"`
	Sources      []string          `yaml:"sources"`
	Icon         string            `yaml:"icon"`
	AppVersion   string            `yaml:"appVersion"`
	Deprecated   bool              `yaml:"deprecated"`
	Annotations  map[string]string `yaml:"annotations"`
	Maintainers  []interface{}     `yaml:"maintainers"`
	Dependencies []interface{}     `yaml:"dependencies"`
}

// File is one file of the chart, with its path relative to the chart root (forward slashes).
type File struct {
	Name string
	Data []byte
}

type Chart struct {
	Metadata  Metadata
	Values    map[string]interface{} // values.yaml, already normalised like Helm's (JSON numbers)
	Schema    []byte                 // values.schema.json, nil when absent
	Templates []File                 // templates/**, sorted by name
	CRDs      []File                 // crds/**, sorted by name
	Files     []File                 // everything else (.Files), sorted by name
}

// LoadChart reads a chart directory. Errors name the file and the reason.
func LoadChart(dir string) (*Chart, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil, fmt.Errorf("Chart.yaml: %v", err)
	}
	c := &Chart{}
	if err := yaml.UnmarshalStrict(raw, &c.Metadata); err != nil {
		return nil, fmt.Errorf("Chart.yaml: %v", err)
	}
	switch {
	case c.Metadata.APIVersion != "v2":
		return nil, fmt.Errorf("Chart.yaml: apiVersion must be v2 (Helm 3), got %q", c.Metadata.APIVersion)
	case c.Metadata.Name == "":
		return nil, fmt.Errorf("Chart.yaml: name is required")
	case c.Metadata.Version == "":
		return nil, fmt.Errorf("Chart.yaml: version is required")
	case c.Metadata.Type != "" && c.Metadata.Type != "application":
		return nil, fmt.Errorf("Chart.yaml: type %q cannot be rendered (only application charts)", c.Metadata.Type)
	}
	if len(c.Metadata.Dependencies) > 0 {
		return nil, fmt.Errorf("Chart.yaml: dependencies are not supported by render-chart")
	}

	ignore, err := readHelmignore(filepath.Join(dir, ".helmignore"))
	if err != nil {
		return nil, err
	}
	c.Values = map[string]interface{}{}
	err = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignore.Ignored(rel, info.IsDir()) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if info.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case rel == "Chart.yaml" || rel == ".helmignore":
		case rel == "values.yaml":
			vals, err := ReadValues(data)
			if err != nil {
				return fmt.Errorf("values.yaml: %v", err)
			}
			c.Values = vals
		case rel == "values.schema.json":
			c.Schema = data
		case strings.HasPrefix(rel, "charts/"):
			return fmt.Errorf("%s: subcharts are not supported by render-chart", rel)
		case strings.HasPrefix(rel, "templates/"):
			c.Templates = append(c.Templates, File{rel, data})
		case strings.HasPrefix(rel, "crds/"):
			c.CRDs = append(c.CRDs, File{rel, data})
			c.Files = append(c.Files, File{rel, data}) // Helm also lists crds/ under .Files
		default:
			c.Files = append(c.Files, File{rel, data})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, list := range [][]File{c.Templates, c.CRDs, c.Files} {
		sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	}
	return c, nil
}

// helmignore holds the patterns of a .helmignore: shell globs matched against the path and the
// base name, a trailing "/" matching directories only, and "!" negating. Comments start with #.
type helmignore struct {
	patterns []ignorePattern
}

type ignorePattern struct {
	glob    string
	dirOnly bool
	negate  bool
}

func readHelmignore(p string) (*helmignore, error) {
	h := &helmignore{}
	data, err := os.ReadFile(p)
	if os.IsNotExist(err) {
		return h, nil
	}
	if err != nil {
		return nil, err
	}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		pat := ignorePattern{}
		if strings.HasPrefix(line, "!") {
			pat.negate = true
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			pat.dirOnly = true
			line = strings.TrimSuffix(line, "/")
		}
		if _, err := path.Match(line, "x"); err != nil {
			return nil, fmt.Errorf(".helmignore:%d: bad pattern %q: %v", i+1, line, err)
		}
		pat.glob = line
		h.patterns = append(h.patterns, pat)
	}
	return h, nil
}

func (h *helmignore) Ignored(rel string, isDir bool) bool {
	ignored := false
	for _, p := range h.patterns {
		if p.dirOnly && !isDir {
			continue
		}
		target := path.Base(rel)
		if strings.Contains(p.glob, "/") {
			target = rel
		}
		if ok, _ := path.Match(p.glob, target); ok {
			ignored = !p.negate
		}
	}
	return ignored
}
