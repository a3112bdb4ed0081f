package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/schedule"
	"github.com/herald-sched/herald/internal/store"
)

// Device-local schedules ({"cron": "0 3 * * *", "timezone": "device"} on a
// job with a fleet task) fire in each device's own zone, as the device last
// reported it (a heartbeat's timezone, or its definition).
//
// A tick is an instant: 03:00 in Europe/Berlin and in Europe/Paris is one
// instant in winter, 03:00 in America/New_York another. The ticker plans
// the job over the zones its fleet's devices are in now (DeviceZones): its
// next_fire_at is the earliest next tick over those zones, and its
// device_cursor says up to when the ticks were handled. Claiming the job
// (its row locked, as for any job) starts one run per instant in (cursor,
// now], whose device_zones name the zones whose local time it is; the
// run's fleet tasks take the devices in those zones as members
// (FleetDevices). The cursor moves to now in the same transaction, and
// runs_one_per_tick stops a second run of an instant: each device's tick is
// one task run, once, across replicas.
//
// A device that reports another zone moves its next tick with it: the
// heartbeat (or the device's update) sets next_fire_at of the device-local
// jobs to now in the same statement (RecordHeartbeatsMoved,
// NudgeDeviceLocalJobs), and the ticker plans them again at once. Which
// zone a device is in is read when an instant's fleet task starts: a
// vehicle that crosses from Berlin to New York after 03:00 Berlin time runs
// again at 03:00 New York time (it is 03:00 where it is); one that crosses
// the other way before 03:00 New York time and after 03:00 Berlin time
// does not run that day. Each zone's ticks follow the cron DST rules
// (internal/schedule), and the job's misfire policy applies to each zone's
// ticks as to any cron schedule's.

// localTick is one instant of a device-local schedule and the zones whose
// local tick it is.
type localTick struct {
	at    time.Time
	zones []string
}

// localPlan is what to do about a device-local job's ticks at a claim.
type localPlan struct {
	// ticks are the instants to start runs for, in order.
	ticks []localTick
	// missed counts the zones' ticks not run.
	missed int
	// next is the earliest tick over the zones after now; nil when no
	// device is in any zone (a device's arrival plans the job again).
	next *time.Time
	// unreadable are zones whose rules could not be loaded: their devices
	// do not tick.
	unreadable []string
}

// planLocal plans the ticks of cron expression expr in each of zones that
// fall in (cursor, now], under the misfire policy, each zone as one cron
// schedule would be (planRec), and groups them by instant.
func planLocal(expr, misfire string, zones []string, cursor, now time.Time, grace time.Duration, cache *schedule.Cache) localPlan {
	var plan localPlan
	byInstant := map[time.Time][]string{}
	earliest := func(t time.Time) {
		if !t.IsZero() && (plan.next == nil || t.Before(*plan.next)) {
			plan.next = &t
		}
	}
	for _, z := range zones {
		rec, err := cache.ParseCron(expr, z)
		if err != nil {
			plan.unreadable = append(plan.unreadable, z)
			continue
		}
		due := rec.Next(cursor)
		if due.IsZero() || due.After(now) {
			earliest(due)
			continue
		}
		p := planRec(rec, misfire, due, now, grace)
		for _, at := range p.fire {
			byInstant[at] = append(byInstant[at], z)
		}
		plan.missed += p.missed
		if p.next != nil {
			earliest(*p.next)
		}
	}
	for at, zs := range byInstant {
		slices.Sort(zs)
		plan.ticks = append(plan.ticks, localTick{at: at, zones: zs})
	}
	slices.SortFunc(plan.ticks, func(a, b localTick) int { return a.at.Compare(b.at) })
	return plan
}

// fleetSelectors is the JSON array of the selectors of the fleet tasks in
// tasks (a job's task definitions as stored).
func fleetSelectors(tasks json.RawMessage) ([]byte, error) {
	var ts []jobspec.Task
	if err := json.Unmarshal(tasks, &ts); err != nil {
		return nil, fmt.Errorf("decode tasks: %w", err)
	}
	sel := []map[string]string{}
	for i := range ts {
		if ts[i].IsFleet() {
			s := ts[i].Target.Fleet.Selector
			if s == nil {
				s = map[string]string{}
			}
			sel = append(sel, s)
		}
	}
	return json.Marshal(sel)
}

// LocalZone is a zone a device-local job ticks in: how many of its fleet's
// devices are there now, and its next ticks there.
type LocalZone struct {
	Timezone   string
	Devices    int
	NextFireAt *time.Time
	// Next are the next ticks in the zone, NextFireAt first.
	Next []time.Time
}

