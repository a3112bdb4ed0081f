// Package condition compiles and evaluates the conditions of DAG tasks
// ("when"): CEL expressions (cel.dev/cel-go) over the run's input and the
// outcomes of upstream tasks, checked at registration and evaluated when the
// task is about to run.
//
// An expression sees two variables, both dynamically typed:
//
//	input                   the run's input (JSON), null when the run has none
//	tasks.<id>.state        the upstream task's state ("succeeded", "failed", "skipped", ...)
//	tasks.<id>.status       the HTTP status of its last response, 0 when none
//	tasks.<id>.body         its JSON response body, null when none was kept
//
// JSON numbers are integers when integral, doubles otherwise; comparisons
// across numeric types work (tasks.a.body.count > 2.5). The expression must
// be boolean.
package condition

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// MaxLength is the longest expression, in bytes.
const MaxLength = 4096

// costLimit bounds the work of one evaluation (CEL's cost units: about one
// per operation), so that a condition cannot spin.
const costLimit = 100_000

// Condition is a compiled, type-checked expression.
type Condition struct {
	src string
	prg cel.Program
	// Tasks are the ids of the tasks the expression names (tasks.<id> or
	// tasks["<id>"]), in order of first use.
	Tasks []string
	// Dynamic says the expression uses tasks otherwise (tasks[x], "a" in
	// tasks, size(tasks)): any upstream task may matter.
	Dynamic bool
	// Input says the expression refers to the run's input.
	Input bool
}

// Outcome is what an upstream task ended with, as a condition sees it.
type Outcome struct {
	// State is the task run's state.
	State string
	// Status is the HTTP status of its last response; 0 when none.
	Status int
	// Body is its JSON response body; nil when none was kept.
	Body json.RawMessage
}

var (
	envOnce sync.Once
	env     *cel.Env
	envErr  error
)

func environment() (*cel.Env, error) {
	envOnce.Do(func() {
		env, envErr = cel.NewEnv(
			cel.Variable("input", cel.DynType),
			cel.Variable("tasks", cel.MapType(cel.StringType, cel.DynType)),
			cel.CrossTypeNumericComparisons(true),
			cel.ParserExpressionSizeLimit(MaxLength),
		)
	})
	return env, envErr
}

// Compile parses and type-checks expr, which must be boolean. The error
// is CEL's, with line and column.
func Compile(expr string) (*Condition, error) {
	if len(expr) > MaxLength {
		return nil, fmt.Errorf("is longer than %d bytes", MaxLength)
	}
	if strings.TrimSpace(expr) == "" {
		return nil, errors.New("is empty")
	}
	e, err := environment()
	if err != nil {
		return nil, err
	}
	checked, iss := e.Compile(expr)
	if iss.Err() != nil {
		return nil, errors.New(strings.TrimSpace(iss.Err().Error()))
	}
	if t := checked.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, fmt.Errorf("must be boolean, is %s", t)
	}
	prg, err := e.Program(checked, cel.CostLimit(costLimit))
	if err != nil {
		return nil, err
	}
	c := &Condition{src: expr, prg: prg}
	c.Tasks, c.Dynamic, c.Input = names(checked.NativeRep())
	return c, nil
}

// names lists the tasks an expression names, whether it also uses tasks
// in another way, and whether it refers to the input.
func names(a *ast.AST) (tasks []string, dynamic, input bool) {
	add := func(id string) {
		if !slices.Contains(tasks, id) {
			tasks = append(tasks, id)
		}
	}
	// Identifiers "tasks" used as the operand of a select or of an index by
	// a constant string are accounted for; any other use is dynamic.
	accounted := map[int64]bool{}
	ast.PreOrderVisit(a.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		switch e.Kind() {
		case ast.SelectKind:
			if op := e.AsSelect().Operand(); op.Kind() == ast.IdentKind && op.AsIdent() == "tasks" {
				add(e.AsSelect().FieldName())
				accounted[op.ID()] = true
			}
		case ast.CallKind:
			call := e.AsCall()
			if call.FunctionName() != operators.Index || len(call.Args()) != 2 {
				return
			}
			op, key := call.Args()[0], call.Args()[1]
			if op.Kind() != ast.IdentKind || op.AsIdent() != "tasks" || key.Kind() != ast.LiteralKind {
				return
			}
			if s, ok := key.AsLiteral().(types.String); ok {
				add(string(s))
				accounted[op.ID()] = true
			}
		}
	}))
	ast.PreOrderVisit(a.Expr(), ast.NewExprVisitor(func(e ast.Expr) {
		if e.Kind() != ast.IdentKind {
			return
		}
		switch e.AsIdent() {
		case "tasks":
			dynamic = dynamic || !accounted[e.ID()]
		case "input":
			input = true
		}
	}))
	return tasks, dynamic, input
}

// Eval evaluates the condition over the run's input (nil: none) and the
// outcomes of upstream tasks by id. An error says what failed, with the
// expression.
func (c *Condition) Eval(input json.RawMessage, tasks map[string]Outcome) (bool, error) {
	in, err := decode(input)
	if err != nil {
		return false, c.fail(fmt.Errorf("input: %w", err))
	}
	ts := make(map[string]any, len(tasks))
	for id, o := range tasks {
		body, err := decode(o.Body)
		if err != nil {
			return false, c.fail(fmt.Errorf("body of task %s: %w", id, err))
		}
		ts[id] = map[string]any{"state": o.State, "status": int64(o.Status), "body": body}
	}
	out, _, err := c.prg.Eval(map[string]any{"input": in, "tasks": ts})
	if err != nil {
		return false, c.fail(err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, c.fail(fmt.Errorf("evaluated to %v (%s), not a boolean", out.Value(), out.Type().TypeName()))
	}
	return b, nil
}

func (c *Condition) fail(err error) error {
	return fmt.Errorf("condition %q failed: %w", c.src, err)
}

// decode reads a JSON value for CEL: integral numbers as int64, others as
// float64; nil or empty as null.
func decode(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return numbers(v), nil
}

func numbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// cache keeps compiled conditions by expression, for evaluations at run
// time: a task's condition is compiled once per process, not per attempt.
var cache struct {
	sync.Mutex
	m map[string]*Condition
}

// maxCached bounds the cache; it is emptied when full.
const maxCached = 1024

// Cached returns the compiled expr from the process's cache, compiling it
// the first time.
func Cached(expr string) (*Condition, error) {
	cache.Lock()
	c := cache.m[expr]
	cache.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := Compile(expr)
	if err != nil {
		return nil, err
	}
	cache.Lock()
	if cache.m == nil || len(cache.m) >= maxCached {
		cache.m = map[string]*Condition{}
	}
	cache.m[expr] = c
	cache.Unlock()
	return c, nil
}
