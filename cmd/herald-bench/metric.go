package main

import (
	"encoding/json"
	"fmt"
	"math"
)

// Units of the figures.
const (
	unitPerSecond = "/s"
	unitMS        = "ms"
	unitMB        = "MB"
	unitSeconds   = "s"
	unitBytes     = "B"
	unitCount     = ""
	// unitAverage is a count per unit of work (statements per delivery):
	// shown with decimals, without a unit.
	unitAverage = "avg"
	// unitTimes is a ratio of two figures of this run.
	unitTimes = "×"
)

// metric is one figure a scenario produced.
type metric struct {
	// Name says what was measured, such as "deliveries".
	Name string `json:"name"`
	// Value is the figure, in Unit.
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Ratio is Value over the baseline's rate, for throughputs compared
	// with River's.
	Ratio *float64 `json:"ratio_to_baseline,omitempty"`
	// Target is the target for the figure, as text.
	Target string `json:"target,omitempty"`
	// Pass reports whether the target is met; nil without a target, or
	// when a ratio target has no baseline to compare with.
	Pass *bool `json:"pass,omitempty"`
	// Parts break the figure down (rows written by table, statements by
	// name), largest first.
	Parts []part `json:"parts,omitempty"`
}

// part is one item of a figure's breakdown.
type part struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// newMetric returns a figure without ratio or target.
func newMetric(name string, value float64, unit string) metric {
	return metric{Name: name, Value: value, Unit: unit}
}

// withRatio sets the figure's ratio to baseline, River's figure in the
// same unit (its rate, or its cost per job); a zero or NaN baseline (not
// measured in this run), or a value that could not be measured, leaves it
// unset.
func (m metric) withRatio(baseline float64) metric {
	if baseline > 0 && !math.IsNaN(m.Value) && !math.IsInf(baseline, 0) {
		r := m.Value / baseline
		m.Ratio = &r
	}
	return m
}

// withParts sets the figure's breakdown.
func (m metric) withParts(parts []part) metric {
	m.Parts = parts
	return m
}

// withTarget sets the figure's target and whether it is met.
func (m metric) withTarget(t target) metric {
	m.Target = t.String()
	m.Pass = t.met(m)
	return m
}

// target is a bound a figure, or its ratio to the baseline, must respect.
type target struct {
	// atLeast makes limit a lower bound; otherwise it is an upper bound.
	atLeast bool
	limit   float64
	// onRatio bounds the ratio to the baseline rather than the value.
	onRatio bool
	unit    string
}

// atMost is a target of at most limit (in unit).
func atMost(limit float64, unit string) target { return target{limit: limit, unit: unit} }

// atLeast is a target of at least limit (in unit).
func atLeast(limit float64, unit string) target {
	return target{atLeast: true, limit: limit, unit: unit}
}

// ratioAtLeast is a target of at least limit times the baseline.
func ratioAtLeast(limit float64) target { return target{atLeast: true, limit: limit, onRatio: true} }

// String renders the target for the table, such as "≤ 20 ms".
func (t target) String() string {
	op := "≤"
	if t.atLeast {
		op = "≥"
	}
	if t.onRatio {
		return fmt.Sprintf("%s %s× baseline", op, formatNumber(t.limit))
	}
	if t.limit == 0 && !t.atLeast {
		return "= 0"
	}
	s := fmt.Sprintf("%s %s", op, formatNumber(t.limit))
	if t.unit != "" {
		s += " " + t.unit
	}
	return s
}

// met reports whether m meets the target; nil when it cannot tell.
func (t target) met(m metric) *bool {
	v := m.Value
	if t.onRatio {
		if m.Ratio == nil {
			return nil
		}
		v = *m.Ratio
	}
	if math.IsNaN(v) {
		return nil
	}
	ok := v <= t.limit
	if t.atLeast {
		ok = v >= t.limit
	}
	return &ok
}

// MarshalJSON writes the figure with null for a value that could not be
// measured (NaN), which JSON cannot represent.
func (m metric) MarshalJSON() ([]byte, error) {
	type plain metric
	out := struct {
		plain
		Value *float64 `json:"value"`
	}{plain: plain(m)}
	if !math.IsNaN(m.Value) && !math.IsInf(m.Value, 0) {
		out.Value = &m.Value
	}
	return json.Marshal(out)
}
