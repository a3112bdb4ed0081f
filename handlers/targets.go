package handlers

import (
	"context"
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/store"
)

// checkDevices refuses a job whose tasks name devices that do not exist
// (422 naming each task's target).
func (a *API) checkDevices(ctx context.Context, j *jobspec.Job) error {
	ids := j.DeviceIDs()
	if len(ids) == 0 {
		return nil
	}
	found, err := store.New(a.pool).ExistingDevices(ctx, ids)
	if err != nil {
		return err
	}
	exists := make(map[uuid.UUID]bool, len(found))
	for _, id := range found {
		exists[id] = true
	}
	var bad []jobspec.FieldError
	for i, t := range j.Tasks {
		if t.Target == nil || t.Target.Device == "" {
			continue
		}
		if id, err := uuid.Parse(t.Target.Device); err == nil && !exists[id] {
			bad = append(bad, fieldError(fmt.Sprintf("tasks[%d].target.device", i), "no device "+id.String()))
		}
	}
	if len(bad) > 0 {
		return invalidFields(http.StatusUnprocessableEntity, bad...)
	}
	return nil
}

// poolWarnings warns of pools that select by a label key no device
// carries: accepted (the device may come), but probably a typo.
func (a *API) poolWarnings(ctx context.Context, j *jobspec.Job) ([]string, error) {
	keys := j.PoolKeys()
	if len(keys) == 0 {
		return nil, nil
	}
	used, err := store.New(a.pool).LabelKeysInUse(ctx, keys)
	if err != nil {
		return nil, err
	}
	inUse := make(map[string]bool, len(used))
	for _, k := range used {
		inUse[k] = true
	}
	var out []string
	for _, k := range keys {
		if !inUse[k] {
			out = append(out, fmt.Sprintf("no device carries the label %q that a pool selects by: its tasks wait until one does", k))
		}
	}
	return out, nil
}
