package handlers

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/placement"
	"github.com/herald-sched/herald/views"
)

// placements says, for a job's page, where each task with a target would be
// delivered now: the placement chain an attempt runs (its strategy's, over
// this process's fleet snapshot, at most device.DefaultFleetRefresh old),
// for a task run id fixed per job and task, so that the answer changes
// with the fleet, not from one page load to the next. Tasks come in order
// (the drawing's; the job's own when not drawn), at most
// views.MaxShownTasks of them.
func (a *API) placements(ctx context.Context, jobID uuid.UUID, order []string, tasks []jobspec.Task) ([]views.PlacementRow, error) {
	if a.fleet == nil {
		return nil, nil
	}
	byID := make(map[string]*jobspec.Task, len(tasks))
	for i := range tasks {
		byID[tasks[i].ID] = &tasks[i]
	}
	if len(order) == 0 {
		for i := range tasks {
			order = append(order, tasks[i].ID)
		}
	}
	var rows []views.PlacementRow
	for _, id := range order {
		t := byID[id]
		if t == nil || t.Target == nil {
			continue
		}
		if len(rows) == views.MaxShownTasks {
			break
		}
		row, err := a.placeNow(ctx, jobID, t)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// placeNow runs the placement of one task with a target.
func (a *API) placeNow(ctx context.Context, jobID uuid.UUID, t *jobspec.Task) (views.PlacementRow, error) {
	row := views.PlacementRow{TaskID: t.ID, Target: describeTarget(t.Target)}
	task := placement.Task{
		TaskRunID: uuid.NewSHA1(jobID, []byte(t.ID)),
		PushOnly:  a.hub == nil, // as a worker without a hub places
	}
	strategy := placement.StrategyLoadAware
	var (
		snap *placement.Snapshot
		err  error
	)
	if p := t.Target.Pool; p != nil {
		strategy, task.Selector = p.Strategy, p.Selector
		if p.TopN != nil {
			task.TopN = *p.TopN
		}
		snap, err = a.fleet.Pool(ctx, p.Selector)
	} else {
		id, perr := uuid.Parse(t.Target.Device)
		if perr != nil {
			row.Explain = "not a device id: " + t.Target.Device
			return row, nil
		}
		snap, err = a.fleet.Device(ctx, id)
	}
	if err != nil {
		return row, err
	}
	chain, err := placement.ForStrategy(strategy)
	if err != nil {
		row.Explain = err.Error()
		return row, nil
	}
	d := chain.Place(snap, &task)
	row.Explain = d.Explain()
	if c := d.Chosen(); c != nil {
		row.DeviceID, row.DeviceName = c.ID.String(), c.Name
	}
	return row, nil
}

// describeTarget writes a target: "pool site=17 (load_aware, top 3) /hook",
// "device <id> /hook".
func describeTarget(t *jobspec.Target) string {
	var b strings.Builder
	if p := t.Pool; p != nil {
		b.WriteString("pool")
		for _, k := range slices.Sorted(maps.Keys(p.Selector)) {
			b.WriteString(" " + k + "=" + p.Selector[k])
		}
		b.WriteString(" (" + cmp.Or(p.Strategy, placement.StrategyLoadAware))
		if p.TopN != nil && *p.TopN > 1 {
			b.WriteString(", top " + strconv.Itoa(*p.TopN))
		}
		b.WriteString(")")
	} else {
		b.WriteString("device " + t.Device)
	}
	if t.Path != "" {
		b.WriteString(" " + t.Path)
	}
	return b.String()
}
