package main

// Values the way Helm 3 builds them: YAML read through JSON (so every number in a values file is
// a float64, as with sigs.k8s.io/yaml), user values coalesced over the chart's defaults (a null
// deletes a default), --set parsed like Helm's strvals (integers become int64), and the result
// checked against values.schema.json.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/xeipuuv/gojsonschema"
	yaml "gopkg.in/yaml.v2"
)

// ReadValues parses one values document. An empty document is an empty map.
func ReadValues(data []byte) (map[string]interface{}, error) {
	var raw interface{}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return map[string]interface{}{}, nil
	}
	converted, err := stringKeys(raw, "")
	if err != nil {
		return nil, err
	}
	m, ok := converted.(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("the top level must be a map, got %T", converted)
	}
	// Round trip through JSON like sigs.k8s.io/yaml: numbers become float64.
	js, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	out := map[string]interface{}{}
	if err := json.Unmarshal(js, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// stringKeys turns yaml.v2's map[interface{}]interface{} into map[string]interface{}.
func stringKeys(v interface{}, at string) (interface{}, error) {
	switch t := v.(type) {
	case map[interface{}]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, val := range t {
			ks, ok := k.(string)
			if !ok {
				ks = fmt.Sprint(k)
			}
			c, err := stringKeys(val, at+"."+ks)
			if err != nil {
				return nil, err
			}
			m[ks] = c
		}
		return m, nil
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, val := range t {
			c, err := stringKeys(val, fmt.Sprintf("%s[%d]", at, i))
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	default:
		return v, nil
	}
}

// Coalesce merges src over dst (both may be modified): maps merge recursively, anything else in
// src replaces dst, and a nil in src deletes the key (Helm's way to drop a default).
func Coalesce(dst, src map[string]interface{}) map[string]interface{} {
	if dst == nil {
		dst = map[string]interface{}{}
	}
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		srcMap, srcIsMap := v.(map[string]interface{})
		dstMap, dstIsMap := dst[k].(map[string]interface{})
		if srcIsMap && dstIsMap {
			dst[k] = Coalesce(dstMap, srcMap)
		} else {
			dst[k] = deepCopy(v)
		}
	}
	return dst
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, val := range t {
			m[k] = deepCopy(val)
		}
		return m
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, val := range t {
			out[i] = deepCopy(val)
		}
		return out
	default:
		return v
	}
}

// ParseSet applies one --set (or --set-string when asString) argument, "a.b=v,c[0].d=w", to
// vals, like Helm's strvals: "true"/"false" become booleans, "null" deletes, integers become
// int64 (anything else, 0.25 included, stays a string), "\," and "\." escape, "{a,b}" is a list.
func ParseSet(vals map[string]interface{}, arg string, asString bool) error {
	for _, pair := range splitEscaped(arg, ',', true) {
		if pair == "" {
			continue
		}
		eq := indexUnescaped(pair, '=')
		if eq < 0 {
			return fmt.Errorf("--set %q: key %q has no value", arg, pair)
		}
		key, raw := pair[:eq], unescape(pair[eq+1:])
		var value interface{} = raw
		if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			var list []interface{}
			for _, item := range splitEscaped(raw[1:len(raw)-1], ',', false) {
				list = append(list, typed(unescape(item), asString))
			}
			value = list
		} else {
			value = typed(raw, asString)
		}
		if err := setPath(vals, splitEscaped(key, '.', false), value); err != nil {
			return fmt.Errorf("--set %q: %v", arg, err)
		}
	}
	return nil
}

// splitEscaped splits s at unescaped sep. With braces, separators inside {...} do not split.
func splitEscaped(s string, sep byte, braces bool) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\':
			i++
		case braces && s[i] == '{':
			depth++
		case braces && s[i] == '}':
			depth--
		case s[i] == sep && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func indexUnescaped(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == c {
			return i
		}
	}
	return -1
}

func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func typed(s string, asString bool) interface{} {
	if asString {
		return s
	}
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	// Like strvals: integers without a leading zero become int64; everything else stays a string.
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && (s == "0" || !strings.HasPrefix(strings.TrimPrefix(s, "-"), "0")) {
		return n
	}
	return s
}

// setPath sets vals[k1][k2]...= value; a key "name[3]" addresses a list element.
func setPath(vals map[string]interface{}, keys []string, value interface{}) error {
	cur := vals
	for i, rawKey := range keys {
		key := unescape(rawKey)
		last := i == len(keys)-1
		idx := -1
		if open := strings.IndexByte(key, '['); open >= 0 && strings.HasSuffix(key, "]") {
			n, err := strconv.Atoi(key[open+1 : len(key)-1])
			if err != nil || n < 0 || n > 65535 {
				return fmt.Errorf("bad list index in %q", key)
			}
			idx, key = n, key[:open]
		}
		if key == "" {
			return fmt.Errorf("empty key")
		}
		if idx < 0 {
			if last {
				if value == nil {
					delete(cur, key)
				} else {
					cur[key] = value
				}
				return nil
			}
			parent := cur
			cur = mapIn(parent[key], func(m map[string]interface{}) { parent[key] = m })
			continue
		}
		list, _ := cur[key].([]interface{})
		for len(list) <= idx {
			list = append(list, nil)
		}
		cur[key] = list
		if last {
			list[idx] = value
			return nil
		}
		cur = mapIn(list[idx], func(m map[string]interface{}) { list[idx] = m })
	}
	return nil
}

// mapIn returns the map held in a slot, or puts a new one there (replacing anything else).
func mapIn(v interface{}, store func(map[string]interface{})) map[string]interface{} {
	if m, ok := v.(map[string]interface{}); ok {
		return m
	}
	m := map[string]interface{}{}
	store(m)
	return m
}

// ValidateSchema checks vals against values.schema.json and reports every violation with the
// field path and the reason, in Helm's layout.
func ValidateSchema(chartName string, schema []byte, vals map[string]interface{}) error {
	if len(schema) == 0 {
		return nil
	}
	doc, err := json.Marshal(vals)
	if err != nil {
		return err
	}
	result, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(doc))
	if err != nil {
		return fmt.Errorf("values.schema.json: %v", err)
	}
	if result.Valid() {
		return nil
	}
	var lines []string
	for _, e := range result.Errors() {
		lines = append(lines, fmt.Sprintf("- %s: %s", e.Field(), e.Description()))
	}
	sort.Strings(lines)
	return fmt.Errorf("values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n%s",
		chartName, strings.Join(lines, "\n"))
}
