package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// fileJob is one job of a job file, as read: its JSON and where each of its
// fields is in the file.
type fileJob struct {
	// file and line say where the job starts; index is its place in the
	// file (0-based).
	file  string
	line  int
	index int
	// value is the job as a JSON value (map[string]any, []any, string,
	// json.Number, bool, nil).
	value any
	// lines maps the JSON path of each field ("tasks[0].request.url") to
	// its line in the file.
	lines map[string]int
}

// name is the job's name as the file gives it, or "" when it has none.
func (j *fileJob) name() string {
	if m, ok := j.value.(map[string]any); ok {
		if s, ok := m["name"].(string); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// lineOf is the line of path, or of its closest parent in the file.
func (j *fileJob) lineOf(path string) int {
	for {
		if l, ok := j.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return j.line
		}
		path = path[:i]
	}
}

// fileError is what is wrong at a place of a job file.
type fileError struct {
	file    string
	line    int
	job     string // "jobs[2] (nightly-sync)", or "" for the file as a whole
	field   string
	message string
}

func (e fileError) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: ", e.file, e.line)
	if e.job != "" {
		b.WriteString(e.job + ": ")
	}
	if e.field != "" {
		b.WriteString(e.field + ": ")
	}
	b.WriteString(e.message)
	return b.String()
}

// fileErrors is every problem found in a job file; it is an error.
type fileErrors []fileError

func (fe fileErrors) Error() string {
	lines := make([]string, len(fe))
	for i, e := range fe {
		lines[i] = e.String()
	}
	return strings.Join(lines, "\n")
}

// readJobFile reads the jobs of a file: YAML (one or more documents, each a
// job or a list of jobs) or JSON (a job or a list of jobs). A syntax error
// is a fileErrors naming the line.
func readJobFile(name string, r io.Reader) ([]*fileJob, error) {
	src, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	var docs []docRoot
	if trimmed := bytes.TrimSpace(src); len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		docs, err = readJSONDoc(src)
	} else {
		docs, err = readYAMLDocs(src)
	}
	if err != nil {
		var fe fileErrors
		if errors.As(err, &fe) {
			for i := range fe {
				fe[i].file = name
			}
		}
		return nil, err
	}
	var jobs []*fileJob
	for _, d := range docs {
		switch v := d.value.(type) {
		case nil:
			continue // an empty document
		case map[string]any:
			jobs = append(jobs, &fileJob{file: name, line: d.lines[""], value: v, lines: d.lines})
		case []any:
			for i, item := range v {
				prefix := "[" + strconv.Itoa(i) + "]"
				lines := map[string]int{}
				for p, l := range d.lines {
					if rest, ok := strings.CutPrefix(p, prefix); ok {
						lines[strings.TrimPrefix(rest, ".")] = l
					}
				}
				jobs = append(jobs, &fileJob{file: name, line: d.lines[prefix], value: item, lines: lines})
			}
		default:
			return nil, fileErrors{{file: name, line: d.lines[""], message: "a job file holds a job (a mapping) or a list of jobs"}}
		}
	}
	for i, j := range jobs {
		j.index = i
	}
	if len(jobs) == 0 {
		return nil, fileErrors{{file: name, line: 1, message: "no job in the file"}}
	}
	return jobs, nil
}

// docRoot is a document of a file as a JSON value, with each path's line.
type docRoot struct {
	value any
	lines map[string]int
}

func readYAMLDocs(src []byte) ([]docRoot, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []docRoot
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, yamlSyntaxError(err)
		}
		d := docRoot{lines: map[string]int{}}
		if d.value, err = yamlValue(&n, "", d.lines); err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
}

// yamlSyntaxError turns "yaml: line 4: ..." into a fileErrors.
func yamlSyntaxError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 1
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, after, ok := strings.Cut(rest, ":"); ok {
			if l, err := strconv.Atoi(n); err == nil {
				line, msg = l, strings.TrimSpace(after)
			}
		}
	}
	return fileErrors{{line: line, message: "not valid YAML: " + msg}}
}

