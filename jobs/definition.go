package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/signing"
	"github.com/herald-sched/herald/internal/store"
)

// The writes of job definitions: create, update, pause or resume, delete,
// rotate the signing secret. Each takes the transaction it writes in; the
// definition is validated (jobspec.Job.Validate) before it comes here.

// ErrJobNotFound is returned for an unknown or deleted job.
var ErrJobNotFound = errors.New("job not found")

// RotationOverlap is how long deliveries stay signed with the previous secret
// after a rotation, so that receivers can switch without downtime.
const RotationOverlap = 24 * time.Hour

// CreateJob stores the validated definition j, registered at now, with a
// new signing secret, which it returns (it is shown this once), and, when j
// enables its inbound hook, a new inbound secret (in the job's row, shown
// once too). The ticker finds the job's first tick in its row.
func CreateJob(ctx context.Context, tx pgx.Tx, j *jobspec.Job, now time.Time) (*store.Job, string, error) {
	enc, err := encodeJob(j)
	if err != nil {
		return nil, "", err
	}
	next, cursor, err := firstFire(ctx, tx, j, enc, now)
	if err != nil {
		return nil, "", err
	}
	secret, err := signing.NewSecret()
	if err != nil {
		return nil, "", err
	}
	var inbound *string
	if j.Inbound != nil && j.Inbound.Enabled {
		s, err := signing.NewSecret()
		if err != nil {
			return nil, "", err
		}
		inbound = &s
	}
	created, err := store.New(tx).CreateJob(ctx, store.CreateJobParams{
		ID:             uuid.Must(uuid.NewV7()),
		Name:           j.Name,
		Schedule:       enc.schedule,
		Tasks:          enc.tasks,
		Labels:         enc.labels,
		Paused:         j.Paused,
		Misfire:        j.Misfire,
		Overlap:        j.Overlap,
		Secret:         secret,
		NextFireAt:     next,
		ScheduleAnchor: &now,
		DeviceCursor:   cursor,
		Rate:           j.Rate,
		MaxInFlight:    int32Ptr(j.MaxInFlight),
		RunTimeoutMs:   enc.runTimeoutMs,
		FailureHandled: j.FailureHandled,
		OnRunEnd:       enc.onRunEnd,
		InboundSecret:  inbound,
	})
	if err != nil {
		return nil, "", fmt.Errorf("create job: %w", err)
	}
	return &created, secret, nil
}

