// crd-docs writes the field reference of docs/crds.md from the CRDs' OpenAPI schemas, so the
// documentation says exactly what `kubectl explain` says. It replaces the text between
//
//	<!-- BEGIN GENERATED FIELDS <crd name> -->
//	<!-- END GENERATED FIELDS <crd name> -->
//
// with a table of every field (path, type, constraints, description) and the CRD's cross-field
// (CEL) rules. Everything outside the markers is left alone.
//
// Usage:
//
//	crd-docs [--check] DOC.md CRD.yaml...
//
// --check changes nothing and fails, naming the section, when DOC.md is not what would be written
// (tests run it; `hack/gen-docs.sh` writes).
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"

	yaml "gopkg.in/yaml.v3"
)

// schema is the part of an OpenAPI v3 schema the reference shows.
type schema struct {
	Description     string        `yaml:"description"`
	Type            string        `yaml:"type"`
	Format          string        `yaml:"format"`
	Required        []string      `yaml:"required"`
	Properties      yaml.Node     `yaml:"properties"` // a mapping, kept in file order
	Items           *schema       `yaml:"items"`
	Enum            []interface{} `yaml:"enum"`
	Default         interface{}   `yaml:"default"`
	Minimum         *float64      `yaml:"minimum"`
	Maximum         *float64      `yaml:"maximum"`
	MinLength       *int          `yaml:"minLength"`
	MaxLength       *int          `yaml:"maxLength"`
	MinItems        *int          `yaml:"minItems"`
	MaxItems        *int          `yaml:"maxItems"`
	Pattern         string        `yaml:"pattern"`
	IntOrString     bool          `yaml:"x-kubernetes-int-or-string"`
	PreserveUnknown bool          `yaml:"x-kubernetes-preserve-unknown-fields"`
	ListType        string        `yaml:"x-kubernetes-list-type"`
	Validations     []validation  `yaml:"x-kubernetes-validations"`
	AdditionalProps *schema       `yaml:"additionalProperties"`
}

type validation struct {
	Rule    string `yaml:"rule"`
	Message string `yaml:"message"`
}

type crd struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Names struct {
			Kind string `yaml:"kind"`
		} `yaml:"names"`
		Versions []struct {
			Name   string `yaml:"name"`
			Schema struct {
				OpenAPIV3Schema schema `yaml:"openAPIV3Schema"`
			} `yaml:"schema"`
		} `yaml:"versions"`
	} `yaml:"spec"`
}

type row struct {
	path, typ, constraints, description string
}

type rule struct {
	path, rule, message string
}

// groupRun matches a run of nested filter-group items: BusinessRule's filter is written out to
// its full depth because a structural schema cannot recurse, and the reference shows one level.
var groupRun = regexp.MustCompile(`((\.all|\.any)\[\])+`)

func normalise(path string) string {
	return groupRun.ReplaceAllString(path, ".all[]")
}

func properties(s *schema) ([]string, map[string]*schema, error) {
	if s.Properties.Kind == 0 {
		return nil, nil, nil
	}
	var names []string
	props := map[string]*schema{}
	for i := 0; i+1 < len(s.Properties.Content); i += 2 {
		name := s.Properties.Content[i].Value
		var child schema
		if err := s.Properties.Content[i+1].Decode(&child); err != nil {
			return nil, nil, fmt.Errorf("%s: %v", name, err)
		}
		names = append(names, name)
		props[name] = &child
	}
	return names, props, nil
}

func typeOf(s *schema) string {
	switch {
	case s.IntOrString:
		return "int or string"
	case s.Type == "array" && s.Items != nil:
		return "[]" + typeOf(s.Items)
	case s.Type == "object" && s.AdditionalProps != nil:
		return "map[string]" + typeOf(s.AdditionalProps)
	case s.Format != "" && s.Type == "string":
		return "string (" + s.Format + ")"
	case s.Type == "":
		return "any"
	}
	return s.Type
}

func number(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%f", f), "0"), ".")
}

func constraints(s *schema, required bool) string {
	var parts []string
	if required {
		parts = append(parts, "required")
	}
	if s.Default != nil {
		parts = append(parts, fmt.Sprintf("default `%v`", s.Default))
	}
	if len(s.Enum) > 0 {
		var vals []string
		for _, v := range s.Enum {
			vals = append(vals, fmt.Sprintf("`%v`", v))
		}
		parts = append(parts, "one of "+strings.Join(vals, ", "))
	}
	switch {
	case s.Minimum != nil && s.Maximum != nil:
		parts = append(parts, number(*s.Minimum)+" to "+number(*s.Maximum))
	case s.Minimum != nil:
		parts = append(parts, "at least "+number(*s.Minimum))
	case s.Maximum != nil:
		parts = append(parts, "at most "+number(*s.Maximum))
	}
	switch {
	case s.MinLength != nil && s.MaxLength != nil:
		parts = append(parts, fmt.Sprintf("%d to %d characters", *s.MinLength, *s.MaxLength))
	case s.MaxLength != nil:
		parts = append(parts, fmt.Sprintf("at most %d characters", *s.MaxLength))
	case s.MinLength != nil:
		parts = append(parts, fmt.Sprintf("at least %d characters", *s.MinLength))
	}
	switch {
	case s.MinItems != nil && s.MaxItems != nil:
		parts = append(parts, fmt.Sprintf("%d to %d items", *s.MinItems, *s.MaxItems))
	case s.MaxItems != nil:
		parts = append(parts, fmt.Sprintf("at most %d items", *s.MaxItems))
	case s.MinItems != nil:
		parts = append(parts, fmt.Sprintf("at least %d items", *s.MinItems))
	}
	if s.ListType == "map" || s.ListType == "set" {
		parts = append(parts, "list type "+s.ListType)
	}
	if s.Pattern != "" {
		parts = append(parts, "pattern `"+s.Pattern+"`")
	}
	return strings.Join(parts, "; ")
}

