package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const crdYAML = `# a comment document first, as in crds/
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  names: {kind: Widget}
  versions:
  - name: v1
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string, description: skipped}
          spec:
            description: The spec.
            type: object
            required: [size]
            x-kubernetes-validations:
            - rule: self.size > 0 || self.mode == 'a|b'
              message: size or mode
            properties:
              size: {type: integer, minimum: 1, maximum: 9, default: 3, description: "How big;\n  wrapped."}
              mode: {type: string, enum: [a, b], description: Which mode.}
              filter:
                description: A group.
                type: object
                properties:
                  all:
                    type: array
                    description: AND.
                    items:
                      type: object
                      description: Item level 2.
                      properties:
                        field: {type: string, description: The field.}
                        any:
                          type: array
                          description: OR.
                          items:
                            type: object
                            description: Item level 3.
                            properties:
                              field: {type: string, description: The field, deeper.}
              tags: {type: array, maxItems: 4, items: {type: string, description: One tag.}}
`

func writeFiles(t *testing.T, doc string) (string, string) {
	dir := t.TempDir()
	crd := filepath.Join(dir, "widget.yaml")
	md := filepath.Join(dir, "doc.md")
	if err := os.WriteFile(crd, []byte(crdYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(md, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return crd, md
}

const emptyDoc = "# Widgets\n\nProse stays.\n\n<!-- BEGIN GENERATED FIELDS widgets.example.com -->\n<!-- END GENERATED FIELDS widgets.example.com -->\n\nMore prose.\n"

func TestWritesEveryFieldWithConstraintsAndRules(t *testing.T) {
	crd, md := writeFiles(t, emptyDoc)
	if err := run([]string{md, crd}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(md)
	got := string(data)
	for _, want := range []string{
		"# Widgets\n\nProse stays.\n",
		"| `spec.size` | integer | required; default `3`; 1 to 9 | How big; wrapped. |",
		"| `spec.mode` | string | one of `a`, `b` | Which mode. |",
		"| `spec.filter.all[]` | object |  | Item level 2. |",
		"| `spec.filter.all[].field` | string |  | The field. |",
		"| `spec.tags` | []string | at most 4 items |  |",
		"| `spec.tags[]` | string |  | One tag. |",
		"| `spec` | `self.size > 0 \\|\\| self.mode == 'a\\|b'` | size or mode |",
		"More prose.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	// Nested group levels fold into the first: no row for the level-3 copy.
	if strings.Contains(got, "deeper") || strings.Contains(got, "apiVersion") {
		t.Errorf("unexpected rows:\n%s", got)
	}
	if err := run([]string{"--check", md, crd}); err != nil {
		t.Errorf("check after write: %v", err)
	}
}

func TestCheckFailsOnAStaleDocAndChangesNothing(t *testing.T) {
	crd, md := writeFiles(t, emptyDoc)
	err := run([]string{"--check", md, crd})
	if err == nil || !strings.Contains(err.Error(), "the fields of widgets.example.com differ from the CRD") {
		t.Errorf("got %v", err)
	}
	data, _ := os.ReadFile(md)
	if string(data) != emptyDoc {
		t.Errorf("--check modified the document")
	}
}

func TestMissingOrForeignSectionsAreErrors(t *testing.T) {
	crd, md := writeFiles(t, "# nothing\n")
	if err := run([]string{md, crd}); err == nil || !strings.Contains(err.Error(), "no section for widgets.example.com") {
		t.Errorf("missing section: %v", err)
	}
	crd, md = writeFiles(t, emptyDoc+"<!-- BEGIN GENERATED FIELDS gone.example.com -->\n<!-- END GENERATED FIELDS gone.example.com -->\n")
	if err := run([]string{md, crd}); err == nil || !strings.Contains(err.Error(), "section for gone.example.com") {
		t.Errorf("foreign section: %v", err)
	}
}
