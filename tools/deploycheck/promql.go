package deploycheck

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	dto "github.com/prometheus/client_model/go"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// promqlParser parses PromQL as Prometheus does by default.
var promqlParser = parser.NewParser(parser.Options{})

// grafanaIntervals are Grafana's built-in interval variables, which stand
// for a duration in a range or subquery.
var grafanaIntervals = regexp.MustCompile(`\$(__rate_interval|__interval|__range)\b|\$\{(__rate_interval|__interval|__range)\}`)

// grafanaVariable is any other dashboard variable ($name or ${name}), which
// the dashboards use only inside label matchers' values.
var grafanaVariable = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// MetricNames parses a PromQL expression (Grafana's variables allowed) and
// returns the metric names its selectors read, sorted and unique. A selector
// without a metric name (only label matchers) is an error: its metric cannot
// be checked.
func MetricNames(expr string) ([]string, error) {
	q := grafanaIntervals.ReplaceAllString(expr, "5m")
	q = grafanaVariable.ReplaceAllString(q, "x")
	e, err := promqlParser.ParseExpr(q)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", expr, err)
	}
	var names []string
	var inspectErr error
	parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
		vs, ok := n.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		if name == "" {
			for _, m := range vs.LabelMatchers {
				if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
					name = m.Value
				}
			}
		}
		if name == "" {
			inspectErr = fmt.Errorf("%q: selector %s names no metric", expr, vs)
			return nil
		}
		names = append(names, name)
		return nil
	})
	if inspectErr != nil {
		return nil, inspectErr
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// BaseMetric maps a series name to the metric family it belongs to in a
// scrape (families: each family's type by name): a histogram's name_bucket,
// name_sum and name_count and a summary's name_sum and name_count belong to
// name; any other series only to a family of its own name. "" when none.
func BaseMetric(series string, families map[string]dto.MetricType) string {
	if _, ok := families[series]; ok {
		return series
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(series, suffix)
		if !ok {
			continue
		}
		switch families[base] {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			return base
		case dto.MetricType_SUMMARY:
			if suffix != "_bucket" {
				return base
			}
		}
	}
	return ""
}
