package jobs

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/schedule"
	"github.com/herald-sched/herald/internal/store"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// planLocal groups the zones' ticks by instant, follows each zone's DST
// rules, and applies the misfire policy per zone: no clock, no database.
func TestPlanLocal(t *testing.T) {
	t.Parallel()
	zones := []string{"America/New_York", "Asia/Kolkata", "Europe/Berlin", "Europe/Paris"}
	tests := []struct {
		name          string
		expr, misfire string
		cursor, now   time.Time
		want          []localTick
		wantMissed    int
		wantNext      time.Time
	}{
		{
			name: "03:00 in Berlin and Paris is one instant", expr: "0 3 * * *", misfire: jobspec.MisfireFireOnce,
			cursor: utc("2026-12-01T00:00:00Z"), now: utc("2026-12-01T02:00:00.1Z"),
			want:     []localTick{{at: utc("2026-12-01T02:00:00Z"), zones: []string{"Europe/Berlin", "Europe/Paris"}}},
			wantNext: utc("2026-12-01T08:00:00Z"), // 03:00 EST
		},
		{
			name: "nothing due yet", expr: "0 3 * * *", misfire: jobspec.MisfireFireOnce,
			cursor: utc("2026-12-01T02:00:00.1Z"), now: utc("2026-12-01T05:00:00Z"),
			wantNext: utc("2026-12-01T08:00:00Z"),
		},
		{
			name: "New York's spring-forward gap fires at 03:00 EDT", expr: "30 2 * * *", misfire: jobspec.MisfireFireOnce,
			cursor: utc("2027-03-14T06:00:00Z"), now: utc("2027-03-14T07:00:00.1Z"),
			want:     []localTick{{at: utc("2027-03-14T07:00:00Z"), zones: []string{"America/New_York"}}},
			wantNext: utc("2027-03-14T21:00:00Z"), // 02:30 IST
		},
		{
			name: "03:00 across Europe's spring-forward: an hour earlier in UTC, fire_all after an outage", expr: "0 3 * * *", misfire: jobspec.MisfireFireAll,
			cursor: utc("2027-03-27T00:00:00Z"), now: utc("2027-03-28T01:00:00.1Z"),
			want: []localTick{
				{at: utc("2027-03-27T02:00:00Z"), zones: []string{"Europe/Berlin", "Europe/Paris"}}, // 03:00 CET
				{at: utc("2027-03-27T07:00:00Z"), zones: []string{"America/New_York"}},              // 03:00 EDT
				{at: utc("2027-03-27T21:30:00Z"), zones: []string{"Asia/Kolkata"}},                  // 03:00 IST
				{at: utc("2027-03-28T01:00:00Z"), zones: []string{"Europe/Berlin", "Europe/Paris"}}, // 03:00 CEST
			},
			wantNext: utc("2027-03-28T07:00:00Z"),
		},
		{
			name: "an outage: fire_once runs each zone's latest", expr: "30 2 * * *", misfire: jobspec.MisfireFireOnce,
			cursor: utc("2027-01-10T00:00:00Z"), now: utc("2027-01-12T12:00:00Z"),
			want: []localTick{
				{at: utc("2027-01-11T21:00:00Z"), zones: []string{"Asia/Kolkata"}},
				{at: utc("2027-01-12T01:30:00Z"), zones: []string{"Europe/Berlin", "Europe/Paris"}},
				{at: utc("2027-01-12T07:30:00Z"), zones: []string{"America/New_York"}},
			},
			// Berlin, Paris and New York ticked 3 times in the outage,
			// Kolkata twice (21:00Z on the 10th and 11th): all but each
			// zone's latest are missed.
			wantMissed: 2 + 2 + 2 + 1,
			wantNext:   utc("2027-01-12T21:00:00Z"),
		},
		{
			name: "an outage: skip runs nothing", expr: "30 2 * * *", misfire: jobspec.MisfireSkip,
			cursor: utc("2027-01-10T00:00:00Z"), now: utc("2027-01-12T12:00:00Z"),
			wantMissed: 3 + 3 + 3 + 2, wantNext: utc("2027-01-12T21:00:00Z"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plan := planLocal(tt.expr, tt.misfire, zones, tt.cursor, tt.now, DefaultMisfireGrace, &schedule.Cache{})
			require.Equal(t, tt.want, plan.ticks)
			require.Equal(t, tt.wantMissed, plan.missed, "missed")
			require.NotNil(t, plan.next)
			require.Equal(t, tt.wantNext, *plan.next, "next")
			require.Empty(t, plan.unreadable)
		})
	}
	t.Run("no zone, no next tick", func(t *testing.T) {
		t.Parallel()
		plan := planLocal("0 3 * * *", jobspec.MisfireFireOnce, nil, utc("2027-01-10T00:00:00Z"), utc("2027-01-11T00:00:00Z"), DefaultMisfireGrace, nil)
		require.Empty(t, plan.ticks)
		require.Nil(t, plan.next)
	})
	t.Run("a zone without rules is left out", func(t *testing.T) {
		t.Parallel()
		plan := planLocal("0 3 * * *", jobspec.MisfireFireOnce, []string{"Mars/Olympus", "UTC"}, utc("2027-01-10T00:00:00Z"), utc("2027-01-10T03:00:00Z"), DefaultMisfireGrace, nil)
		require.Equal(t, []localTick{{at: utc("2027-01-10T03:00:00Z"), zones: []string{"UTC"}}}, plan.ticks)
		require.Equal(t, []string{"Mars/Olympus"}, plan.unreadable)
	})
}

