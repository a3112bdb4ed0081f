package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/schedule"
	"github.com/herald-sched/herald/internal/signing"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

// jobResponse is a job as the API shows it.
type jobResponse struct {
	ID       uuid.UUID         `json:"id"`
	Name     string            `json:"name"`
	Schedule *jobspec.Schedule `json:"schedule"`
	Tasks    []jobspec.Task    `json:"tasks"`
	Paused   bool              `json:"paused"`
	Misfire  string            `json:"misfire"`
	Overlap  string            `json:"overlap"`
	Labels   map[string]string `json:"labels"`
	// Rate and MaxInFlight are the job's flow limits, null when unlimited.
	Rate        *float64   `json:"rate"`
	MaxInFlight *int32     `json:"max_in_flight"`
	NextFireAt  *time.Time `json:"next_fire_at"`
	// NextFireTimes previews the next ticks, next_fire_at first.
	NextFireTimes []time.Time `json:"next_fire_times"`
	// MissedTicks counts ticks missed while nothing ran or the job was paused.
	MissedTicks int64 `json:"missed_ticks"`
	// SkippedTicks counts ticks skipped for a run in progress (overlap).
	SkippedTicks int64     `json:"skipped_ticks"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	// PreviousSecretExpiresAt ends the overlap of a secret rotation: until
	// then deliveries are signed with the old secret too.
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
	// Secret is the signing secret, shown only in the response that creates
	// or rotates it.
	Secret string `json:"secret,omitempty"`
}

func (j *jobResponse) location() string { return "/v1/jobs/" + j.ID.String() }

// toJobResponse shows a job; schedules keeps its parsed cron expression.
func toJobResponse(j *store.Job, schedules *schedule.Cache) (*jobResponse, error) {
	out := &jobResponse{
		ID: j.ID, Name: j.Name, Paused: j.Paused, Misfire: j.Misfire, Overlap: j.Overlap,
		NextFireAt: j.NextFireAt, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
		MissedTicks: j.MissedTicks, SkippedTicks: j.SkippedTicks,
		PreviousSecretExpiresAt: j.PreviousSecretExpiresAt,
		Rate:                    j.Rate, MaxInFlight: j.MaxInFlight,
		Labels: map[string]string{}, NextFireTimes: []time.Time{},
	}
	if len(j.Schedule) > 0 && string(j.Schedule) != "null" {
		if err := json.Unmarshal(j.Schedule, &out.Schedule); err != nil {
			return nil, fmt.Errorf("decode schedule of job %s: %w", j.ID, err)
		}
	}
	if j.NextFireAt != nil {
		out.NextFireTimes = append(out.NextFireTimes, *j.NextFireAt)
		anchor := j.CreatedAt
		if j.ScheduleAnchor != nil {
			anchor = *j.ScheduleAnchor
		}
		if rec, err := out.Schedule.Compile(anchor, schedules); err == nil && rec != nil {
			out.NextFireTimes = append(out.NextFireTimes, schedule.NextN(rec, *j.NextFireAt, previewCount-1)...)
		}
	}
	if err := json.Unmarshal(j.Tasks, &out.Tasks); err != nil {
		return nil, fmt.Errorf("decode tasks of job %s: %w", j.ID, err)
	}
	jobspec.Redact(out.Tasks)
	if err := json.Unmarshal(j.Labels, &out.Labels); err != nil {
		return nil, fmt.Errorf("decode labels of job %s: %w", j.ID, err)
	}
	return out, nil
}

type createJobRequest struct {
	job jobspec.Job
}

func (a *API) parseCreateJob(w http.ResponseWriter, r *http.Request, req *createJobRequest) error {
	return decodeJSON(w, r, a.maxBody, &req.job)
}

// createJob validates and stores a job, and enqueues its first tick, in one
// transaction; the response carries the signing secret.
func (a *API) createJob(ctx context.Context, req *createJobRequest) (*jobResponse, error) {
	now := a.now()
	j := &req.job
	enc, err := a.prepare(j, now)
	if err != nil {
		return nil, err
	}
	secret, err := signing.NewSecret()
	if err != nil {
		return nil, err
	}
	params := store.CreateJobParams{
		ID:             uuid.Must(uuid.NewV7()),
		Name:           j.Name,
		Paused:         j.Paused,
		Misfire:        j.Misfire,
		Overlap:        j.Overlap,
		Secret:         secret,
		NextFireAt:     j.FirstFire(now),
		ScheduleAnchor: &now,
		Rate:           j.Rate,
		MaxInFlight:    int32Ptr(j.MaxInFlight),
	}
	params.Schedule, params.Tasks, params.Labels = enc.schedule, enc.tasks, enc.labels

	var created store.Job
	err = a.inTx(ctx, func(tx pgx.Tx) error {
		created, err = store.New(tx).CreateJob(ctx, params)
		if err != nil {
			return fmt.Errorf("create job: %w", err)
		}
		return nil // the ticker finds its next tick in the row
	})
	if err != nil {
		return nil, err
	}
	resp, err := toJobResponse(&created, &a.schedules)
	if err != nil {
		return nil, err
	}
	resp.Secret = secret
	return resp, nil
}

type jobIDRequest struct {
	id uuid.UUID
}

func parseJobID(_ http.ResponseWriter, r *http.Request, req *jobIDRequest) error {
	id, err := parseUUID(chi.URLParam(r, "jobID"), "job")
	req.id = id
	return err
}

func parseUUID(s, what string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, notFound(what + " " + strconv.Quote(s))
	}
	return id, nil
}

func (a *API) getJob(ctx context.Context, req *jobIDRequest) (*jobResponse, error) {
	j, err := store.New(a.pool).GetJob(ctx, req.id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("job " + req.id.String())
	}
	if err != nil {
		return nil, err
	}
	return toJobResponse(&j, &a.schedules)
}

// deleteJob stops the job's future ticks; its runs stay readable.
func (a *API) deleteJob(ctx context.Context, req *jobIDRequest) (*struct{}, error) {
	return nil, a.inTx(ctx, func(tx pgx.Tx) error {
		_, err := store.New(tx).DeleteJob(ctx, req.id)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("job " + req.id.String())
		}
		if err != nil {
			return err
		}
		return jobs.CancelPreparedRuns(ctx, tx, a.inserter, req.id)
	})
}

type listJobsRequest struct {
	page pageRequest
	// Filters, all of which a job must pass: paused or not, these labels
	// (key=value), a name containing this (case-insensitive).
	paused *bool
	labels map[string]string
	name   *string
}

type listJobsResponse struct {
	Data       []*jobResponse `json:"data"`
	NextCursor *string        `json:"next_cursor"`
}

func parseListJobs(_ http.ResponseWriter, r *http.Request, req *listJobsRequest) error {
	if err := req.page.parse(r); err != nil {
		return err
	}
	q := r.URL.Query()
	switch v := q.Get("paused"); v {
	case "":
	case "true", "false":
		req.paused = new(v == "true")
	default:
		return invalidFields(http.StatusBadRequest, fieldError("paused", "must be true or false"))
	}
	for _, l := range q["label"] {
		if l == "" {
			continue // an empty field of the pages' filter form
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok || k == "" {
			return invalidFields(http.StatusBadRequest, fieldError("label", "must be key=value, got "+strconv.Quote(l)))
		}
		if req.labels == nil {
			req.labels = map[string]string{}
		}
		req.labels[k] = v
	}
	if v := q.Get("name"); v != "" {
		if len(v) > 200 {
			return invalidFields(http.StatusBadRequest, fieldError("name", "must be at most 200 bytes"))
		}
		req.name = &v
	}
	return nil
}

func (a *API) listJobs(ctx context.Context, req *listJobsRequest) (*listJobsResponse, error) {
	p := store.ListJobsParams{Before: req.page.cursor, Paused: req.paused, Name: req.name, MaxRows: int32(req.page.limit + 1)}
	if req.labels != nil {
		var err error
		if p.Labels, err = json.Marshal(req.labels); err != nil {
			return nil, err
		}
	}
	rows, err := store.New(a.pool).ListJobs(ctx, p)
	if err != nil {
		return nil, err
	}
	out := &listJobsResponse{Data: make([]*jobResponse, 0, len(rows))}
	for i := range rows {
		if i == req.page.limit {
			out.NextCursor = new(rows[i-1].ID.String())
			break
		}
		jr, err := toJobResponse(&rows[i], &a.schedules)
		if err != nil {
			return nil, err
		}
		out.Data = append(out.Data, jr)
	}
	return out, nil
}

// triggerRun starts a run of the job now, outside its schedule. Concurrent
// triggers share a transaction (startRuns); one with an Idempotency-Key runs
// in its request's own, which also stores the response.
func (a *API) triggerRun(ctx context.Context, req *jobIDRequest) (*runResponse, error) {
	if _, keyed := ctx.Value(txKey{}).(pgx.Tx); !keyed {
		a.startsOnce.Do(func() { a.starts.Start(context.Background()) })
		res, err := a.starts.Submit(ctx, triggerItem{jobID: req.id, at: a.now(), parent: trace.SpanContextFromContext(ctx)})
		if err == nil {
			err = res.err
		}
		if err != nil {
			return nil, err
		}
		return toRunResponse(res.run), nil
	}
	var run *store.Run
	err := a.inTx(ctx, func(tx pgx.Tx) error {
		j, err := store.New(tx).GetJob(ctx, req.id)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("job " + req.id.String())
		}
		if err != nil {
			return err
		}
		run, err = jobs.StartRun(ctx, tx, a.inserter, &j, jobs.TriggerManual, a.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	return toRunResponse(run), nil
}

// triggerItem is a manual trigger waiting for its run (startRuns).
type triggerItem struct {
	jobID  uuid.UUID
	at     time.Time
	parent trace.SpanContext // the request's span, the run's parent
}

// triggerResult is a trigger's run, or why it has none.
type triggerResult struct {
	run *store.Run
	err error
}

// startRuns starts the runs of concurrent triggers in one transaction (see
// jobs.StartRuns): one read of their jobs, one insert of their runs, one of
// their task runs and one River insert of their deliveries, then one commit,
// instead of all of that per trigger. A trigger of a job that does not exist
// gets its 404 alone.
func (a *API) startRuns(ctx context.Context, items []triggerItem) ([]triggerResult, error) {
	out := make([]triggerResult, len(items))
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		ids := make([]uuid.UUID, len(items))
		for i, it := range items {
			ids[i] = it.jobID
		}
		found, err := store.New(tx).GetJobs(ctx, ids)
		if err != nil {
			return err
		}
		byID := make(map[uuid.UUID]*store.Job, len(found))
		for i := range found {
			byID[found[i].ID] = &found[i]
		}
		var reqs []jobs.RunRequest
		var of []int // the item of each request
		for i, it := range items {
			j, ok := byID[it.jobID]
			if !ok {
				out[i].err = notFound("job " + it.jobID.String())
				continue
			}
			reqs = append(reqs, jobs.RunRequest{Job: j, ScheduledFor: it.at, Parent: it.parent})
			of = append(of, i)
		}
		runs, err := jobs.StartRuns(ctx, tx, a.inserter, reqs)
		if err != nil {
			return err
		}
		for k, run := range runs {
			out[of[k]].run = run
		}
		return nil
	})
	return out, err
}

// previewCount is how many upcoming ticks a job shows.
const previewCount = 5

// validate checks a job definition; errors name the fields.
func (a *API) validate(j *jobspec.Job, now time.Time) error {
	if err := j.Validate(now, a.limits, a.checkURL); err != nil {
		var fe jobspec.Errors
		if errors.As(err, &fe) {
			return invalidFields(http.StatusUnprocessableEntity, fe...)
		}
		return err
	}
	return nil
}

// prepare validates a job definition (errors name the fields) and encodes
// its JSON columns.
func (a *API) prepare(j *jobspec.Job, now time.Time) (*encodedJob, error) {
	if err := a.validate(j, now); err != nil {
		return nil, err
	}
	return encodeJob(j)
}

// encodedJob is a validated job's JSON columns.
type encodedJob struct {
	schedule, tasks, labels []byte
}

func encodeJob(j *jobspec.Job) (*encodedJob, error) {
	var enc encodedJob
	var err error
	if j.Schedule != nil {
		if enc.schedule, err = json.Marshal(j.Schedule); err != nil {
			return nil, err
		}
	}
	if enc.tasks, err = json.Marshal(j.Tasks); err != nil {
		return nil, err
	}
	if j.Labels == nil {
		j.Labels = map[string]string{}
	}
	if enc.labels, err = json.Marshal(j.Labels); err != nil {
		return nil, err
	}
	return &enc, nil
}

type updateJobRequest struct {
	id  uuid.UUID
	job jobspec.Job
}

func (a *API) parseUpdateJob(w http.ResponseWriter, r *http.Request, req *updateJobRequest) error {
	id, err := parseUUID(chi.URLParam(r, "jobID"), "job")
	if err != nil {
		return err
	}
	req.id = id
	return decodeJSON(w, r, a.maxBody, &req.job)
}

// updateJob replaces a job's definition (the whole of it, as POST takes it)
// and re-arms its schedule from now. Runs in progress keep the definition
// they started with; the signing secret stays.
func (a *API) updateJob(ctx context.Context, req *updateJobRequest) (*jobResponse, error) {
	now := a.now()
	j := &req.job
	enc, err := a.prepare(j, now)
	if err != nil {
		return nil, err
	}
	var updated store.Job
	err = pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		updated, err = store.New(tx).UpdateJob(ctx, store.UpdateJobParams{
			ID: req.id, Name: j.Name, Schedule: enc.schedule, Tasks: enc.tasks, Paused: j.Paused,
			Misfire: j.Misfire, Overlap: j.Overlap, Labels: enc.labels,
			NextFireAt: j.FirstFire(now), ScheduleAnchor: &now,
			Rate: j.Rate, MaxInFlight: int32Ptr(j.MaxInFlight),
		})
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound("job " + req.id.String())
		}
		if err != nil {
			return err
		}
		return jobs.CancelPreparedRuns(ctx, tx, a.inserter, updated.ID)
	})
	if err != nil {
		return nil, err
	}
	return toJobResponse(&updated, &a.schedules)
}

// setPaused pauses or resumes a job. A paused job's ticks do not fire; on
// resume, the ticks it missed meanwhile are handled by its misfire policy.
func (a *API) setPaused(paused bool) func(context.Context, *jobIDRequest) (*jobResponse, error) {
	return func(ctx context.Context, req *jobIDRequest) (*jobResponse, error) {
		var out store.Job
		err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
			q := store.New(tx)
			before, err := q.LockJob(ctx, req.id)
			if errors.Is(err, pgx.ErrNoRows) || (err == nil && before.DeletedAt != nil) {
				return notFound("job " + req.id.String())
			}
			if err != nil {
				return err
			}
			if out, err = q.SetJobPaused(ctx, store.SetJobPausedParams{ID: req.id, Paused: paused}); err != nil {
				return err
			}
			if paused {
				return jobs.CancelPreparedRuns(ctx, tx, a.inserter, req.id)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		return toJobResponse(&out, &a.schedules)
	}
}

type previewRequest struct {
	Schedule *jobspec.Schedule `json:"schedule"`
	// Count is how many fire times to list; nil means 10.
	Count *int `json:"count"`
}

type previewResponse struct {
	FireTimes []time.Time `json:"fire_times"`
}

func (a *API) parsePreview(w http.ResponseWriter, r *http.Request, req *previewRequest) error {
	return decodeJSON(w, r, a.maxBody, req)
}

// previewSchedule lists the next fire times of a schedule, as if registered
// now, without creating anything.
func (a *API) previewSchedule(_ context.Context, req *previewRequest) (*previewResponse, error) {
	now := a.now()
	if req.Schedule == nil {
		return nil, invalidFields(http.StatusUnprocessableEntity, fieldError("schedule", "is required"))
	}
	count := 10
	if req.Count != nil {
		count = *req.Count // 0 is refused, not taken for the default
	}
	if count < 1 || count > 1000 {
		return nil, invalidFields(http.StatusUnprocessableEntity, fieldError("count", "must be between 1 and 1000"))
	}
	probe := jobspec.Job{Name: "preview", Schedule: req.Schedule, Tasks: []jobspec.Task{{Request: jobspec.Request{URL: "https://preview.invalid/"}}}}
	if err := a.validate(&probe, now); err != nil {
		return nil, err
	}
	out := &previewResponse{FireTimes: []time.Time{}}
	first := probe.FirstFire(now)
	if first == nil {
		return out, nil
	}
	out.FireTimes = append(out.FireTimes, *first)
	if rec, _ := req.Schedule.Compile(now, &a.schedules); rec != nil {
		out.FireTimes = append(out.FireTimes, schedule.NextN(rec, *first, count-1)...)
	}
	return out, nil
}

// RotationOverlap is how long deliveries stay signed with the previous secret
// after a rotation, so that receivers can switch without downtime.
const RotationOverlap = 24 * time.Hour

// rotateSecret issues a new signing secret. For RotationOverlap, deliveries
// carry signatures with both the new and the previous secret.
func (a *API) rotateSecret(ctx context.Context, req *jobIDRequest) (*jobResponse, error) {
	secret, err := signing.NewSecret()
	if err != nil {
		return nil, err
	}
	j, err := store.New(a.pool).RotateSecret(ctx, store.RotateSecretParams{
		ID: req.id, Secret: secret, PreviousExpiresAt: new(a.now().Add(RotationOverlap)),
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("job " + req.id.String())
	}
	if err != nil {
		return nil, err
	}
	resp, err := toJobResponse(&j, &a.schedules)
	if err != nil {
		return nil, err
	}
	resp.Secret = secret
	return resp, nil
}

func int32Ptr(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}
