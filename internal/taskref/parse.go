package taskref

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/herald-sched/herald/internal/dag"
)

// Fields of a task that a reference can name.
const (
	// FieldStatus is the HTTP status code of the task's response.
	FieldStatus = "status"
	// FieldBody is the task's JSON response body.
	FieldBody = "body"
	// FieldInput is the run's input: a reference {{ input[.<path>] }} has
	// this field and no task.
	FieldInput = "input"
)

// Counts a fleet task keeps in its body, which {{ tasks.<id>.<count> }}
// names directly (the same as {{ tasks.<id>.body.<count> }}).
var fleetCounts = map[string]bool{"devices": true, "succeeded": true, "failed": true, "cancelled": true}

// InputKey is the key of the run's input in a results map (its Body; no
// entry: the run has no input). No task id is empty.
const InputKey = ""

const (
	open         = "{{"
	closing      = "}}"
	prefix       = "tasks."
	escapeTag    = "'{{'"
	excerptAfter = 8  // bytes of a template shown after an error position
	excerptMax   = 48 // longest excerpt, in bytes
)

// Ref is one reference found in a template.
type Ref struct {
	// Task is the id of the referenced task; empty for the run's input.
	Task string
	// Field is FieldStatus, FieldBody or FieldInput.
	Field string
	// Path selects a value inside the body or the input: member names and
	// array indexes, outermost first. It is empty for the whole body or
	// input and for the status.
	Path []string
	// FleetCount says the reference was written {{ tasks.<id>.<count> }}:
	// a fleet task's count (devices, succeeded, failed, cancelled), read
	// from its body.
	FleetCount bool
}

// IsInput reports whether r refers to the run's input.
func (r Ref) IsInput() bool { return r.Field == FieldInput }

// String returns the reference in its canonical form, such as
// "{{ tasks.fetch.body.items.0 }}".
func (r Ref) String() string {
	var b strings.Builder
	if r.IsInput() {
		b.WriteString("{{ input")
	} else {
		b.WriteString("{{ tasks.")
		b.WriteString(r.Task)
		b.WriteByte('.')
		b.WriteString(r.Field)
	}
	for _, seg := range r.Path {
		b.WriteByte('.')
		b.WriteString(seg)
	}
	b.WriteString(" }}")
	return b.String()
}

// SyntaxError reports a malformed template.
type SyntaxError struct {
	// Pointer locates the string holding the template in a JSON document,
	// as a JSON Pointer (RFC 6901) such as "/items/0/name". It is empty
	// for Parse and for a document that is itself a string.
	Pointer string
	// Offset is the byte offset in the template where the error was found;
	// for ParseJSON, in the string value once decoded.
	Offset int
	// Excerpt is the part of the template around the error, from the
	// start of the faulty reference where possible.
	Excerpt string
	// Msg says what is wrong.
	Msg string
}

// Error describes the error with its position, for example
//
//	template syntax error at byte 11 of "{{ tasks.a.bod }}": unknown field "bod", want status or body
func (e *SyntaxError) Error() string {
	at := ""
	if e.Pointer != "" {
		at = " in " + e.Pointer
	}
	return fmt.Sprintf("template syntax error%s at byte %d of %q: %s", at, e.Offset, e.Excerpt, e.Msg)
}

// Parse returns the references of the template s, in order of appearance
// (a reference that appears twice is listed twice), or a *SyntaxError.
// A template without "{{" has no references and costs no allocation.
func Parse(s string) ([]Ref, error) {
	if !strings.Contains(s, open) {
		return nil, nil
	}
	pieces, err := parse(s)
	if err != nil {
		return nil, err
	}
	var refs []Ref
	for _, p := range pieces {
		if p.isRef {
			refs = append(refs, p.ref)
		}
	}
	return refs, nil
}

// piece is a part of a parsed template: literal text or a reference.
type piece struct {
	text  string
	ref   Ref
	isRef bool
}

// parse splits a template into pieces. Escapes become text pieces; empty
// text pieces are left out, so a template that is exactly one reference
// gives exactly one piece.
func parse(s string) ([]piece, error) {
	var pieces []piece
	for pos := 0; pos < len(s); {
		i := strings.Index(s[pos:], open)
		if i < 0 {
			pieces = append(pieces, piece{text: s[pos:]})
			break
		}
		if i > 0 {
			pieces = append(pieces, piece{text: s[pos : pos+i]})
		}
		p := tagParser{s: s, start: pos + i, pos: pos + i + len(open)}
		tag, err := p.tag()
		if err != nil {
			return nil, err
		}
		pieces = append(pieces, tag)
		pos = p.pos
	}
	return pieces, nil
}

