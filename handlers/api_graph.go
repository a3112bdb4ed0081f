package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/views"
)

// graphResponse is a job's topology; for a run, each node has its state.
type graphResponse struct {
	Nodes []graphNode `json:"nodes"`
	Edges []graphEdge `json:"edges"`
}

type graphNode struct {
	ID     string `json:"id"`
	Level  int    `json:"level"`
	Method string `json:"method"`
	URL    string `json:"url"`
	State  string `json:"state,omitempty"`
	// When is the task's condition, if it has one.
	When string `json:"when,omitempty"`
}

type graphEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	// RunIf is the child's run_if when it is not all_succeeded: the edge
	// of a failure branch (any_failed) or of an all_done task.
	RunIf string `json:"run_if,omitempty"`
}

func buildGraph(tasks []jobspec.Task, states map[string]string) (*graphResponse, error) {
	g, err := jobspec.Graph(tasks)
	if err != nil {
		return nil, err
	}
	levels := g.Levels()
	out := &graphResponse{Nodes: make([]graphNode, len(tasks)), Edges: []graphEdge{}}
	for i := range tasks {
		t := &tasks[i]
		out.Nodes[i] = graphNode{ID: t.ID, Level: levels[i], Method: t.Request.Method, URL: t.Request.URL, State: states[t.ID], When: t.When}
		runIf := ""
		if t.HandlesFailure() {
			runIf = t.RunIf
		}
		for _, p := range t.DependsOn {
			out.Edges = append(out.Edges, graphEdge{From: p, To: t.ID, RunIf: runIf})
		}
	}
	return out, nil
}

// graphFormat reads ?format=json|dot|svg (default json).
func graphFormat(r *http.Request) (string, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		return "json", nil
	case "dot", "svg":
		return f, nil
	default:
		return "", invalidFields(http.StatusBadRequest, fieldError("format", "must be json, dot or svg"))
	}
}

// jobGraph is GET /v1/jobs/{jobID}/graph: the job's topology.
func (a *API) jobGraph(w http.ResponseWriter, r *http.Request) {
	a.serveGraph(w, r, func(ctx context.Context) (string, *graphResponse, error) {
		id, err := parseUUID(chi.URLParam(r, "jobID"), "job")
		if err != nil {
			return "", nil, err
		}
		if err := a.seeJob(ctx, id); err != nil {
			return "", nil, err
		}
		j, err := store.New(a.pool).GetJob(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", nil, notFound("job " + id.String())
		}
		if err != nil {
			return "", nil, err
		}
		var tasks []jobspec.Task
		if err := json.Unmarshal(j.Tasks, &tasks); err != nil {
			return "", nil, err
		}
		g, err := buildGraph(tasks, nil)
		return j.Name, g, err
	})
}

// runGraph is GET /v1/runs/{runID}/graph: the run's tasks with their states.
func (a *API) runGraph(w http.ResponseWriter, r *http.Request) {
	a.serveGraph(w, r, func(ctx context.Context) (string, *graphResponse, error) {
		id, err := parseUUID(chi.URLParam(r, "runID"), "run")
		if err != nil {
			return "", nil, err
		}
		if err := a.seeRun(ctx, id); err != nil {
			return "", nil, err
		}
		g, err := a.runGraphOf(ctx, id)
		return "run " + id.String(), g, err
	})
}

// runGraphOf is a run's topology, as its tasks were when it started, with
// their states now.
func (a *API) runGraphOf(ctx context.Context, id uuid.UUID) (*graphResponse, error) {
	taskRuns, err := store.New(a.pool).ListTaskRuns(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(taskRuns) == 0 {
		if _, err := store.New(a.pool).GetRun(ctx, id); errors.Is(err, pgx.ErrNoRows) {
			return nil, notFound("run " + id.String())
		}
	}
	return runGraphFrom(taskRuns)
}

// runGraphFrom is the topology of a run's task runs (all of them).
func runGraphFrom(taskRuns []store.TaskRun) (*graphResponse, error) {
	tasks := make([]jobspec.Task, len(taskRuns))
	states := make(map[string]string, len(taskRuns))
	for i, tr := range taskRuns {
		if err := json.Unmarshal(tr.Spec, &tasks[i]); err != nil {
			return nil, err
		}
		states[tr.TaskID] = string(tr.State)
	}
	return buildGraph(tasks, states)
}

func (a *API) serveGraph(w http.ResponseWriter, r *http.Request, load func(context.Context) (string, *graphResponse, error)) {
	format, err := graphFormat(r)
	if err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	name, g, err := load(r.Context())
	if err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	switch format {
	case "json":
		writeJSON(w, http.StatusOK, g)
	case "svg":
		drawing, err := layoutAll(g)
		if err != nil {
			writeError(w, r, a.logger, err)
			return
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		_ = views.GraphDocument(drawing).Render(r.Context(), w)
	default:
		w.Header().Set("Content-Type", "text/vnd.graphviz; charset=utf-8")
		_, _ = w.Write([]byte(g.dot(name)))
	}
}

// dot renders the graph in Graphviz's DOT language.
func (g *graphResponse) dot(name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n  rankdir=LR;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"sans-serif\"];\n", dotQuote(name))
	for _, n := range g.Nodes {
		label := n.ID + "\n" + n.Method + " " + n.URL
		if n.When != "" {
			label += "\nwhen " + n.When
		}
		attrs := "label=" + dotQuote(label)
		if n.State != "" {
			st := views.StyleOf(n.State)
			attrs += ", tooltip=" + dotQuote(n.State) + ", fillcolor=" + dotQuote(st.Fill) + ", color=" + dotQuote(st.Stroke)
			if st.Dashed {
				attrs += `, style="rounded,filled,dashed"`
			}
		}
		fmt.Fprintf(&b, "  %s [%s];\n", dotQuote(n.ID), attrs)
	}
	for _, e := range g.Edges {
		switch e.RunIf {
		case jobspec.RunIfAnyFailed: // a failure branch, drawn apart
			fmt.Fprintf(&b, "  %s -> %s [style=dashed, color=\"#c62828\", label=\"any_failed\"];\n", dotQuote(e.From), dotQuote(e.To))
		case jobspec.RunIfAllDone:
			fmt.Fprintf(&b, "  %s -> %s [style=dotted, label=\"all_done\"];\n", dotQuote(e.From), dotQuote(e.To))
		default:
			fmt.Fprintf(&b, "  %s -> %s;\n", dotQuote(e.From), dotQuote(e.To))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// dotQuote quotes s as a DOT string.
func dotQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
