package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/herald-sched/herald/client"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/openapi"
)

// checkedJob is a job of a file that passed the checks that need no server.
type checkedJob struct {
	*fileJob
	// input is what is sent.
	input client.JobInput
	// spec is the job as the server will keep it: validated, its defaults
	// filled in (for comparing with what the server has).
	spec jobspec.Job
	// pausedGiven says whether the file sets paused.
	pausedGiven bool
}

// localLimits are jobspec's limits with those a server may raise (--max-tasks,
// --max-request-timeout) left to the server.
var localLimits = jobspec.Limits{MaxTasks: math.MaxInt32, MaxEdges: math.MaxInt32, MaxTimeout: 100 * 365 * 24 * time.Hour}

// checkJobs checks the jobs of a file before anything is sent, as far as
// that can be done without the server: against the API document's JobInput
// schema (unknown fields, types, enums, bounds), then the server's own
// validation (jobspec: durations, cron expressions and time zones, the DAG,
// references between tasks), and names given twice in the file. Left to the
// server: whether target URLs are allowed (its SSRF guard and allowed
// networks), whether devices exist, and its own limits. All or nothing: any
// problem is returned, naming file, line and field.
func checkJobs(jobs []*fileJob) ([]*checkedJob, error) {
	var errs fileErrors
	var out []*checkedJob
	names := map[string]*fileJob{}
	for _, j := range jobs {
		cj, jerrs := checkJob(j)
		errs = append(errs, jerrs...)
		if name := j.name(); name != "" {
			if first, dup := names[name]; dup {
				errs = append(errs, fileError{file: j.file, line: j.lineOf("name"), job: jobLabel(j), field: "name",
					message: fmt.Sprintf("%q is also the name of jobs[%d] (line %d): apply finds jobs by name", name, first.index, first.line)})
			} else {
				names[name] = j
			}
		}
		if cj != nil {
			out = append(out, cj)
		}
	}
	if len(errs) > 0 {
		slices.SortStableFunc(errs, func(a, b fileError) int { return cmp.Compare(a.line, b.line) })
		return nil, errs
	}
	return out, nil
}

// jobLabel names a job of a file in messages: jobs[2] (nightly-sync).
func jobLabel(j *fileJob) string {
	label := "jobs[" + strconv.Itoa(j.index) + "]"
	if name := j.name(); name != "" {
		label += " (" + name + ")"
	}
	return label
}

func checkJob(j *fileJob) (*checkedJob, fileErrors) {
	var errs fileErrors
	add := func(path, msg string) {
		errs = append(errs, fileError{file: j.file, line: j.lineOf(path), job: jobLabel(j), field: path, message: msg})
	}
	raw, err := json.Marshal(j.value)
	if err != nil {
		add("", err.Error())
		return nil, errs
	}
	schema, err := jobInputSchema()
	if err != nil {
		add("", err.Error())
		return nil, errs
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		add("", err.Error())
		return nil, errs
	}
	schemaErrors(schema, generic, add)
	checkDurations(schema, generic, "", add)
	if len(errs) > 0 {
		return nil, errs
	}

	cj := &checkedJob{fileJob: j}
	if obj, ok := j.value.(map[string]any); ok {
		_, cj.pausedGiven = obj["paused"]
	}
	if err := decodeStrict(raw, &cj.input); err != nil {
		add("", err.Error())
		return nil, errs
	}
	if err := decodeStrict(raw, &cj.spec); err != nil {
		add("", err.Error())
		return nil, errs
	}
	err = cj.spec.Validate(time.Now(), localLimits, func(string) error { return nil })
	var fe jobspec.Errors
	if errors.As(err, &fe) {
		for _, e := range fe {
			add(e.Field, e.Message)
		}
		return nil, errs
	}
	if err != nil {
		add("", err.Error())
		return nil, errs
	}
	return cj, nil
}

func decodeStrict(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// jobInputSchema is the JobInput schema of the API document built into this
// binary.
var jobInputSchema = sync.OnceValues(func() (*openapi3.Schema, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Document)
	if err != nil {
		return nil, fmt.Errorf("load the API document: %w", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("the API document: %w", err)
	}
	s := doc.Components.Schemas["JobInput"]
	if s == nil || s.Value == nil {
		return nil, errors.New("the API document has no JobInput schema")
	}
	return s.Value, nil
})

var (
	unsupportedProperty = regexp.MustCompile(`^property "(.*)" is unsupported$`)
	missingProperty     = regexp.MustCompile(`^property "(.*)" is missing$`)
)

// schemaErrors validates v against schema and adds each problem at its path.
func schemaErrors(schema *openapi3.Schema, v any, add func(path, msg string)) {
	err := schema.VisitJSON(v, openapi3.MultiErrors())
	if err == nil {
		return
	}
	var all openapi3.MultiError
	if !errors.As(err, &all) {
		all = openapi3.MultiError{err}
	}
	for _, e := range flatten(all) {
		var se *openapi3.SchemaError
		if !errors.As(e, &se) {
			add("", e.Error())
			continue
		}
		path := pointerPath(v, se.JSONPointer())
		msg := se.Reason
		if m := unsupportedProperty.FindStringSubmatch(msg); m != nil {
			path, msg = joinPath(path, m[1]), "unknown field"
		} else if m := missingProperty.FindStringSubmatch(msg); m != nil {
			path, msg = joinPath(path, m[1]), "is required"
		}
		add(path, msg)
	}
}

func flatten(errs openapi3.MultiError) []error {
	var out []error
	for _, e := range errs {
		var nested openapi3.MultiError
		if errors.As(e, &nested) {
			out = append(out, flatten(nested)...)
			continue
		}
		out = append(out, e)
	}
	return out
}

// pointerPath turns a JSON pointer's parts into a path like
// "tasks[0].request.url", following v to tell indexes from keys.
func pointerPath(v any, parts []string) string {
	path := ""
	for _, p := range parts {
		switch c := v.(type) {
		case []any:
			path += "[" + p + "]"
			if i, err := strconv.Atoi(p); err == nil && i >= 0 && i < len(c) {
				v = c[i]
			}
		case map[string]any:
			path, v = joinPath(path, p), c[p]
		default:
			path = joinPath(path, p)
		}
	}
	return path
}

// checkDurations adds a problem for every string where the schema wants a
// Duration that Go cannot parse (the schema says only "string").
func checkDurations(s *openapi3.Schema, v any, path string, add func(path, msg string)) {
	switch val := v.(type) {
	case map[string]any:
		for k, child := range val {
			ref := s.Properties[k]
			if ref == nil {
				ref = s.AdditionalProperties.Schema
			}
			checkDurationsRef(ref, child, joinPath(path, k), add)
		}
	case []any:
		for i, child := range val {
			checkDurationsRef(s.Items, child, path+"["+strconv.Itoa(i)+"]", add)
		}
	}
}

func checkDurationsRef(ref *openapi3.SchemaRef, v any, path string, add func(path, msg string)) {
	if ref == nil || ref.Value == nil {
		return
	}
	if strings.HasSuffix(ref.Ref, "/Duration") {
		if s, ok := v.(string); ok {
			if _, err := time.ParseDuration(s); err != nil {
				add(path, fmt.Sprintf("%q is not a duration: use a number with a unit (ms, s, m, h), such as \"30s\"", s))
			}
		}
		return
	}
	checkDurations(ref.Value, v, path, add)
}