// UpdateJob replaces job id's definition with the validated j (the whole of
// it) and re-arms its schedule from now. Runs in progress keep the
// definition they started with; runs prepared ahead of their time are
// cancelled; the signing secret stays. An inbound hook that stays enabled
// keeps its secret; one enabled now gets a new one, which it returns (to
// show once; "" otherwise); one disabled loses it.
func UpdateJob(ctx context.Context, tx pgx.Tx, ins Inserter, id uuid.UUID, j *jobspec.Job, now time.Time) (*store.Job, string, error) {
	enc, err := encodeJob(j)
	if err != nil {
		return nil, "", err
	}
	next, cursor, err := firstFire(ctx, tx, j, enc, now)
	if err != nil {
		return nil, "", err
	}
	fresh, err := signing.NewSecret()
	if err != nil {
		return nil, "", err
	}
	updated, err := store.New(tx).UpdateJob(ctx, store.UpdateJobParams{
		ID: id, Name: j.Name, Schedule: enc.schedule, Tasks: enc.tasks, Paused: j.Paused,
		Misfire: j.Misfire, Overlap: j.Overlap, Labels: enc.labels,
		NextFireAt: next, ScheduleAnchor: &now, DeviceCursor: cursor,
		Rate: j.Rate, MaxInFlight: int32Ptr(j.MaxInFlight),
		RunTimeoutMs: enc.runTimeoutMs, FailureHandled: j.FailureHandled, OnRunEnd: enc.onRunEnd,
		Inbound: j.Inbound != nil && j.Inbound.Enabled, NewInboundSecret: fresh,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", ErrJobNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("update job: %w", err)
	}
	if updated.InboundSecret == nil || *updated.InboundSecret != fresh {
		fresh = ""
	}
	return &updated, fresh, CancelPreparedRuns(ctx, tx, ins, updated.ID)
}

// SetPaused pauses or resumes job id. A paused job's ticks do not fire, and
// its runs prepared ahead of their time are cancelled; on resume, the ticks
// it missed meanwhile are handled by its misfire policy.
func SetPaused(ctx context.Context, tx pgx.Tx, ins Inserter, id uuid.UUID, paused bool) (*store.Job, error) {
	q := store.New(tx)
	before, err := q.LockJob(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && before.DeletedAt != nil) {
		return nil, ErrJobNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("lock job: %w", err)
	}
	out, err := q.SetJobPaused(ctx, store.SetJobPausedParams{ID: id, Paused: paused})
	if err != nil {
		return nil, fmt.Errorf("pause job: %w", err)
	}
	if paused {
		if err := CancelPreparedRuns(ctx, tx, ins, id); err != nil {
			return nil, err
		}
	}
	return &out, nil
}

// DeleteJob stops job id's future ticks and cancels its runs prepared ahead
// of their time; its history stays readable.
func DeleteJob(ctx context.Context, tx pgx.Tx, ins Inserter, id uuid.UUID) error {
	_, err := store.New(tx).DeleteJob(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrJobNotFound
	}
	if err != nil {
		return fmt.Errorf("delete job: %w", err)
	}
	return CancelPreparedRuns(ctx, tx, ins, id)
}

// RotateSecret gives job id a new signing secret, which it returns; for
// RotationOverlap from now deliveries carry signatures with both the new and
// the previous secret.
func RotateSecret(ctx context.Context, tx pgx.Tx, id uuid.UUID, now time.Time) (*store.Job, string, error) {
	secret, err := signing.NewSecret()
	if err != nil {
		return nil, "", err
	}
	expires := now.Add(RotationOverlap)
	j, err := store.New(tx).RotateSecret(ctx, store.RotateSecretParams{ID: id, Secret: secret, PreviousExpiresAt: &expires})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", ErrJobNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("rotate secret: %w", err)
	}
	return &j, secret, nil
}

// RotateInboundSecret gives job id's inbound hook a new secret, which it
// returns; for RotationOverlap from now the previous one still verifies.
// ErrJobNotFound for a job without a hook.
func RotateInboundSecret(ctx context.Context, tx pgx.Tx, id uuid.UUID, now time.Time) (*store.Job, string, error) {
	secret, err := signing.NewSecret()
	if err != nil {
		return nil, "", err
	}
	expires := now.Add(RotationOverlap)
	j, err := store.New(tx).RotateInboundSecret(ctx, store.RotateInboundSecretParams{ID: id, Secret: &secret, PreviousExpiresAt: &expires})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", ErrJobNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("rotate inbound secret: %w", err)
	}
	return &j, secret, nil
}

// encodedJob is a definition's JSON columns and its run timeout.
// firstFire is the first tick of j's schedule set at now, and for a
// device-local schedule the cursor its ticks count from (now).
func firstFire(ctx context.Context, tx pgx.Tx, j *jobspec.Job, enc *encodedJob, now time.Time) (next, cursor *time.Time, err error) {
	if !j.Schedule.DeviceLocal() {
		return j.FirstFire(now), nil, nil
	}
	next, err = firstLocalFire(ctx, tx, j.Schedule.Cron, enc.tasks, now)
	return next, &now, err
}

type encodedJob struct {
	schedule, tasks, labels, onRunEnd []byte
	runTimeoutMs                      *int64
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
	labels := j.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	if enc.labels, err = json.Marshal(labels); err != nil {
		return nil, err
	}
	if j.OnRunEnd != nil {
		if enc.onRunEnd, err = json.Marshal(j.OnRunEnd); err != nil {
			return nil, err
		}
	}
	if j.RunTimeout != nil {
		enc.runTimeoutMs = new(j.RunTimeout.Std().Milliseconds())
	}
	return &enc, nil
}

func int32Ptr(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}