// localBundle is a database with devices in three zones and a mover, a
// device-local fleet job over them ("30 2 * * *", 02:30 local), and a
// ticker whose clock the test sets.
type localBundle struct {
	*testBundle
	job     *store.Job
	devices map[string]uuid.UUID // by name
	names   map[uuid.UUID]string
	now     time.Time
	mu      sync.Mutex
}

func setupLocal(t *testing.T, created time.Time) *localBundle {
	t.Helper()
	b := &localBundle{testBundle: setup(t), devices: map[string]uuid.UUID{}, names: map[uuid.UUID]string{}}
	ctx := context.Background()
	for name, zone := range map[string]string{
		"berlin": "Europe/Berlin", "newyork": "America/New_York", "kolkata": "Asia/Kolkata", "mover": "Europe/Berlin",
	} {
		id := uuid.Must(uuid.NewV7())
		_, err := store.New(b.pool).CreateDevice(ctx, store.CreateDeviceParams{
			ID: id, Name: name, Labels: []byte(`{"fleet": "cars"}`), Capacity: 1, Timezone: zone,
			TokenHash: []byte(id.String()), TokenPrefix: "hd_",
		})
		require.NoError(t, err)
		b.devices[name], b.names[id] = id, name
	}
	// A device outside the fleet does not make its zone tick.
	_, err := store.New(b.pool).CreateDevice(ctx, store.CreateDeviceParams{
		ID: uuid.Must(uuid.NewV7()), Name: "other", Labels: []byte(`{"fleet": "trucks"}`), Capacity: 1,
		Timezone: "Asia/Tokyo", TokenHash: []byte("other"), TokenPrefix: "hd_",
	})
	require.NoError(t, err)

	j := jobspec.Job{
		Name:     t.Name(),
		Schedule: &jobspec.Schedule{Cron: "30 2 * * *", Timezone: jobspec.DeviceTimezone},
		Tasks: []jobspec.Task{{
			ID:     "update",
			Target: &jobspec.Target{Fleet: &jobspec.Fleet{Selector: map[string]string{"fleet": "cars"}}, Path: "/update"},
		}},
	}
	require.NoError(t, j.Validate(created, jobspec.Limits{}, func(string) error { return nil }))
	b.tx(t, func(tx pgx.Tx) error {
		var err error
		b.job, _, err = CreateJob(ctx, tx, &j, created)
		return err
	})
	return b
}

func (b *localBundle) ticker(t *testing.T) *ticker {
	return &ticker{
		pool: b.pool, ins: b.client, logger: slog.New(slog.DiscardHandler), cache: &schedule.Cache{},
		now: func() time.Time {
			b.mu.Lock()
			defer b.mu.Unlock()
			return b.now
		},
		grace: DefaultMisfireGrace, batch: 100,
	}
}

func (b *localBundle) setNow(at time.Time) {
	b.mu.Lock()
	b.now = at
	b.mu.Unlock()
}

// localRun is a run of the job as the test checks it: its instant, zones
// and the names of its fleet task's members.
type localRun struct {
	at      time.Time
	zones   []string
	members []string
}