// tagParser parses one tag, from "{{" to "}}".
type tagParser struct {
	s     string
	start int // offset of "{{"
	pos   int
}

func (p *tagParser) tag() (piece, error) {
	p.skipSpace()
	if p.consume(escapeTag) {
		return piece{text: open}, p.close()
	}
	if strings.HasPrefix(p.s[p.pos:], "'") {
		return piece{}, p.fail("the only quoted text is '{{', the escape for a literal {{")
	}
	if p.consumeWord(FieldInput) {
		ref, err := p.path(Ref{Field: FieldInput})
		if err != nil {
			return piece{}, err
		}
		return piece{ref: ref, isRef: true}, p.close()
	}
	if !p.consume(prefix) {
		return piece{}, p.fail(`want a reference "tasks.<id>.status", "tasks.<id>.body[.<path>]" or "input[.<path>]" after "{{"`)
	}
	ref, err := p.ref()
	if err != nil {
		return piece{}, err
	}
	return piece{ref: ref, isRef: true}, p.close()
}

// ref parses what follows "tasks.".
func (p *tagParser) ref() (Ref, error) {
	idAt := p.pos
	id := p.ident()
	switch {
	case id == "":
		return Ref{}, p.fail(`want a task id after "tasks."`)
	case !dag.ValidID(id):
		p.pos = idAt
		return Ref{}, p.fail(fmt.Sprintf("task id is longer than %d characters", dag.MaxIDLength))
	case !p.consume("."):
		return Ref{}, p.fail(`want ".status" or ".body" after the task id`)
	}
	fieldAt := p.pos
	ref := Ref{Task: id, Field: p.ident()}
	if fleetCounts[ref.Field] {
		if strings.HasPrefix(p.s[p.pos:], ".") {
			return Ref{}, p.fail(ref.Field + " has no path")
		}
		return Ref{Task: id, Field: FieldBody, Path: []string{ref.Field}, FleetCount: true}, nil
	}
	if ref.Field != FieldStatus && ref.Field != FieldBody {
		p.pos = fieldAt
		return Ref{}, p.fail(fmt.Sprintf("unknown field %q, want status or body (or a fleet task's devices, succeeded, failed or cancelled)", ref.Field))
	}
	if ref.Field == FieldStatus && strings.HasPrefix(p.s[p.pos:], ".") {
		return Ref{}, p.fail("status has no path")
	}
	return p.path(ref)
}

// path parses the optional ".<segment>..." of a body or input reference.
func (p *tagParser) path(ref Ref) (Ref, error) {
	for p.consume(".") {
		seg := p.ident()
		if seg == "" {
			return Ref{}, p.fail("want a member name or an array index after the dot")
		}
		ref.Path = append(ref.Path, seg)
	}
	return ref, nil
}

// close consumes optional whitespace and "}}".
func (p *tagParser) close() error {
	p.skipSpace()
	if p.consume(closing) {
		return nil
	}
	if p.pos == len(p.s) {
		return p.fail(`unclosed reference, want "}}"`)
	}
	r, _ := utf8.DecodeRuneInString(p.s[p.pos:])
	return p.fail(fmt.Sprintf(`unexpected %q, want "}}"`, r))
}

func (p *tagParser) skipSpace() {
	for p.pos < len(p.s) && isSpace(p.s[p.pos]) {
		p.pos++
	}
}

// consumeWord consumes word when it is not the start of a longer
// identifier ("input", not "inputs").
func (p *tagParser) consumeWord(word string) bool {
	rest := p.s[p.pos:]
	if !strings.HasPrefix(rest, word) || len(rest) > len(word) && dag.IsIDByte(rest[len(word)]) {
		return false
	}
	p.pos += len(word)
	return true
}

func (p *tagParser) consume(tok string) bool {
	if strings.HasPrefix(p.s[p.pos:], tok) {
		p.pos += len(tok)
		return true
	}
	return false
}

// ident consumes a run of letters, digits, '_' and '-'.
func (p *tagParser) ident() string {
	start := p.pos
	for p.pos < len(p.s) && dag.IsIDByte(p.s[p.pos]) {
		p.pos++
	}
	return p.s[start:p.pos]
}

// fail returns a SyntaxError at the current position.
func (p *tagParser) fail(msg string) *SyntaxError {
	return &SyntaxError{Offset: p.pos, Excerpt: excerpt(p.s, p.start, p.pos), Msg: msg}
}

// excerpt returns s from the tag start to a little past pos, trimmed at the
// front if long, on UTF-8 boundaries.
func excerpt(s string, start, pos int) string {
	end := min(len(s), pos+excerptAfter)
	start = max(start, end-excerptMax)
	for start < end && !utf8.RuneStart(s[start]) {
		start++
	}
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end++
	}
	return s[start:end]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