func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// walk lists s's fields and list items under path p in schema order, one row per normalised
// path, and the CEL rules on the way.
func walk(s *schema, p string, seen map[string]bool, rows *[]row, rules *[]rule) error {
	for _, v := range s.Validations {
		where := p
		if where == "" {
			where = "(object)"
		}
		key := "rule:" + normalise(where) + v.Rule
		if !seen[key] {
			seen[key] = true
			*rules = append(*rules, rule{normalise(where), v.Rule, v.Message})
		}
	}
	names, props, err := properties(s)
	if err != nil {
		return fmt.Errorf("%s: %v", p, err)
	}
	required := map[string]bool{}
	for _, r := range s.Required {
		required[r] = true
	}
	for _, name := range names {
		if p == "" && (name == "apiVersion" || name == "kind" || name == "metadata") {
			continue // the standard fields every object has
		}
		path := name
		if p != "" {
			path = p + "." + name
		}
		if err := visit(props[name], path, required[name], seen, rows, rules); err != nil {
			return err
		}
	}
	return nil
}

func visit(s *schema, path string, required bool, seen map[string]bool, rows *[]row, rules *[]rule) error {
	if norm := normalise(path); !seen[norm] {
		seen[norm] = true
		*rows = append(*rows, row{norm, typeOf(s), constraints(s, required), s.Description})
	}
	if err := walk(s, path, seen, rows, rules); err != nil {
		return err
	}
	if s.Items != nil {
		return visit(s.Items, path+"[]", false, seen, rows, rules)
	}
	return nil
}

func section(c *crd) (string, error) {
	if len(c.Spec.Versions) != 1 {
		return "", fmt.Errorf("%s: one version expected, found %d", c.Metadata.Name, len(c.Spec.Versions))
	}
	var rows []row
	var rules []rule
	root := c.Spec.Versions[0].Schema.OpenAPIV3Schema
	if err := walk(&root, "", map[string]bool{}, &rows, &rules); err != nil {
		return "", fmt.Errorf("%s: %v", c.Metadata.Name, err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| field | type | constraints | description |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.path, cell(r.typ), cell(r.constraints), cell(r.description))
	}
	if len(rules) > 0 {
		fmt.Fprintf(&b, "\nCross-field rules (CEL `x-kubernetes-validations`, evaluated by a real API server; the local API server skips them):\n\n")
		fmt.Fprintf(&b, "| on | rule | message |\n|---|---|---|\n")
		for _, r := range rules {
			fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", r.path, cell(r.rule), cell(r.message))
		}
	}
	return b.String(), nil
}

func loadCRD(path string) (*crd, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var c crd
		if err := dec.Decode(&c); err != nil {
			return nil, fmt.Errorf("%s: no CustomResourceDefinition found (%v)", path, err)
		}
		if c.Metadata.Name != "" {
			return &c, nil
		}
	}
}

func run(args []string) error {
	check := false
	if len(args) > 0 && args[0] == "--check" {
		check, args = true, args[1:]
	}
	if len(args) < 2 {
		return fmt.Errorf("usage: crd-docs [--check] DOC.md CRD.yaml...")
	}
	docPath := args[0]
	data, err := os.ReadFile(docPath)
	if err != nil {
		return err
	}
	doc := string(data)
	var names []string
	for _, path := range args[1:] {
		c, err := loadCRD(path)
		if err != nil {
			return err
		}
		names = append(names, c.Metadata.Name)
		text, err := section(c)
		if err != nil {
			return err
		}
		begin := "<!-- BEGIN GENERATED FIELDS " + c.Metadata.Name + " -->\n"
		end := "<!-- END GENERATED FIELDS " + c.Metadata.Name + " -->"
		i := strings.Index(doc, begin)
		j := strings.Index(doc, end)
		if i < 0 || j < i {
			return fmt.Errorf("%s: no section for %s: add the lines %q and %q", docPath, c.Metadata.Name,
				strings.TrimSpace(begin), end)
		}
		current := doc[i+len(begin) : j]
		if current != text {
			if check {
				return fmt.Errorf("%s: the fields of %s differ from the CRD; run hack/gen-docs.sh", docPath, c.Metadata.Name)
			}
			doc = doc[:i+len(begin)] + text + doc[j:]
		}
	}
	// Every generated section must belong to a CRD that was given (a renamed CRD leaves none behind).
	sort.Strings(names)
	for _, m := range regexp.MustCompile(`<!-- BEGIN GENERATED FIELDS (\S+) -->`).FindAllStringSubmatch(doc, -1) {
		if k := sort.SearchStrings(names, m[1]); k == len(names) || names[k] != m[1] {
			return fmt.Errorf("%s: section for %s, which is not among the CRDs given", docPath, m[1])
		}
	}
	if check {
		return nil
	}
	return os.WriteFile(docPath, []byte(doc), 0o644)
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "crd-docs: %v\n", err)
		os.Exit(1)
	}
}
