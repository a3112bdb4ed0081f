package jobs

import (
	"encoding/json"
	"sync"

	"github.com/herald-sched/herald/internal/jobspec"
)

// specCacheBytes bounds a specCache by the bytes of its keys (the JSON
// decoded): about a thousand typical task definitions. When an entry would
// take it past that, the cache starts over empty.
const specCacheBytes = 1 << 20

// specCache keeps what was decoded from task definitions, keyed by their
// JSON byte for byte: every delivery of a job carries the same definition,
// and decoding it again (encoding/json, through the nested unmarshalers of
// jobspec) took about 8% of a replica's CPU per delivery (BENCHMARKS.md).
// A definition that does not decode is not kept: its error comes back each
// time.
//
// Values are shared: a caller copies a value before changing a field of
// it, and never changes a map, slice or pointer it holds.
type specCache[V any] struct {
	decode func([]byte) (V, error)

	mu    sync.RWMutex
	m     map[string]V
	bytes int
}

func newSpecCache[V any](decode func([]byte) (V, error)) *specCache[V] {
	return &specCache[V]{decode: decode}
}

// get returns raw decoded, from the cache when it is there.
func (c *specCache[V]) get(raw []byte) (V, error) {
	c.mu.RLock()
	v, ok := c.m[string(raw)]
	c.mu.RUnlock()
	if ok {
		return v, nil
	}
	v, err := c.decode(raw)
	if err != nil || len(raw) > specCacheBytes {
		return v, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || c.bytes+len(raw) > specCacheBytes {
		c.m, c.bytes = make(map[string]V), 0
	}
	if _, ok := c.m[string(raw)]; !ok {
		c.m[string(raw)] = v
		c.bytes += len(raw)
	}
	return v, nil
}

// decodeTask decodes a task run's definition (task_runs.spec).
func decodeTask(raw []byte) (jobspec.Task, error) {
	var t jobspec.Task
	err := json.Unmarshal(raw, &t)
	return t, err
}

// soloTask is what starting a run needs of a job's task list: whether the
// job has a single task that is not a fleet's (a single-task run), and
// that task's definition, raw and decoded.
type soloTask struct {
	ok   bool
	raw  json.RawMessage
	task jobspec.Task
}

// decodeSolo decodes a job's task list (jobs.tasks) as soloTask. It
// returns no error: a list that does not decode is not a single-task one,
// and starting its run as a DAG's reports why.
func decodeSolo(tasks []byte) (soloTask, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(tasks, &raw); err != nil || len(raw) != 1 {
		return soloTask{}, nil
	}
	var task jobspec.Task
	if err := json.Unmarshal(raw[0], &task); err != nil || task.IsFleet() {
		return soloTask{}, nil // a fleet task's run has its members too
	}
	return soloTask{ok: true, raw: append(json.RawMessage(nil), raw[0]...), task: task}, nil
}