func (b *localBundle) runs(t *testing.T) []localRun {
	t.Helper()
	ctx := context.Background()
	rows, err := b.pool.Query(ctx, `SELECT id, scheduled_for, device_zones FROM runs WHERE job_id = $1 ORDER BY scheduled_for`, b.job.ID)
	require.NoError(t, err)
	type row struct {
		id    uuid.UUID
		at    time.Time
		zones []string
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		return x, r.Scan(&x.id, &x.at, &x.zones)
	})
	require.NoError(t, err)
	var out []localRun
	for _, r := range got {
		var ids []uuid.UUID
		require.NoError(t, b.pool.QueryRow(ctx,
			`SELECT coalesce(array_agg(device_id), '{}') FROM task_runs WHERE run_id = $1 AND fleet_of IS NOT NULL`, r.id).Scan(&ids))
		names := []string{}
		for _, id := range ids {
			names = append(names, b.names[id])
		}
		slices.Sort(names)
		out = append(out, localRun{at: r.at.UTC(), zones: r.zones, members: names})
	}
	return out
}

func (b *localBundle) nextFireAt(t *testing.T) *time.Time {
	t.Helper()
	j, err := store.New(b.pool).GetJob(context.Background(), b.job.ID)
	require.NoError(t, err)
	if j.NextFireAt == nil {
		return nil
	}
	next := j.NextFireAt.UTC()
	return &next
}

// moveDevice is a heartbeat of device name reporting zone.
func (b *localBundle) moveDevice(t *testing.T, name, zone string) {
	t.Helper()
	require.NoError(t, store.New(b.pool).RecordHeartbeatsMoved(context.Background(), store.RecordHeartbeatsMovedParams{
		Ids: []uuid.UUID{b.devices[name]}, Cpus: []float64{0.1}, Memories: []float64{0.1}, QueueDepths: []int32{0}, Timezones: []string{zone},
	}))
}

