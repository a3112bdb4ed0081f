package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/access"
	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/schedule"
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
	// Warnings, in the answer to a create or update, say what was accepted
	// but probably not meant (a pool selecting by a label no device has).
	Warnings []string `json:"warnings,omitempty"`
	// RunTimeout ends runs not finished by then (timed_out); null: none.
	RunTimeout *jobspec.Duration `json:"run_timeout"`
	// FailureHandled: a run whose failures were handled ends succeeded.
	FailureHandled bool `json:"failure_handled"`
	// OnRunEnd is called when a run ends; null: none.
	OnRunEnd *jobspec.Callback `json:"on_run_end"`
	// DeviceZones, on GET /v1/jobs/{id} of a device-local job ("timezone":
	// "device"), are the zones its fleet's devices are in now, each with
	// its device count and next tick there.
	DeviceZones []deviceZoneResponse `json:"device_zones,omitempty"`
	// Inbound is the job's inbound trigger (POST /v1/hooks/{id}); null:
	// none.
	Inbound *jobspec.Inbound `json:"inbound"`
	// InboundPreviousSecretExpiresAt ends the overlap of an inbound secret
	// rotation: until then calls signed with the old secret verify too.
	InboundPreviousSecretExpiresAt *time.Time `json:"inbound_previous_secret_expires_at,omitempty"`
	// InboundSecret is the inbound hook's secret, shown only in the
	// response that creates or rotates it.
	InboundSecret string `json:"inbound_secret,omitempty"`
}

// deviceZoneResponse is a zone a device-local job ticks in.
type deviceZoneResponse struct {
	Timezone   string     `json:"timezone"`
	Devices    int        `json:"devices"`
	NextFireAt *time.Time `json:"next_fire_at"`
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
	if j.RunTimeoutMs != nil {
		out.RunTimeout = new(jobspec.Duration(time.Duration(*j.RunTimeoutMs) * time.Millisecond))
	}
	out.FailureHandled = j.FailureHandled
	if len(j.OnRunEnd) > 0 && string(j.OnRunEnd) != "null" {
		if err := json.Unmarshal(j.OnRunEnd, &out.OnRunEnd); err != nil {
			return nil, fmt.Errorf("decode on_run_end of job %s: %w", j.ID, err)
		}
	}
	if j.InboundSecret != nil {
		out.Inbound = &jobspec.Inbound{Enabled: true}
		out.InboundPreviousSecretExpiresAt = j.InboundPreviousExpiresAt
	}
	return out, nil
}

type createJobRequest struct {
	job jobspec.Job
}

func (a *API) parseCreateJob(w http.ResponseWriter, r *http.Request, req *createJobRequest) error {
	if err := decodeJSON(w, r, a.maxBody, &req.job); err != nil {
		return err
	}
	if err := a.validate(&req.job, a.now()); err != nil {
		return err
	}
	return a.checkDevices(r.Context(), &req.job)
}

// createJob stores a job in tx (a request with an Idempotency-Key); the
// response carries its signing secret.
func (a *API) createJob(ctx context.Context, tx pgx.Tx, req *createJobRequest) (*jobResponse, error) {
	if err := mayLabel(ctx, req.job.Labels); err != nil {
		return nil, err
	}
	created, secret, err := jobs.CreateJob(ctx, tx, &req.job, a.now())
	if err != nil {
		return nil, err
	}
	return a.createdJob(ctx, &req.job, created, secret)
}

// maxCreateBatch bounds the registrations stored in one transaction.
const maxCreateBatch = 100

// batchedCreateJob stores the job together with the registrations that
// arrive while the previous batch is written (createJobs): one transaction
// and one audit statement for all of them.
func (a *API) batchedCreateJob(ctx context.Context, req *createJobRequest) (*jobResponse, error) {
	if err := mayLabel(ctx, req.job.Labels); err != nil {
		return nil, err
	}
	a.createsOnce.Do(func() { a.creates.Start(context.Background()) })
	item := createItem{job: &req.job, now: a.now(), audit: a.batchAudit(ctx, http.StatusCreated)}
	res, err := a.creates.Submit(ctx, item)
	if err == nil {
		err = res.err
	}
	if err != nil {
		return nil, err
	}
	auditedWithBatch(ctx, item.audit)
	return a.createdJob(ctx, &req.job, res.job, res.secret)
}

// createItem is a registration waiting for its batch, with its audit row.
type createItem struct {
	job   *jobspec.Job
	now   time.Time
	audit *access.Entry // nil outside a write request
}

// createResult is a registration's job and its signing secret.
type createResult struct {
	job    *store.Job
	secret string
	err    error
}

// createJobs stores the jobs of concurrent registrations in one
// transaction, with their audit rows in one statement. A failure (the
// database's: the definitions were validated) fails the transaction; the
// batcher then stores each registration alone, so that one fails alone.
func (a *API) createJobs(ctx context.Context, items []createItem) ([]createResult, error) {
	out := make([]createResult, len(items))
	err := store.InTx(ctx, a.pool, func(tx pgx.Tx) error {
		var audits []*access.Entry
		for i := range items {
			created, secret, err := jobs.CreateJob(ctx, tx, items[i].job, items[i].now)
			if err != nil {
				return err
			}
			out[i] = createResult{job: created, secret: secret}
			if e := items[i].audit; e != nil {
				e.ObjectID = created.ID.String()
				audits = append(audits, e)
			}
		}
		return access.AuditMany(ctx, store.Later(tx), audits) // sent with COMMIT
	})
	return out, err
}

