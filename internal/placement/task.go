package placement

import "github.com/google/uuid"

// Task is what is to be placed: one delivery of a task run.
type Task struct {
	// TaskRunID seeds every tie-break: the same task run gets the same
	// device from the same snapshot.
	TaskRunID uuid.UUID
	// Selector lists the labels a device must carry (all of them).
	Selector map[string]string
	// TopN is how many of the best devices the task is spread over (load
	// aware): the tie-break among them is stable per task run. Default 1.
	TopN int
	// Sequence is the pool's placement counter, for round robin.
	Sequence uint64
	// Tried are devices whose attempts of this task run failed: a retry goes
	// to the next-best device, unless every eligible device was tried.
	Tried []uuid.UUID
	// PushOnly keeps the task off devices in pull mode.
	PushOnly bool
}
