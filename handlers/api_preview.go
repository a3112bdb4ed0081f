package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/herald-sched/herald/internal/jobspec"
	"github.com/herald-sched/herald/internal/schedule"
)

// previewCount is how many upcoming ticks a job shows.
const previewCount = 5

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
	if req.Schedule.DeviceLocal() {
		return nil, invalidFields(http.StatusUnprocessableEntity, fieldError("schedule.timezone",
			`"device" fires in each device's own zone: preview it with one of those zones (such as "Europe/Berlin"); GET /v1/jobs/{id} of a device-local job lists its zones and their next ticks`))
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