// createdJob is the answer to a registration: the job with its secrets
// (shown this once) and its warnings.
func (a *API) createdJob(ctx context.Context, j *jobspec.Job, created *store.Job, secret string) (*jobResponse, error) {
	resp, err := toJobResponse(created, &a.schedules)
	if err != nil {
		return nil, err
	}
	resp.Secret = secret
	if created.InboundSecret != nil {
		resp.InboundSecret = *created.InboundSecret
	}
	resp.Warnings, err = a.poolWarnings(ctx, j)
	return resp, err
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
	if err := a.seeJob(ctx, req.id); err != nil {
		return nil, err
	}
	j, err := store.New(a.pool).GetJob(ctx, req.id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("job " + req.id.String())
	}
	if err != nil {
		return nil, err
	}
	out, err := toJobResponse(&j, &a.schedules)
	if err != nil {
		return nil, err
	}
	return out, a.withDeviceZones(ctx, out, &j)
}

// withDeviceZones adds a device-local job's zones, and previews its next
// ticks over them.
func (a *API) withDeviceZones(ctx context.Context, out *jobResponse, j *store.Job) error {
	zones, err := jobs.LocalZones(ctx, a.pool, j, a.now(), previewCount, &a.schedules)
	if err != nil || zones == nil {
		return err
	}
	out.DeviceZones = make([]deviceZoneResponse, len(zones))
	next := map[time.Time]bool{}
	for i, z := range zones {
		out.DeviceZones[i] = deviceZoneResponse{Timezone: z.Timezone, Devices: z.Devices, NextFireAt: z.NextFireAt}
		for _, t := range z.Next {
			next[t] = true
		}
	}
	times := slices.SortedFunc(maps.Keys(next), time.Time.Compare)
	out.NextFireTimes = times[:min(len(times), previewCount)]
	return nil
}

// deleteJob stops the job's future ticks; its runs stay readable.
func (a *API) deleteJob(ctx context.Context, tx pgx.Tx, req *jobIDRequest) (*struct{}, error) {
	if err := a.seeJob(ctx, req.id); err != nil {
		return nil, err
	}
	return nil, jobNotFound(jobs.DeleteJob(ctx, tx, a.inserter, req.id), req.id)
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
	labels, ok := keyLabels(ctx, req.labels)
	if !ok {
		return &listJobsResponse{Data: []*jobResponse{}}, nil
	}
	if labels != nil {
		var err error
		if p.Labels, err = json.Marshal(labels); err != nil {
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
	if err := decodeJSON(w, r, a.maxBody, &req.job); err != nil {
		return err
	}
	if err := a.validate(&req.job, a.now()); err != nil {
		return err
	}
	return a.checkDevices(r.Context(), &req.job)
}

// updateJob replaces a job's definition (the whole of it, as POST takes it)
// and re-arms its schedule from now (jobs.UpdateJob).
func (a *API) updateJob(ctx context.Context, tx pgx.Tx, req *updateJobRequest) (*jobResponse, error) {
	if err := a.seeJob(ctx, req.id); err != nil {
		return nil, err
	}
	if err := mayLabel(ctx, req.job.Labels); err != nil {
		return nil, err
	}
	updated, inbound, err := jobs.UpdateJob(ctx, tx, a.inserter, req.id, &req.job, a.now())
	if err != nil {
		return nil, jobNotFound(err, req.id)
	}
	resp, err := toJobResponse(updated, &a.schedules)
	if err != nil {
		return nil, err
	}
	resp.InboundSecret = inbound
	resp.Warnings, err = a.poolWarnings(ctx, &req.job)
	return resp, err
}

// setPaused pauses or resumes a job (jobs.SetPaused).
func (a *API) setPaused(paused bool) writeCore[jobIDRequest, jobResponse] {
	return func(ctx context.Context, tx pgx.Tx, req *jobIDRequest) (*jobResponse, error) {
		if err := a.seeJob(ctx, req.id); err != nil {
			return nil, err
		}
		out, err := jobs.SetPaused(ctx, tx, a.inserter, req.id, paused)
		if err != nil {
			return nil, jobNotFound(err, req.id)
		}
		return toJobResponse(out, &a.schedules)
	}
}

// rotateSecret issues a new signing secret (jobs.RotateSecret); the
// response carries it.
func (a *API) rotateSecret(ctx context.Context, tx pgx.Tx, req *jobIDRequest) (*jobResponse, error) {
	if err := a.seeJob(ctx, req.id); err != nil {
		return nil, err
	}
	j, secret, err := jobs.RotateSecret(ctx, tx, req.id, a.now())
	if err != nil {
		return nil, jobNotFound(err, req.id)
	}
	resp, err := toJobResponse(j, &a.schedules)
	if err != nil {
		return nil, err
	}
	resp.Secret = secret
	return resp, nil
}

// rotateInboundSecret issues a new inbound secret
// (jobs.RotateInboundSecret); the response carries it. A job without an
// inbound hook is 404.
func (a *API) rotateInboundSecret(ctx context.Context, tx pgx.Tx, req *jobIDRequest) (*jobResponse, error) {
	if err := a.seeJob(ctx, req.id); err != nil {
		return nil, err
	}
	j, secret, err := jobs.RotateInboundSecret(ctx, tx, req.id, a.now())
	if errors.Is(err, jobs.ErrJobNotFound) {
		return nil, notFound("inbound hook of job " + req.id.String())
	}
	if err != nil {
		return nil, err
	}
	resp, err := toJobResponse(j, &a.schedules)
	if err != nil {
		return nil, err
	}
	resp.InboundSecret = secret
	return resp, nil
}

// jobNotFound is err, as a 404 naming job id when it is jobs.ErrJobNotFound.
func jobNotFound(err error, id uuid.UUID) error {
	if errors.Is(err, jobs.ErrJobNotFound) {
		return notFound("job " + id.String())
	}
	return err
}
