package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/signing"
	"github.com/herald-sched/herald/internal/store"
	"github.com/herald-sched/herald/jobs"
)

// jobResponse is a job as the API shows it.
type jobResponse struct {
	ID         uuid.UUID         `json:"id"`
	Name       string            `json:"name"`
	Schedule   *jobspec.Schedule `json:"schedule"`
	Tasks      []jobspec.Task    `json:"tasks"`
	Paused     bool              `json:"paused"`
	Misfire    string            `json:"misfire"`
	Overlap    string            `json:"overlap"`
	Labels     map[string]string `json:"labels"`
	NextFireAt *time.Time        `json:"next_fire_at"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	// Secret is the signing secret, shown only in the response that creates it.
	Secret string `json:"secret,omitempty"`
}

func (j *jobResponse) location() string { return "/v1/jobs/" + j.ID.String() }

func toJobResponse(j *store.Job) (*jobResponse, error) {
	out := &jobResponse{
		ID: j.ID, Name: j.Name, Paused: j.Paused, Misfire: j.Misfire, Overlap: j.Overlap,
		NextFireAt: j.NextFireAt, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
		Labels: map[string]string{},
	}
	if len(j.Schedule) > 0 && string(j.Schedule) != "null" {
		if err := json.Unmarshal(j.Schedule, &out.Schedule); err != nil {
			return nil, fmt.Errorf("decode schedule of job %s: %w", j.ID, err)
		}
	}
	if err := json.Unmarshal(j.Tasks, &out.Tasks); err != nil {
		return nil, fmt.Errorf("decode tasks of job %s: %w", j.ID, err)
	}
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
	if err := j.Validate(now, a.limits, a.checkURL); err != nil {
		var fe jobspec.Errors
		if errors.As(err, &fe) {
			return nil, invalidFields(http.StatusUnprocessableEntity, fe...)
		}
		return nil, err
	}
	secret, err := signing.NewSecret()
	if err != nil {
		return nil, err
	}
	params := store.CreateJobParams{
		ID:         uuid.Must(uuid.NewV7()),
		Name:       j.Name,
		Paused:     j.Paused,
		Misfire:    j.Misfire,
		Overlap:    j.Overlap,
		Secret:     secret,
		NextFireAt: j.FirstFire(now),
	}
	if params.Schedule, err = json.Marshal(j.Schedule); err != nil {
		return nil, err
	}
	if j.Schedule == nil {
		params.Schedule = nil
	}
	if params.Tasks, err = json.Marshal(j.Tasks); err != nil {
		return nil, err
	}
	if j.Labels == nil {
		j.Labels = map[string]string{}
	}
	if params.Labels, err = json.Marshal(j.Labels); err != nil {
		return nil, err
	}

	var created store.Job
	err = pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
		created, err = store.New(tx).CreateJob(ctx, params)
		if err != nil {
			return fmt.Errorf("create job: %w", err)
		}
		if created.NextFireAt != nil {
			return jobs.ScheduleFire(ctx, tx, a.inserter, created.ID, *created.NextFireAt)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	resp, err := toJobResponse(&created)
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
	return toJobResponse(&j)
}

// deleteJob stops the job's future ticks; its runs stay readable.
func (a *API) deleteJob(ctx context.Context, req *jobIDRequest) (*struct{}, error) {
	_, err := store.New(a.pool).DeleteJob(ctx, req.id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("job " + req.id.String())
	}
	return nil, err
}

type listJobsRequest struct {
	page pageRequest
}

type listJobsResponse struct {
	Data       []*jobResponse `json:"data"`
	NextCursor *string        `json:"next_cursor"`
}

func parseListJobs(_ http.ResponseWriter, r *http.Request, req *listJobsRequest) error {
	return req.page.parse(r)
}

func (a *API) listJobs(ctx context.Context, req *listJobsRequest) (*listJobsResponse, error) {
	rows, err := store.New(a.pool).ListJobs(ctx, store.ListJobsParams{Before: req.page.cursor, MaxRows: int32(req.page.limit + 1)})
	if err != nil {
		return nil, err
	}
	out := &listJobsResponse{Data: make([]*jobResponse, 0, len(rows))}
	for i := range rows {
		if i == req.page.limit {
			out.NextCursor = new(rows[i-1].ID.String())
			break
		}
		jr, err := toJobResponse(&rows[i])
		if err != nil {
			return nil, err
		}
		out.Data = append(out.Data, jr)
	}
	return out, nil
}

// triggerRun starts a run of the job now, outside its schedule.
func (a *API) triggerRun(ctx context.Context, req *jobIDRequest) (*runResponse, error) {
	var run *store.Run
	err := pgx.BeginFunc(ctx, a.pool, func(tx pgx.Tx) error {
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
