package handlers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
	"github.com/herald-sched/herald/views"
)

// Pages: the job list, a job's topology and runs, a run's
// tasks and attempts followed live, and the actions of the API (trigger,
// pause, resume, cancel, retry) as forms. They read through the same typed
// cores as the REST API and take the same API key: a browser gives it as the
// password of HTTP Basic authentication. Form posts are refused cross-site.

const (
	// pageRuns is how many runs a job's page lists.
	pageRuns = 20
	// pageJobs is how many jobs the list shows at a time.
	pageJobs = 100
	// livePoll is how often a live run view reads the run.
	livePoll = 500 * time.Millisecond
	// liveHeartbeat keeps an idle live view's connection open through
	// proxies.
	liveHeartbeat = 15 * time.Second
)

// pageRoutes mounts the pages behind the key (Bearer or Basic).
func (a *API) pageRoutes(apiKey string, insecure bool) func(chi.Router) {
	return func(r chi.Router) {
		r.Use(a.requireKeyAs(apiKey, insecure, true))
		r.Use(a.auditWrites)
		r.Use(a.requireScope)
		r.Use(http.NewCrossOriginProtection().Handler)
		r.Use(refuseBadInput(func(w http.ResponseWriter, r *http.Request, err error) { a.errorPage(w, r, err, "/jobs") }))
		r.Use(withZoneChoice)
		r.Get("/", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/jobs", http.StatusSeeOther)
		})
		r.Get("/jobs", a.page(a.jobsPage))
		r.Get("/jobs/{jobID}", a.page(a.jobPage))
		// The graph exports, for the pages' links (a browser has no Bearer key).
		r.Get("/jobs/{jobID}/graph", a.jobGraph)
		r.Get("/runs/{runID}/graph", a.runGraph)
		r.Post("/jobs/{jobID}/trigger", a.action(a.triggerAction))
		r.Post("/jobs/{jobID}/pause", a.action(a.pauseAction(true)))
		r.Post("/jobs/{jobID}/resume", a.action(a.pauseAction(false)))
		r.Get("/replicas", a.page(a.replicasPage))
		r.Get("/runs/{runID}", a.page(a.runPage))
		r.Get("/runs/{runID}/events", a.runEvents)
		r.Post("/runs/{runID}/cancel", a.action(a.runAction(jobs.CancelRun)))
		r.Post("/runs/{runID}/retry", a.action(a.runAction(jobs.RetryRun)))
		r.Post("/runs/{runID}/pause", a.action(a.runAction(pauseRollouts)))
		r.Post("/runs/{runID}/resume", a.action(a.runAction(jobs.ResumeRollouts)))
		r.Post("/timezone", setZoneChoice)
		if a.devices != nil {
			r.Get("/devices", a.page(a.devicesPage))
			r.Get("/devices/{deviceID}", a.page(a.devicePage))
		}
	}
}

// page renders what load returns, or an error page; the message of a form
// that failed on its way here (takeFlash) shows at its top.
func (a *API) page(load func(*http.Request) (templ.Component, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r = takeFlash(w, r)
		c, err := load(r)
		if err != nil {
			a.errorPage(w, r, err, "/jobs")
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := c.Render(r.Context(), w); err != nil && !errors.Is(err, context.Canceled) {
			a.logger.WarnContext(r.Context(), "page not rendered", slog.Any("error", err))
		}
	}
}

// action runs a form's action and sends the browser where it says (303).
// An action refused for what it asked (a run no longer running, a job
// changed meanwhile: 400, 409, 422) sends the browser back to the page the
// form was on, which shows why (flash); a missing object or a failure of
// the server gets an error page.
func (a *API) action(do func(*http.Request) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		to, err := do(r)
		if err != nil {
			if msg, ok := refusal(err); ok {
				setFlash(w, msg)
				http.Redirect(w, r, backTo(r), http.StatusSeeOther)
				return
			}
			a.errorPage(w, r, err, backTo(r))
			return
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
	}
}

// backTo is the page a form was posted from: the path of its Referer,
// never another site or scheme; the job list when unknown.
func backTo(r *http.Request) string {
	u, err := url.Parse(r.Referer())
	if err != nil || u.Path == "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/jobs"
	}
	return u.Path
}

