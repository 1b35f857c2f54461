package main

// Turning rendered templates into `helm template` output: split files into YAML documents, drop
// empty ones, order them by Helm's install order of kinds (stable within a kind), and print each
// behind "---" and a "# Source:" line.

import (
	"fmt"
	"io"
	"path"
	"regexp"
	"sort"
	"strings"

	yaml "gopkg.in/yaml.v2"
)

// InstallOrder is Helm's releaseutil.InstallOrder: kinds that others depend on come first.
var InstallOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
	"PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
	"PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList",
	"RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
	"ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob",
	"IngressClass", "Ingress", "APIService",
}

// Manifest is one YAML document of the output.
type Manifest struct {
	Source  string // "<chart>/templates/x.yaml"
	Content string
	Kind    string
}

var docSeparator = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

// SortManifests splits the rendered templates (skipping partials and NOTES.txt, and files that
// are not YAML) into documents and orders them for installation. A document that is not valid
// YAML is an error naming its template.
func SortManifests(rendered map[string]string) ([]Manifest, error) {
	names := make([]string, 0, len(rendered))
	for name := range rendered {
		base := path.Base(name)
		ext := path.Ext(name)
		if strings.HasPrefix(base, "_") || base == "NOTES.txt" || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Manifest
	for _, name := range names {
		for _, doc := range docSeparator.Split(rendered[name], -1) {
			if strings.TrimSpace(doc) == "" {
				continue
			}
			var head struct {
				Kind string `yaml:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return nil, fmt.Errorf("%s: rendered YAML is invalid: %v\n%s", name, err, numbered(doc))
			}
			if head.Kind == "" && !commentsOnly(doc) {
				return nil, fmt.Errorf("%s: a rendered document has no kind:\n%s", name, numbered(doc))
			}
			if commentsOnly(doc) {
				continue
			}
			// Like Helm, surrounding blank lines go (templates often start with a {{- if ... }} line).
			out = append(out, Manifest{Source: name, Content: strings.TrimSpace(doc) + "\n", Kind: head.Kind})
		}
	}
	rank := map[string]int{}
	for i, k := range InstallOrder {
		rank[k] = i
	}
	sort.SliceStable(out, func(i, j int) bool {
		ri, iok := rank[out[i].Kind]
		rj, jok := rank[out[j].Kind]
		switch {
		case !iok && !jok:
			return out[i].Kind < out[j].Kind
		case !iok:
			return false
		case !jok:
			return true
		}
		return ri < rj
	})
	return out, nil
}

func commentsOnly(doc string) bool {
	for _, line := range strings.Split(doc, "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			return false
		}
	}
	return true
}

func numbered(doc string) string {
	var b strings.Builder
	for i, line := range strings.Split(doc, "\n") {
		fmt.Fprintf(&b, "%4d | %s\n", i+1, line)
	}
	return b.String()
}

// WriteManifests prints documents the way `helm template` does.
func WriteManifests(w io.Writer, crds []File, chartName string, manifests []Manifest) error {
	for _, crd := range crds {
		if _, err := fmt.Fprintf(w, "---\n# Source: %s/%s\n%s", chartName, crd.Name, ensureNewline(string(crd.Data))); err != nil {
			return err
		}
	}
	for _, m := range manifests {
		if _, err := fmt.Fprintf(w, "---\n# Source: %s\n%s", m.Source, m.Content); err != nil {
			return err
		}
	}
	return nil
}

func ensureNewline(s string) string {
	if strings.HasSuffix(s, "\n") {
		return s
	}
	return s + "\n"
}
