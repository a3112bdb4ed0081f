package jobs

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/state"
	"github.com/herald-sched/herald/internal/store"
)

// runOf copies each column of a run: filled with a distinct value per
// field, the copy equals the original field by field, and the two structs
// have the same fields.
func TestRunOfCopiesEveryField(t *testing.T) {
	t.Parallel()
	row := reflect.TypeFor[store.CreateSoloRunsRow]()
	run := reflect.TypeFor[store.Run]()
	require.Equal(t, run.NumField(), row.NumField(), "runs has a column CreateSoloRunsRow or runOf lacks")
	for i := range run.NumField() {
		require.Equal(t, run.Field(i).Name, row.Field(i).Name)
	}
	var r store.CreateSoloRunsRow
	v := reflect.ValueOf(&r).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.IsZero() {
			continue
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("x")
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Int32:
			f.SetInt(int64(i + 1))
		case reflect.Slice, reflect.Pointer, reflect.Array, reflect.Struct:
			f.Set(nonZero(f.Type()))
		}
	}
	got := reflect.ValueOf(runOf(&r))
	for i := range v.NumField() {
		require.False(t, got.Field(i).IsZero(), "runOf leaves %s out", run.Field(i).Name)
	}
}

// nonZero is a value of type t that is not its zero value.
func nonZero(t reflect.Type) reflect.Value {
	switch t.Kind() {
	case reflect.Pointer:
		p := reflect.New(t.Elem())
		p.Elem().Set(nonZero(t.Elem()))
		return p
	case reflect.Slice:
		s := reflect.MakeSlice(t, 1, 1)
		if t.Elem().Kind() == reflect.Uint8 {
			s.Index(0).SetUint(1)
		} else {
			s.Index(0).Set(nonZero(t.Elem()))
		}
		return s
	case reflect.Array:
		a := reflect.New(t).Elem()
		a.Index(0).Set(nonZero(t.Elem()))
		return a
	case reflect.String:
		return reflect.ValueOf("x").Convert(t)
	case reflect.Uint8:
		return reflect.ValueOf(uint8(1)).Convert(t)
	case reflect.Struct: // time.Time
		return reflect.ValueOf(utc("2027-01-01T00:00:00Z")).Convert(t)
	}
	panic("nonZero: " + t.String())
}

// The runs TriggerRuns answers with are the rows it wrote, field for field:
// CreateTriggeredSoloRuns returns nothing, so they are built from the jobs
// (triggeredRun), with and without what a run takes from its job.
func TestTriggeredRunsAreTheRowsWritten(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx := context.Background()
	timeout := jobspec.Duration(90 * time.Second)
	specs := []jobspec.Job{
		{Name: "plain", Tasks: []jobspec.Task{task("call")}},
		{Name: "full", Tasks: []jobspec.Task{task("call")}, RunTimeout: &timeout, FailureHandled: true,
			OnRunEnd: &jobspec.Callback{URL: "https://hooks.example/end", Headers: map[string]string{"X-A": "1"}}},
	}
	var ids []uuid.UUID
	for _, j := range specs {
		require.NoError(t, j.Validate(time.Now(), jobspec.Limits{}, func(string) error { return nil }))
		b.tx(t, func(tx pgx.Tx) error {
			job, _, err := CreateJob(ctx, tx, &j, time.Now())
			ids = append(ids, job.ID)
			return err
		})
	}
	at := time.Date(2026, 12, 2, 10, 0, 0, 123456789, time.UTC) // nanoseconds PostgreSQL does not keep
	triggers := []Trigger{
		{JobID: ids[0], At: at},
		{JobID: ids[1], At: at, Input: json.RawMessage(`{"a":[1,2]}`)},
		{JobID: ids[1], At: at.Add(time.Second), Trigger: TriggerInbound},
		{JobID: uuid.Must(uuid.NewV7()), At: at}, // no such job
	}
	var runs []*store.Run
	var errs []error
	// store.BeginFunc: the insert is held and goes out with River's.
	require.NoError(t, store.BeginFunc(ctx, b.pool, func(tx pgx.Tx) (err error) {
		runs, errs, err = TriggerRuns(ctx, tx, b.client, triggers)
		return err
	}))
	require.ErrorIs(t, errs[3], ErrJobNotFound)
	for i, run := range runs[:3] {
		require.NoError(t, errs[i])
		got, err := store.New(b.pool).GetRun(ctx, run.ID)
		require.NoError(t, err)
		require.Equal(t, utcTimes(got), utcTimes(*run), "trigger %d", i)
		require.Len(t, b.taskRuns(t, run.ID), 1)
	}
	require.NotNil(t, runs[1].Deadline)
	require.Equal(t, state.RunRunning, runs[1].State)
}

// utcTimes is r with its times in UTC, to compare runs read from
// PostgreSQL (in the local zone) with runs built in Go.
func utcTimes(r store.Run) store.Run {
	r.ScheduledFor, r.CreatedAt = r.ScheduledFor.UTC(), r.CreatedAt.UTC()
	for _, p := range []**time.Time{&r.FinishedAt, &r.Deadline} {
		if *p != nil {
			u := (**p).UTC()
			*p = &u
		}
	}
	return r
}
