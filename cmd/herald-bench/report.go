package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
)

// report is everything a run produced, as written to JSON.
type report struct {
	Machine machine  `json:"machine"`
	Size    size     `json:"size"`
	Results []result `json:"results"`
}

// writeJSON writes the report to path, indented.
func (r *report) writeJSON(path string) error {
	raw, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// printTable writes the machine and one row per figure: scenario, metric,
// value, ratio to the baseline, target and PASS or MISS.
func (r *report) printTable(w io.Writer) error {
	m := &r.Machine
	fmt.Fprintf(w, "\nherald-bench, size %s, %s\n", r.Size.Name, m.Date)
	fmt.Fprintf(w, "machine: %d cores (%s), %s/%s, %s\n", m.Cores, m.CPU, m.OS, m.Arch, m.Go)
	fmt.Fprintf(w, "host probe: system call %.2f µs, loopback TCP round trip %.1f µs, loopback HTTP round trip %.1f µs\n",
		m.HostProbe.SyscallMicros, m.HostProbe.TCPRoundTripMicros, m.HostProbe.HTTPRoundTripMicros)
	fmt.Fprintf(w, "database: %s\n  %s\n  %s\n  cost statistics: %s\n", m.Database, m.PostgreSQL, formatSettings(m.PostgreSQLSettings), m.CostStats)
	fmt.Fprintf(w, "herald: %s\n\n", m.Herald)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tMETRIC\tVALUE\tRATIO\tTARGET\tRESULT")
	for _, res := range r.Results {
		switch {
		case res.Error != "":
			fmt.Fprintf(tw, "%s\tFAILED: %s\t\t\t\t\n", res.Scenario, res.Error)
		case res.Skipped != "":
			fmt.Fprintf(tw, "%s\tskipped: %s\t\t\t\t\n", res.Scenario, res.Skipped)
		}
		for _, mt := range res.Metrics {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", res.Scenario, mt.Name, formatValue(mt.Value, mt.Unit),
				formatRatio(mt.Ratio), mt.Target, formatPass(mt.Pass))
			for _, p := range mt.Parts[:min(len(mt.Parts), costPartsShown)] {
				fmt.Fprintf(tw, "%s\t  · %s\t%s\t\t\t\n", res.Scenario, p.Name, formatValue(p.Value, unitAverage))
			}
		}
	}
	return tw.Flush()
}

// formatSettings renders server settings as name=value pairs.
func formatSettings(settings map[string]string) string {
	var parts []string
	for _, name := range []string{"max_connections", "shared_buffers", "fsync", "synchronous_commit"} {
		if v, ok := settings[name]; ok {
			parts = append(parts, name+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// formatValue renders a figure with its unit: rates and large counts
// without decimals, small figures with a few.
func formatValue(v float64, unit string) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	var s string
	switch a := math.Abs(v); {
	case unit == unitAverage && a >= 100:
		return formatNumber(math.Round(v))
	case unit == unitAverage:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case unit == unitCount || a >= 100:
		s = formatNumber(math.Round(v))
	case a >= 10:
		s = strconv.FormatFloat(v, 'f', 1, 64)
	default:
		s = strconv.FormatFloat(v, 'f', 2, 64)
	}
	if unit != "" {
		if unit != unitPerSecond && unit != unitTimes {
			s += " "
		}
		s += unit
	}
	return s
}

// formatNumber renders v with thousands separators when it is whole, and
// with as many decimals as it needs otherwise.
func formatNumber(v float64) string {
	if v != math.Trunc(v) || math.Abs(v) >= 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	digits := strconv.FormatInt(int64(math.Abs(v)), 10)
	var b strings.Builder
	if v < 0 {
		b.WriteByte('-')
	}
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// formatRatio renders a ratio to the baseline, empty when there is none.
func formatRatio(r *float64) string {
	if r == nil {
		return ""
	}
	return strconv.FormatFloat(*r, 'f', 2, 64) + "×"
}

// formatPass renders a target's outcome.
func formatPass(pass *bool) string {
	switch {
	case pass == nil:
		return ""
	case *pass:
		return "PASS"
	}
	return "MISS"
}