// A device-local 02:30 over devices in Berlin, New York and Kolkata, with
// one device that moves from Berlin to New York after Berlin's tick, and
// New York's spring-forward day: each instant is one run whose members are
// the devices whose local tick it is, the moving device runs again in its
// new zone, the gap fires at 03:00 EDT, and two tickers claiming at once
// start each instant once.
func TestDeviceLocalTicks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// All fake instants lie ahead of the database's real clock, as the
	// nudge of a moving device (next_fire_at = now()) needs.
	b := setupLocal(t, utc("2027-03-13T00:00:00Z"))
	require.Equal(t, utc("2027-03-13T01:30:00Z"), *b.nextFireAt(t), "the first tick: 02:30 CET")

	tk := b.ticker(t)
	claim := func(at string) {
		t.Helper()
		b.setNow(utc(at))
		_, err := tk.claim(ctx)
		require.NoError(t, err)
	}
	claim("2027-03-13T01:00:00Z") // not due: nothing claimed
	require.Empty(t, b.runs(t))

	claim("2027-03-13T01:30:00.1Z")
	require.Equal(t, []localRun{
		{at: utc("2027-03-13T01:30:00Z"), zones: []string{"Europe/Berlin"}, members: []string{"berlin", "mover"}},
	}, b.runs(t))
	require.Equal(t, utc("2027-03-13T07:30:00Z"), *b.nextFireAt(t), "next: 02:30 EST")

	// The mover crosses to New York: the job is planned again at once,
	// and its tick there comes with New York's.
	b.moveDevice(t, "mover", "America/New_York")
	require.True(t, b.nextFireAt(t).Before(utc("2027-03-13T01:30:00Z")), "the heartbeat did not ask for a new plan")
	claim("2027-03-13T02:00:00Z")
	require.Len(t, b.runs(t), 1, "a new plan fired a tick")
	require.Equal(t, utc("2027-03-13T07:30:00Z"), *b.nextFireAt(t))

	claim("2027-03-13T07:30:00.2Z")
	claim("2027-03-13T21:00:00.1Z")
	claim("2027-03-14T01:30:00.1Z")
	require.Equal(t, utc("2027-03-14T07:00:00Z"), *b.nextFireAt(t), "02:30 does not exist in New York on 14 March: 03:00 EDT")

	// Two replicas claim the same instant at once.
	b.setNow(utc("2027-03-14T07:00:00.1Z"))
	other := b.ticker(t)
	var wg sync.WaitGroup
	for _, x := range []*ticker{tk, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				_, err := x.claim(ctx)
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()

	require.Equal(t, []localRun{
		{at: utc("2027-03-13T01:30:00Z"), zones: []string{"Europe/Berlin"}, members: []string{"berlin", "mover"}},
		{at: utc("2027-03-13T07:30:00Z"), zones: []string{"America/New_York"}, members: []string{"mover", "newyork"}},
		{at: utc("2027-03-13T21:00:00Z"), zones: []string{"Asia/Kolkata"}, members: []string{"kolkata"}},
		{at: utc("2027-03-14T01:30:00Z"), zones: []string{"Europe/Berlin"}, members: []string{"berlin"}},
		{at: utc("2027-03-14T07:00:00Z"), zones: []string{"America/New_York"}, members: []string{"mover", "newyork"}},
	}, b.runs(t))
	require.Equal(t, utc("2027-03-14T21:00:00Z"), *b.nextFireAt(t))

	// A run triggered by hand reaches the whole fleet, whatever the zones.
	var run *store.Run
	b.tx(t, func(tx pgx.Tx) error {
		var err error
		run, err = TriggerRun(ctx, tx, b.client, Trigger{JobID: b.job.ID, At: time.Now()})
		return err
	})
	var members int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM task_runs WHERE run_id = $1 AND fleet_of IS NOT NULL`, run.ID).Scan(&members))
	require.Equal(t, 4, members)
}

// A device-local job whose fleet has no device has no next tick; a device
// registered in the fleet plans it.
func TestDeviceLocalWithoutDevices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := &localBundle{testBundle: setup(t)}
	created := utc("2027-01-10T00:00:00Z")
	j := jobspec.Job{
		Name:     t.Name(),
		Schedule: &jobspec.Schedule{Cron: "0 3 * * *", Timezone: jobspec.DeviceTimezone},
		Tasks: []jobspec.Task{{
			ID:     "collect",
			Target: &jobspec.Target{Fleet: &jobspec.Fleet{Selector: map[string]string{"fleet": "empty"}}, Path: "/logs"},
		}},
	}
	require.NoError(t, j.Validate(created, jobspec.Limits{}, func(string) error { return nil }))
	b.tx(t, func(tx pgx.Tx) error {
		var err error
		b.job, _, err = CreateJob(ctx, tx, &j, created)
		return err
	})
	require.Nil(t, b.nextFireAt(t))

	_, err := store.New(b.pool).CreateDevice(ctx, store.CreateDeviceParams{
		ID: uuid.Must(uuid.NewV7()), Name: "first", Labels: []byte(`{"fleet": "empty"}`), Capacity: 1,
		Timezone: "Asia/Tokyo", TokenHash: []byte("first"), TokenPrefix: "hd_",
	})
	require.NoError(t, err)
	require.NoError(t, store.New(b.pool).NudgeDeviceLocalJobs(ctx)) // as device.Registry.Create does
	require.NotNil(t, b.nextFireAt(t), "the nudge did not plan the job")
	b.setNow(created.Add(time.Hour))
	_, err = b.ticker(t).claim(ctx)
	require.NoError(t, err)
	require.Equal(t, utc("2027-01-10T18:00:00Z"), *b.nextFireAt(t), "03:00 JST")
}

// A device-local job whose definition no longer decodes stops ticking,
// and the claim goes on for the other jobs.
func TestDeviceLocalUnreadableJobIsIsolated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setupLocal(t, utc("2027-03-13T00:00:00Z"))
	_, err := b.pool.Exec(ctx, `UPDATE jobs SET tasks = '{"not": "a list"}' WHERE id = $1`, b.job.ID)
	require.NoError(t, err)
	other := jobspec.Job{Name: "other", Schedule: &jobspec.Schedule{Cron: "30 1 * * *"},
		Tasks: []jobspec.Task{{ID: "main", Request: jobspec.Request{URL: "https://gw.example/"}}}}
	require.NoError(t, other.Validate(utc("2027-03-13T00:00:00Z"), jobspec.Limits{}, func(string) error { return nil }))
	var otherJob *store.Job
	b.tx(t, func(tx pgx.Tx) error {
		var err error
		otherJob, _, err = CreateJob(ctx, tx, &other, utc("2027-03-13T00:00:00Z"))
		return err
	})
	b.setNow(utc("2027-03-13T01:30:00.1Z"))
	_, err = b.ticker(t).claim(ctx)
	require.NoError(t, err)
	require.Nil(t, b.nextFireAt(t), "the unreadable job still ticks")
	var runs int
	require.NoError(t, b.pool.QueryRow(ctx, `SELECT count(*) FROM runs WHERE job_id = $1`, otherJob.ID).Scan(&runs))
	require.Equal(t, 1, runs, "the other job's tick did not start")
}
