package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseError reports why ParseCron rejected a cron expression or time zone.
type ParseError struct {
	// Part names what is wrong: a field ("second", "minute", "hour",
	// "day-of-month", "month" or "day-of-week"), "expression" for the
	// expression as a whole (field count, macros), or "timezone".
	Part string
	// Reason explains the problem to an API user, e.g. "61 is out of range 0-59".
	Reason string
}

// Error returns "part: reason", e.g. "second: 61 is out of range 0-59".
func (e *ParseError) Error() string {
	return e.Part + ": " + e.Reason
}

// Indexes of the fields of a 6-field expression.
const (
	fieldSecond = iota
	fieldMinute
	fieldHour
	fieldDayOfMonth
	fieldMonth
	fieldDayOfWeek
	numFields
)

// fieldSpec describes the values one cron field accepts.
type fieldSpec struct {
	name     string
	min, max int
	// names[i], if any, is an upper-case alias for the value min+i.
	names []string
	// question reports whether "?" is accepted as a synonym of "*".
	question bool
	// sevenIsSunday reports whether 7 is accepted as a second name of 0 in
	// explicit values; "*" and "a/n" stop at 6.
	sevenIsSunday bool
}

// fieldSpecs returns the specification of each field, indexed by field.
func fieldSpecs() [numFields]fieldSpec {
	return [numFields]fieldSpec{
		fieldSecond:     {name: "second", min: 0, max: 59},
		fieldMinute:     {name: "minute", min: 0, max: 59},
		fieldHour:       {name: "hour", min: 0, max: 23},
		fieldDayOfMonth: {name: "day-of-month", min: 1, max: 31, question: true},
		fieldMonth: {name: "month", min: 1, max: 12, names: []string{
			"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
		fieldDayOfWeek: {name: "day-of-week", min: 0, max: 7, question: true, sevenIsSunday: true,
			names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
	}
}

// ParseCron parses a cron expression evaluated in the IANA time zone tz
// ("" means UTC). The expression has 5 fields (minute hour day-of-month
// month day-of-week; it fires at second 0) or 6 fields (second minute hour
// day-of-month month day-of-week), or is one of the macros @yearly,
// @annually, @monthly, @weekly, @daily, @midnight and @hourly. See the
// package documentation for the syntax and the daylight saving rules.
// Errors are of type *ParseError.
func ParseCron(expr, tz string) (Schedule, error) {
	fields, err := splitFields(expr)
	if err != nil {
		return nil, err
	}
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	var sets [numFields]uint64
	for i, spec := range fieldSpecs() {
		if sets[i], err = spec.parse(fields[i]); err != nil {
			return nil, err
		}
	}
	return newCron(sets, isWildcard(fields[fieldDayOfMonth]), isWildcard(fields[fieldDayOfWeek]), loc), nil
}

// maxExprLen bounds the length of a cron expression; the longest
// meaningful one lists every value of every field in well under 1 KiB.
const maxExprLen = 1024

// splitFields expands macros and returns the six fields of expr, with a
// second field of "0" prepended to a 5-field expression.
func splitFields(expr string) ([]string, error) {
	if len(expr) > maxExprLen {
		return nil, &ParseError{Part: "expression", Reason: fmt.Sprintf("longer than %d bytes", maxExprLen)}
	}
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "@") {
		expanded, err := expandMacro(expr)
		if err != nil {
			return nil, err
		}
		expr = expanded
	}
	fields := strings.Fields(expr)
	switch len(fields) {
	case numFields:
		return fields, nil
	case numFields - 1:
		return append([]string{"0"}, fields...), nil
	}
	return nil, &ParseError{Part: "expression", Reason: fmt.Sprintf(
		"got %d fields, want 5 (minute hour day-of-month month day-of-week) "+
			"or 6 (second minute hour day-of-month month day-of-week)", len(fields))}
}

// expandMacro returns the 6-field expression a macro such as "@daily" stands for.
func expandMacro(macro string) (string, error) {
	switch strings.ToLower(macro) {
	case "@yearly", "@annually":
		return "0 0 0 1 1 *", nil
	case "@monthly":
		return "0 0 0 1 * *", nil
	case "@weekly":
		return "0 0 0 * * 0", nil
	case "@daily", "@midnight":
		return "0 0 0 * * *", nil
	case "@hourly":
		return "0 0 * * * *", nil
	}
	reason := fmt.Sprintf("unknown macro %q; supported are @yearly, @annually, @monthly, "+
		"@weekly, @daily, @midnight and @hourly", macro)
	if strings.HasPrefix(strings.ToLower(macro), "@every") {
		reason += " (for fixed intervals use an \"every\" schedule)"
	}
	return "", &ParseError{Part: "expression", Reason: reason}
}

// loadZone returns the location named by the IANA zone name tz, UTC for "".
func loadZone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	if tz == "Local" {
		return nil, &ParseError{Part: "timezone", Reason: `"Local" is not an IANA time zone name`}
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, &ParseError{Part: "timezone", Reason: fmt.Sprintf("unknown time zone %q", tz)}
	}
	return loc, nil
}

// isWildcard reports whether a day field is unrestricted in the sense of
// Vixie cron's day matching rule: it starts with "*" or "?".
func isWildcard(field string) bool {
	return strings.HasPrefix(field, "*") || strings.HasPrefix(field, "?")
}

// parse returns the set of values a field's text selects, bit v standing for
// value v. Day-of-week 7 is folded into 0 (Sunday).
func (f fieldSpec) parse(text string) (uint64, error) {
	var set uint64
	for elem := range strings.SplitSeq(text, ",") {
		bits, err := f.parseElem(elem)
		if err != nil {
			return 0, err
		}
		set |= bits
	}
	if f.sevenIsSunday && set&(1<<7) != 0 {
		set = set&^(1<<7) | 1
	}
	return set, nil
}

// parseElem parses one element of a list: "*", "?", "a", "a-b", each
// optionally followed by "/step".
func (f fieldSpec) parseElem(elem string) (uint64, error) {
	if elem == "" {
		return 0, f.errorf("empty element in list")
	}
	base, stepText, hasStep := strings.Cut(elem, "/")
	lo, hi, err := f.parseRange(base, hasStep)
	if err != nil {
		return 0, err
	}
	step := 1
	if hasStep {
		if step, err = f.parseStep(stepText); err != nil {
			return 0, err
		}
	}
	var set uint64
	for v := lo; v <= hi; v += step {
		set |= 1 << v
	}
	return set, nil
}

// parseRange returns the bounds of "*", "?", "a" or "a-b". A single value
// followed by a step ("a/n") ranges up to the field's maximum.
func (f fieldSpec) parseRange(base string, hasStep bool) (lo, hi int, err error) {
	switch {
	case base == "*":
		return f.min, f.openMax(), nil
	case base == "?" && f.question:
		if hasStep {
			return 0, 0, f.errorf(`"?" cannot take a step`)
		}
		return f.min, f.openMax(), nil
	case base == "?":
		return 0, 0, f.errorf(`"?" is only allowed in day-of-month and day-of-week`)
	}
	loText, hiText, isRange := strings.Cut(base, "-")
	if lo, err = f.parseValue(loText); err != nil {
		return 0, 0, err
	}
	switch {
	case isRange:
		if hi, err = f.parseValue(hiText); err != nil {
			return 0, 0, err
		}
	case hasStep:
		hi = max(f.openMax(), lo)
	default:
		hi = lo
	}
	if lo > hi {
		return 0, 0, f.errorf("range %s is reversed (ranges do not wrap around; split it into two)", base)
	}
	return lo, hi, nil
}

// openMax returns the upper bound of "*" and of "a/n".
func (f fieldSpec) openMax() int {
	if f.sevenIsSunday {
		return f.max - 1
	}
	return f.max
}

// parseStep parses the n of "/n".
func (f fieldSpec) parseStep(text string) (int, error) {
	maxStep := f.openMax() - f.min
	if !isDigits(text) {
		return 0, f.errorf("step %q is not a number", text)
	}
	step, err := strconv.Atoi(text)
	if err != nil || step < 1 || step > maxStep {
		return 0, f.errorf("step %s is out of range 1-%d", text, maxStep)
	}
	return step, nil
}

// parseValue parses a number or a name of the field.
func (f fieldSpec) parseValue(text string) (int, error) {
	if isDigits(text) {
		v, err := strconv.Atoi(text)
		if err != nil || v < f.min || v > f.max {
			return 0, f.errorf("%s is out of range %d-%d", text, f.min, f.max)
		}
		return v, nil
	}
	upper := strings.ToUpper(text)
	for i, name := range f.names {
		if upper == name {
			return f.min + i, nil
		}
	}
	return 0, f.invalidValue(text)
}

// invalidValue explains why text is neither a number nor a name.
func (f fieldSpec) invalidValue(text string) error {
	if f.question && strings.ContainsAny(strings.ToUpper(text), "LW#") {
		return f.errorf("%q: the L, W and # extensions are not supported", text)
	}
	if text == "" {
		return f.errorf("missing value")
	}
	want := fmt.Sprintf("a number %d-%d", f.min, f.max)
	if len(f.names) > 0 {
		want += fmt.Sprintf(" or a name %s-%s", f.names[0], f.names[len(f.names)-1])
	}
	return f.errorf("%q is not valid, want %s", text, want)
}

// errorf returns a *ParseError naming the field.
func (f fieldSpec) errorf(format string, args ...any) error {
	return &ParseError{Part: f.name, Reason: fmt.Sprintf(format, args...)}
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