// yamlValue converts a YAML node to a JSON value, recording the line of
// every path in lines. What JSON cannot say (non-string keys, keys given
// twice, infinities, custom tags) is refused, naming the line.
func yamlValue(n *yaml.Node, path string, lines map[string]int) (any, error) {
	if _, ok := lines[path]; !ok {
		lines[path] = n.Line
	}
	fail := func(format string, args ...any) error {
		return fileErrors{{line: n.Line, field: path, message: fmt.Sprintf(format, args...)}}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return yamlValue(n.Content[0], path, lines)
	case yaml.AliasNode:
		return yamlValue(n.Alias, path, lines)
	case yaml.MappingNode:
		obj := make(map[string]any, len(n.Content)/2)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || (k.Tag != "!!str" && k.Tag != "!!int" && k.Tag != "!!bool" && k.Tag != "!!float") {
				return nil, fileErrors{{line: k.Line, field: path, message: "keys must be strings (a YAML merge key << is not supported either)"}}
			}
			if first, dup := seen[k.Value]; dup {
				return nil, fileErrors{{line: k.Line, field: joinPath(path, k.Value), message: fmt.Sprintf("given twice (first on line %d)", first)}}
			}
			seen[k.Value] = k.Line
			child := joinPath(path, k.Value)
			lines[child] = k.Line
			val, err := yamlValue(v, child, lines)
			if err != nil {
				return nil, err
			}
			obj[k.Value] = val
		}
		return obj, nil
	case yaml.SequenceNode:
		arr := make([]any, len(n.Content))
		for i, item := range n.Content {
			val, err := yamlValue(item, path+"["+strconv.Itoa(i)+"]", lines)
			if err != nil {
				return nil, err
			}
			arr[i] = val
		}
		return arr, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, fail("%v", err)
			}
			return b, nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return nil, fail("%v", err)
			}
			return json.Number(strconv.FormatInt(i, 10)), nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, fail("%v", err)
			}
			if math.IsInf(f, 0) || math.IsNaN(f) {
				return nil, fail("%s is not a JSON number", n.Value)
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		case "!!str", "!!timestamp", "!!binary":
			return n.Value, nil
		}
		return nil, fail("the YAML tag %s is not supported", n.Tag)
	}
	return nil, fail("unsupported YAML node")
}

// readJSONDoc reads a JSON document, recording the line of every path.
func readJSONDoc(src []byte) ([]docRoot, error) {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	lineAt := func(offset int64) int { return 1 + bytes.Count(src[:min(offset, int64(len(src)))], []byte("\n")) }
	d := docRoot{lines: map[string]int{}}
	var value func(path string) (any, error)
	value = func(path string) (any, error) {
		// The offset before the token is after the previous one: skip
		// whitespace to find the line of the value itself.
		start := dec.InputOffset()
		for start < int64(len(src)) && strings.ContainsRune(" \t\r\n:,", rune(src[start])) {
			start++
		}
		if _, ok := d.lines[path]; !ok {
			d.lines[path] = lineAt(start)
		}
		tok, err := dec.Token()
		if err != nil {
			return nil, jsonSyntaxError(err, lineAt(dec.InputOffset()))
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				obj := map[string]any{}
				seen := map[string]int{}
				for dec.More() {
					keyLine := lineAt(skipSpace(src, dec.InputOffset()))
					kt, err := dec.Token()
					if err != nil {
						return nil, jsonSyntaxError(err, lineAt(dec.InputOffset()))
					}
					key := kt.(string)
					child := joinPath(path, key)
					if first, dup := seen[key]; dup {
						return nil, fileErrors{{line: keyLine, field: child, message: fmt.Sprintf("given twice (first on line %d)", first)}}
					}
					seen[key] = keyLine
					d.lines[child] = keyLine
					v, err := value(child)
					if err != nil {
						return nil, err
					}
					obj[key] = v
				}
				if _, err := dec.Token(); err != nil {
					return nil, jsonSyntaxError(err, lineAt(dec.InputOffset()))
				}
				return obj, nil
			case '[':
				arr := []any{}
				for i := 0; dec.More(); i++ {
					v, err := value(path + "[" + strconv.Itoa(i) + "]")
					if err != nil {
						return nil, err
					}
					arr = append(arr, v)
				}
				if _, err := dec.Token(); err != nil {
					return nil, jsonSyntaxError(err, lineAt(dec.InputOffset()))
				}
				return arr, nil
			}
		}
		return tok, nil
	}
	v, err := value("")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fileErrors{{line: lineAt(dec.InputOffset()), message: "unexpected data after the JSON value"}}
	}
	d.value = v
	return []docRoot{d}, nil
}

func skipSpace(src []byte, offset int64) int64 {
	for offset < int64(len(src)) && strings.ContainsRune(" \t\r\n,", rune(src[offset])) {
		offset++
	}
	return offset
}

func jsonSyntaxError(err error, line int) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fileErrors{{line: line, message: "not valid JSON: " + se.Error()}}
	}
	return fileErrors{{line: line, message: "not valid JSON: " + err.Error()}}
}

// joinPath appends a key to a JSON path.
func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
