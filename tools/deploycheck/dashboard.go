package deploycheck

import (
	"encoding/json"
	"fmt"
	"os"
)

// Dashboard is the part of a Grafana dashboard's JSON model the checks read.
type Dashboard struct {
	Title      string  `json:"title"`
	UID        string  `json:"uid"`
	Panels     []Panel `json:"panels"`
	Templating struct {
		List []Variable `json:"list"`
	} `json:"templating"`
}

// Panel is a panel, or a row holding panels.
type Panel struct {
	Title      string   `json:"title"`
	Type       string   `json:"type"`
	Datasource *DSRef   `json:"datasource"`
	Targets    []Target `json:"targets"`
	Panels     []Panel  `json:"panels"`
}

// Target is one query of a panel.
type Target struct {
	Expr       string `json:"expr"`
	RefID      string `json:"refId"`
	Datasource *DSRef `json:"datasource"`
}

// DSRef points at a data source, here through the dashboard's variable.
type DSRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Variable is a templating variable.
type Variable struct {
	Name  string          `json:"name"`
	Type  string          `json:"type"`
	Query json.RawMessage `json:"query"`
}

// Query is one PromQL expression of the dashboard and where it is.
type Query struct {
	Where string
	Expr  string
}

// ReadDashboard reads a dashboard's JSON model.
func ReadDashboard(path string) (*Dashboard, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d Dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &d, nil
}

// AllPanels returns every panel, those inside rows included.
func (d *Dashboard) AllPanels() []Panel {
	var out []Panel
	var walk func([]Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// Queries returns every panel target's expression and every query
// variable's (label_values(metric, label) reads metric).
func (d *Dashboard) Queries() ([]Query, error) {
	var out []Query
	for _, p := range d.AllPanels() {
		for _, t := range p.Targets {
			out = append(out, Query{Where: fmt.Sprintf("panel %q target %s", p.Title, t.RefID), Expr: t.Expr})
		}
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		var q string
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var obj struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &obj); err != nil {
				return nil, fmt.Errorf("variable %s: query is neither a string nor {query}", v.Name)
			}
			q = obj.Query
		}
		expr, err := labelValuesSelector(q)
		if err != nil {
			return nil, fmt.Errorf("variable %s: %w", v.Name, err)
		}
		out = append(out, Query{Where: "variable " + v.Name, Expr: expr})
	}
	return out, nil
}

// labelValuesSelector turns Grafana's label_values(selector, label) into the
// selector; other queries are returned as they are.
func labelValuesSelector(q string) (string, error) {
	const fn = "label_values("
	if len(q) < len(fn) || q[:len(fn)] != fn || q[len(q)-1] != ')' {
		return q, nil
	}
	inner := q[len(fn) : len(q)-1]
	depth := 0
	for i := len(inner) - 1; i >= 0; i-- {
		switch inner[i] {
		case '}', ')':
			depth++
		case '{', '(':
			depth--
		case ',':
			if depth == 0 {
				return inner[:i], nil
			}
		}
	}
	return "", fmt.Errorf("label_values(%s): want label_values(selector, label)", inner)
}