// errorPage shows err: an API error's status and public detail, or a 500
// whose cause goes to the log only.
func (a *API) errorPage(w http.ResponseWriter, r *http.Request, err error, back string) {
	p := views.ErrorPage{Status: http.StatusInternalServerError, Detail: "internal error; the server log has the cause", Back: back}
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = unavailableError(err)
	}
	if ae != nil {
		p.Status, p.Detail = ae.status, ae.detail
		for _, f := range ae.fields {
			p.Detail += "; " + f.Field + ": " + f.Message
		}
		if ae.status == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", retryAfterUnavailable)
		}
	} else {
		a.logger.ErrorContext(r.Context(), "page failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	p.Title = strconv.Itoa(p.Status) + " " + http.StatusText(p.Status)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(p.Status)
	_ = views.ErrorView(p).Render(r.Context(), w)
}

func (a *API) jobsPage(r *http.Request) (templ.Component, error) {
	var req listJobsRequest
	if err := parseListJobs(nil, r, &req); err != nil {
		return nil, err
	}
	req.page.limit = pageJobs
	list, err := a.listJobs(r.Context(), &req)
	if err != nil {
		return nil, err
	}
	ids := make([]uuid.UUID, len(list.Data))
	for i, j := range list.Data {
		ids[i] = j.ID
	}
	latest, err := store.New(a.pool).LatestRuns(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	byJob := make(map[uuid.UUID]*views.RunSummary, len(latest))
	for i := range latest {
		byJob[latest[i].JobID] = runSummary(toRunResponse(&latest[i]))
	}
	rows := make([]views.JobRow, len(list.Data))
	for i, j := range list.Data {
		rows[i] = views.JobRow{
			ID: j.ID.String(), Name: j.Name, Schedule: describeSchedule(j.Schedule),
			NextFire: j.NextFireAt, Paused: j.Paused, LatestRun: byJob[j.ID],
			Clock: a.clock(r.Context(), scheduleZone(j.Schedule)),
		}
	}
	next := nextPage(r, list.NextCursor)
	f := views.JobFilter{Name: r.URL.Query().Get("name"), Label: r.URL.Query().Get("label"), Paused: r.URL.Query().Get("paused")}
	return views.JobsList(rows, f, next), nil
}

func (a *API) jobPage(r *http.Request) (templ.Component, error) {
	var req jobIDRequest
	if err := parseJobID(nil, r, &req); err != nil {
		return nil, err
	}
	j, err := a.getJob(r.Context(), &req)
	if err != nil {
		return nil, err
	}
	runs, err := a.listRuns(r.Context(), &listRunsRequest{page: pageRequest{limit: pageRuns}, jobID: &j.ID})
	if err != nil {
		return nil, err
	}
	states := map[string]string{}
	if len(runs.Data) > 0 {
		taskRuns, err := store.New(a.pool).ListTaskRuns(r.Context(), runs.Data[0].ID)
		if err != nil {
			return nil, err
		}
		for _, tr := range taskRuns {
			states[tr.TaskID] = string(tr.State)
		}
	}
	g, err := buildGraph(j.Tasks, states)
	if err != nil {
		return nil, err
	}
	drawing, err := layout(g)
	if err != nil {
		return nil, err
	}
	p := views.JobPage{
		ID: j.ID.String(), Name: j.Name, Schedule: describeSchedule(j.Schedule),
		Misfire: j.Misfire, Overlap: j.Overlap, Paused: j.Paused, NextFireTimes: j.NextFireTimes,
		MissedTicks: j.MissedTicks, SkippedTicks: j.SkippedTicks, Graph: drawing,
		Clock: a.clock(r.Context(), scheduleZone(j.Schedule)),
	}
	for _, z := range j.DeviceZones {
		p.DeviceZones = append(p.DeviceZones, views.DeviceZoneRow{Zone: z.Timezone, Devices: z.Devices, NextFire: z.NextFireAt})
	}
	if p.Placements, err = a.placements(r.Context(), j.ID, drawing.Order(), j.Tasks); err != nil {
		return nil, err
	}
	for _, run := range runs.Data {
		p.Runs = append(p.Runs, *runSummary(run))
	}
	return views.JobView(p), nil
}

func (a *API) runPage(r *http.Request) (templ.Component, error) {
	var req runIDRequest
	if err := parseRunID(nil, r, &req); err != nil {
		return nil, err
	}
	body, j, err := a.runBody(r.Context(), req.id)
	if err != nil {
		return nil, err
	}
	return views.RunView(views.RunPage{JobID: j.ID.String(), JobName: j.Name, Body: *body}), nil
}

// runBody reads the live part of a run's page, and the run's job, in one
// snapshot: the run, its task counts by state, its topology when it is
// small enough to draw, its first views.MaxShownTasks tasks (in graph
// order, or by id when not drawn) with their attempts, and its timeline. A
// run of 10,000 tasks costs a page no more than one of 200. Its times are
// in the zone of the job's schedule, or the viewer's choice (ctx).
func (a *API) runBody(ctx context.Context, id uuid.UUID) (*views.RunBody, *store.Job, error) {
	if err := a.seeRun(ctx, id); err != nil {
		return nil, nil, err
	}
	return a.readRunBody(ctx, id)
}

// readRunBody is runBody without the caller's visibility check (the live
// views' shared poll: each view was checked when it began).
func (a *API) readRunBody(ctx context.Context, id uuid.UUID) (*views.RunBody, *store.Job, error) {
	var (
		b        views.RunBody
		job      store.Job
		taskRuns []store.TaskRun
		graph    *graphResponse
		attempts []store.Attempt
	)
	err := pgx.BeginTxFunc(ctx, a.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		q := store.New(tx)
		run, err := q.GetRun(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("run " + id.String())
		}
		if err != nil {
			return err
		}
		if job, err = q.GetJobAny(ctx, run.JobID); err != nil {
			return err
		}
		b.Run = *runSummary(toRunResponse(&run))
		counts, err := q.TaskStateCounts(ctx, id)
		if err != nil {
			return err
		}
		byState := map[string]int{}
		for _, c := range counts {
			byState[string(c.State)] = int(c.N)
			b.TaskCount += int(c.N)
		}
		for _, st := range views.StateOrder {
			if byState[st] > 0 {
				b.States = append(b.States, views.StateCount{State: st, Count: byState[st]})
			}
		}
		if b.TaskCount <= views.MaxDrawnTasks {
			if taskRuns, err = q.ListTaskRuns(ctx, id); err != nil {
				return err
			}
			if graph, err = runGraphFrom(taskRuns); err != nil {
				return err
			}
		} else {
			taskRuns, err = q.ListTaskRunsFirst(ctx, store.ListTaskRunsFirstParams{RunID: id, MaxRows: views.MaxShownTasks})
			if err != nil {
				return err
			}
		}
		b.Now = time.Now()
		if graph != nil {
			if b.Graph, err = layout(graph); err != nil {
				return err
			}
			taskRuns = inGraphOrder(taskRuns, b.Graph.Order())
		} else {
			b.Graph = views.Graph{Tasks: b.TaskCount} // not drawn: no need to read every task
		}
		ids := make([]uuid.UUID, len(taskRuns))
		for i := range taskRuns {
			ids[i] = taskRuns[i].ID
		}
		if attempts, err = q.ListAttemptsOf(ctx, ids); err != nil {
			return err
		}
		b.Rollouts, err = rolloutViews(ctx, q, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	byTask := map[uuid.UUID][]views.AttemptRow{}
	for _, at := range attempts {
		ar := views.AttemptRow{
			Attempt: at.Attempt, StartedAt: at.StartedAt, DurationMs: at.DurationMs,
			Outcome: string(at.Outcome), Truncated: at.ResponseTruncated, NextRetry: at.NextRetryAt,
		}
		if at.StatusCode != nil {
			ar.Status = strconv.Itoa(int(*at.StatusCode))
		}
		if at.Error != nil {
			ar.Error = *at.Error
		}
		if at.ResponseBody != nil {
			ar.Response = *at.ResponseBody
		}
		byTask[at.TaskRunID] = append(byTask[at.TaskRunID], ar)
	}
	ready := readyTimes(b.Run.CreatedAt, taskRuns, graph)
	for _, tr := range taskRuns {
		row := views.TaskRow{
			TaskID: tr.TaskID, State: string(tr.State), WebhookID: jobs.WebhookID(tr.ID), Attempts: byTask[tr.ID],
			ReadyAt: ready[tr.TaskID], StartedAt: tr.StartedAt, CurrentAttempt: tr.Attempts,
		}
		if tr.LastError != nil {
			row.LastError = *tr.LastError
		}
		b.Tasks = append(b.Tasks, row)
	}
	// A live run's clock moves by whole seconds from its start, so that
	// its page is not sent again every poll for the clock alone.
	if b.Run.FinishedAt == nil && b.Now.After(b.Run.CreatedAt) {
		b.Now = b.Run.CreatedAt.Add(b.Now.Sub(b.Run.CreatedAt).Truncate(time.Second))
	}
	b.Timeline = views.BuildTimeline(b.Run, b.Tasks, b.Now)
	b.Clock = views.Clock{Zone: views.ZoneChoiceFrom(ctx).ZoneFor(storedScheduleZone(job.Schedule)), Now: b.Now}
	return &b, &job, nil
}

// inGraphOrder puts task runs in the order given (a drawing's) and keeps
// the first views.MaxShownTasks.
func inGraphOrder(taskRuns []store.TaskRun, order []string) []store.TaskRun {
	byID := make(map[string]int, len(taskRuns))
	for i := range taskRuns {
		byID[taskRuns[i].TaskID] = i
	}
	out := make([]store.TaskRun, 0, min(len(order), views.MaxShownTasks))
	for _, id := range order[:min(len(order), views.MaxShownTasks)] {
		out = append(out, taskRuns[byID[id]])
	}
	return out
}

// readyTimes returns when each task of a drawn run could first be sent:
// when the last of its dependencies finished, or when the run was created
// for a task without any; none for a task still waiting, one re-run by a
// retry of the run (its first round's times are gone), or when the run's
// topology was not read.
func readyTimes(created time.Time, taskRuns []store.TaskRun, g *graphResponse) map[string]*time.Time {
	if g == nil {
		return nil
	}
	finished := make(map[string]*time.Time, len(taskRuns))
	for i := range taskRuns {
		finished[taskRuns[i].TaskID] = taskRuns[i].FinishedAt
	}
	ready := make(map[string]*time.Time, len(taskRuns))
	for i := range taskRuns {
		if taskRuns[i].Round == 0 {
			at := created
			ready[taskRuns[i].TaskID] = &at
		}
	}
	for _, e := range g.Edges {
		at, ok := ready[e.To]
		if !ok || at == nil {
			continue
		}
		switch f := finished[e.From]; {
		case f == nil:
			ready[e.To] = nil
		case f.After(*at):
			t := *f
			ready[e.To] = &t
		}
	}
	return ready
}

// runEvents follows a run for its page (Server-Sent Events): the live part
// of the page as HTML (event "run") whenever it changes, read every livePoll
// from the database (so any replica can serve it) by one poll per run on
// this replica shared by all its viewers (liveRuns), then "done" once the
// run has ended.
func (a *API) runEvents(w http.ResponseWriter, r *http.Request) {
	var req runIDRequest
	if err := parseRunID(nil, r, &req); err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, r, a.logger, errors.New("streaming unsupported by the connection"))
		return
	}
	ctx := r.Context()
	if _, _, err := a.runBody(ctx, req.id); err != nil {
		writeError(w, r, a.logger, err)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()

	snaps, stop := a.live.follow(req.id)
	defer stop()
	zone := views.ZoneChoiceFrom(ctx)
	var last []byte
	heartbeat := time.NewTicker(liveHeartbeat)
	defer heartbeat.Stop()
	for {
		var snap liveSnapshot
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			_, _ = w.Write([]byte(": still here\n\n"))
			flusher.Flush()
			continue
		case snap = <-snaps:
		}
		if snap.err != nil {
			if ctx.Err() == nil {
				a.logger.WarnContext(ctx, "live run view", slog.String("run_id", req.id.String()), slog.Any("error", snap.err))
			}
			return
		}
		body := *snap.body // the view's own copy, in its viewer's zone
		body.Clock = views.Clock{Zone: zone.ZoneFor(storedScheduleZone(snap.job.Schedule)), Now: body.Now}
		var buf bytes.Buffer
		if err := views.RunBodyView(body).Render(ctx, &buf); err != nil {
			return
		}
		if !bytes.Equal(buf.Bytes(), last) {
			writeEvent(w, "run", buf.Bytes())
			last = buf.Bytes()
			heartbeat.Reset(liveHeartbeat)
		}
		if body.Ended() {
			writeEvent(w, "done", nil)
		}
		flusher.Flush()
		if body.Ended() {
			return
		}
	}
}

// writeEvent writes one Server-Sent Event; each line of data is a data:
// field.
func writeEvent(w http.ResponseWriter, name string, data []byte) {
	var b strings.Builder
	b.WriteString("event: " + name + "\n")
	for line := range strings.SplitSeq(string(data), "\n") {
		b.WriteString("data: " + line + "\n")
	}
	b.WriteString("\n")
	_, _ = w.Write([]byte(b.String()))
}

func (a *API) triggerAction(r *http.Request) (string, error) {
	var req jobIDRequest
	if err := parseJobID(nil, r, &req); err != nil {
		return "", err
	}
	run, err := a.batchedTrigger(r.Context(), &triggerRequest{id: req.id})
	if err != nil {
		return "", err
	}
	return "/runs/" + run.ID.String(), nil
}

func (a *API) pauseAction(paused bool) func(*http.Request) (string, error) {
	set := a.setPaused(paused)
	return func(r *http.Request) (string, error) {
		var req jobIDRequest
		if err := parseJobID(nil, r, &req); err != nil {
			return "", err
		}
		if _, err := inTx(a, r.Context(), &req, http.StatusSeeOther, set); err != nil {
			return "", err
		}
		return "/jobs/" + req.id.String(), nil
	}
}

func (a *API) runAction(op func(context.Context, pgx.Tx, jobs.Inserter, uuid.UUID) (*store.Run, error)) func(*http.Request) (string, error) {
	do := a.runControl(op, http.StatusSeeOther)
	return func(r *http.Request) (string, error) {
		var req runIDRequest
		if err := parseRunID(nil, r, &req); err != nil {
			return "", err
		}
		if _, err := do(r.Context(), &req); err != nil {
			return "", err
		}
		return "/runs/" + req.id.String(), nil
	}
}

func runSummary(r *runResponse) *views.RunSummary {
	return &views.RunSummary{
		ID: r.ID.String(), State: string(r.State), Trigger: r.Trigger,
		ScheduledFor: r.ScheduledFor, CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt,
		DeviceZones: r.DeviceZones,
	}
}

// layout places a topology for a page (nothing above views.MaxDrawnTasks).
func layout(g *graphResponse) (views.Graph, error) {
	return views.LayoutGraph(graphInput(g))
}

// layoutAll places a topology whatever its size (the SVG export).
func layoutAll(g *graphResponse) (views.Graph, error) {
	return views.LayoutAll(graphInput(g))
}

func graphInput(g *graphResponse) ([]views.GraphNode, []views.GraphEdge) {
	nodes := make([]views.GraphNode, len(g.Nodes))
	for i, n := range g.Nodes {
		nodes[i] = views.GraphNode{ID: n.ID, State: n.State}
	}
	edges := make([]views.GraphEdge, len(g.Edges))
	for i, e := range g.Edges {
		edges[i] = views.GraphEdge{From: e.From, To: e.To, RunIf: e.RunIf}
	}
	return nodes, edges
}

// nextPage is the link to the list page after r's, the same filter from
// cursor on; "" without a cursor (the last page).
func nextPage(r *http.Request, cursor *string) string {
	if cursor == nil {
		return ""
	}
	q := r.URL.Query()
	q.Set("cursor", *cursor)
	q.Del("limit")
	return r.URL.Path + "?" + q.Encode()
}

// clock is a page's clock: now, and times about a schedule in zone ("" for
// UTC) as the viewer chose (ctx).
func (a *API) clock(ctx context.Context, zone string) views.Clock {
	return views.Clock{Zone: views.ZoneChoiceFrom(ctx).ZoneFor(zone), Now: a.now()}
}

// scheduleZone is the zone a schedule's times are meant in: a cron
// schedule's, else "" (UTC).
func scheduleZone(s *jobspec.Schedule) string {
	if s == nil || s.Cron == "" || s.DeviceLocal() {
		return ""
	}
	return s.Timezone
}

// storedScheduleZone is scheduleZone of a schedule as stored.
func storedScheduleZone(raw json.RawMessage) string {
	var s *jobspec.Schedule
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return scheduleZone(s)
}

// describeSchedule is a schedule in a few words.
func describeSchedule(s *jobspec.Schedule) string {
	switch {
	case s == nil:
		return "on demand"
	case s.DeviceLocal():
		return fmt.Sprintf("cron %s (each device's zone)", s.Cron)
	case s.Cron != "":
		return fmt.Sprintf("cron %s (%s)", s.Cron, cmp.Or(s.Timezone, "UTC"))
	case s.Every != nil:
		return "every " + s.Every.Std().String()
	case s.At != nil:
		return "at " + s.At.UTC().Format(time.RFC3339)
	case s.Delay != nil:
		return "once, " + s.Delay.Std().String() + " after registration"
	}
	return "—"
}

// replicasPage lists the herald processes (GET /v1/replicas).
func (a *API) replicasPage(r *http.Request) (templ.Component, error) {
	list, err := a.listReplicas(r.Context(), nil)
	if err != nil {
		return nil, err
	}
	rows := make([]views.ReplicaRow, len(list.Data))
	for i, rp := range list.Data {
		rows[i] = views.ReplicaRow{
			ID: rp.ID, Role: rp.Role, Host: rp.Host, Version: rp.Version, State: rp.State,
			StartedAt: rp.StartedAt, LastHeartbeat: rp.LastHeartbeatAt, Timeout: rp.Timeout,
			Working: rp.Working, InFlight: rp.InFlight, ClockOffsetMs: rp.ClockOffsetMs, Reclaimed: rp.Reclaimed,
		}
		if rp.ReclaimedBy != nil {
			rows[i].ReclaimedBy = *rp.ReclaimedBy
		}
	}
	return views.ReplicasView(rows, a.clock(r.Context(), "")), nil
}