// LocalZones lists the zones device-local job hj ticks in now, each with its
// next n ticks after now; nil for a job that is not device-local.
func LocalZones(ctx context.Context, db store.DBTX, hj *store.Job, now time.Time, n int, cache *schedule.Cache) ([]LocalZone, error) {
	var sched jobspec.Schedule
	if len(hj.Schedule) == 0 || json.Unmarshal(hj.Schedule, &sched) != nil || !sched.DeviceLocal() {
		return nil, nil
	}
	rows, err := fleetZones(ctx, db, hj.Tasks)
	if err != nil {
		return nil, err
	}
	out := make([]LocalZone, len(rows))
	for i, r := range rows {
		out[i] = LocalZone{Timezone: r.Timezone, Devices: int(r.Devices)}
		if rec, err := cache.ParseCron(sched.Cron, r.Timezone); err == nil {
			out[i].Next = schedule.NextN(rec, now, max(n, 1))
			if len(out[i].Next) > 0 {
				out[i].NextFireAt = &out[i].Next[0]
			}
		}
	}
	return out, nil
}

// firstLocalFire is the first tick after now of the device-local schedule
// of a job with tasks (as stored), over the zones its fleet's devices are
// in now; nil when none.
func firstLocalFire(ctx context.Context, tx pgx.Tx, cron string, tasks json.RawMessage, now time.Time) (*time.Time, error) {
	zones, err := localZones(ctx, tx, tasks)
	if err != nil {
		return nil, err
	}
	return planLocal(cron, jobspec.MisfireSkip, zones, now, now, 0, nil).next, nil
}

// fleetZones lists the zones of the devices the fleet tasks of tasks (as
// stored) select, with their counts.
func fleetZones(ctx context.Context, db store.DBTX, tasks json.RawMessage) ([]store.DeviceZonesRow, error) {
	sel, err := fleetSelectors(tasks)
	if err != nil {
		return nil, err
	}
	rows, err := store.New(db).DeviceZones(ctx, sel)
	if err != nil {
		return nil, fmt.Errorf("read the fleet's zones: %w", err)
	}
	return rows, nil
}

// localZones is fleetZones without the counts.
func localZones(ctx context.Context, db store.DBTX, tasks json.RawMessage) ([]string, error) {
	sel, err := fleetSelectors(tasks)
	if err != nil {
		return nil, err
	}
	return zonesOf(ctx, db, sel)
}

// zonesOf lists the zones of the devices selectors (fleetSelectors) match.
func zonesOf(ctx context.Context, db store.DBTX, selectors []byte) ([]string, error) {
	rows, err := store.New(db).DeviceZones(ctx, selectors)
	if err != nil {
		return nil, fmt.Errorf("read the fleet's zones: %w", err)
	}
	zones := make([]string, len(rows))
	for i, r := range rows {
		zones[i] = r.Timezone
	}
	return zones, nil
}

// claimLocal handles the due ticks of device-local job hj, claimed at now
// in tx: a run per instant (startIsolated), the cursor moved to now. It
// returns the job's next tick and the ticks missed and skipped.
func (t *ticker) claimLocal(ctx context.Context, tx pgx.Tx, hj *store.Job, sched *jobspec.Schedule, now time.Time) (tickPlan, int, error) {
	sel, err := fleetSelectors(hj.Tasks)
	if err != nil {
		// A definition that cannot be read cannot tick: stop it, loudly,
		// rather than fail the claim of every job with it.
		t.logger.ErrorContext(ctx, "job definition unreadable; no more ticks", slog.String("job_id", hj.ID.String()), slog.Any("error", err))
		return tickPlan{}, 0, nil
	}
	zones, err := zonesOf(ctx, tx, sel)
	if err != nil {
		return tickPlan{}, 0, err // the database's
	}
	cursor := hj.CreatedAt
	switch {
	case hj.DeviceCursor != nil:
		cursor = *hj.DeviceCursor
	case hj.ScheduleAnchor != nil:
		cursor = *hj.ScheduleAnchor
	}
	plan := planLocal(sched.Cron, hj.Misfire, zones, cursor, now, t.grace, t.cache)
	if len(plan.unreadable) > 0 {
		t.logger.WarnContext(ctx, "device zones without rules; their devices do not tick",
			slog.String("job_id", hj.ID.String()), slog.Any("zones", plan.unreadable))
	}
	if plan.missed > 0 {
		t.logger.InfoContext(ctx, "missed ticks", slog.String("job_id", hj.ID.String()),
			slog.Int("missed", plan.missed), slog.String("misfire", hj.Misfire))
	}
	skipped := 0
	for _, tick := range plan.ticks {
		wasSkipped, err := t.startIsolated(ctx, tx, hj, tick.at, tick.zones)
		if err != nil {
			return tickPlan{}, 0, err
		}
		if wasSkipped {
			skipped++
		}
	}
	if err := store.New(tx).SetDeviceCursor(ctx, store.SetDeviceCursorParams{ID: hj.ID, Cursor: &now}); err != nil {
		return tickPlan{}, 0, fmt.Errorf("move device cursor: %w", err)
	}
	return tickPlan{missed: plan.missed, next: plan.next}, skipped, nil
}
