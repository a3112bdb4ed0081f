package jobs

import (
	"sync"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/store"
)

// keptJobsMax bounds keptJobs: when one more job would pass it, the map
// starts over empty.
const keptJobsMax = 4096

// keptJobs keeps the single-task jobs that manual triggers read, with the
// version of each row read (its xmin), so that a later batch of triggers
// of the same jobs inserts its runs without reading them again: one round
// trip fewer a batch. The insert checks that each kept job is still that
// version (herald_jobs_unchanged, migration 0026) and fails as a
// serialization failure when one is not; TriggerRuns then forgets the
// batch's kept jobs, and store.InTx runs the batch again, reading them
// afresh. Only single-task jobs are kept: their runs are the ones whose
// insert checks (soloRuns.createTriggered).
//
// The jobs are shared: nobody changes one.
type keptJobs struct {
	mu sync.Mutex
	m  map[uuid.UUID]keptJob
}

// keptJob is a job row and the version it was read at.
type keptJob struct {
	job     *store.Job
	version string
}

// get returns job id as kept, if it is. A nil keptJobs keeps nothing.
func (k *keptJobs) get(id uuid.UUID) (keptJob, bool) {
	if k == nil {
		return keptJob{}, false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	j, ok := k.m[id]
	return j, ok
}

// put keeps job, read at version.
func (k *keptJobs) put(job *store.Job, version string) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.m[job.ID]; !ok && len(k.m) >= keptJobsMax {
		k.m = nil
	}
	if k.m == nil {
		k.m = make(map[uuid.UUID]keptJob)
	}
	k.m[job.ID] = keptJob{job: job, version: version}
}

// forget drops the jobs ids.
func (k *keptJobs) forget(ids []uuid.UUID) {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, id := range ids {
		delete(k.m, id)
	}
}

// keptJobsOf is the jobs ins keeps; nil for none.
func keptJobsOf(ins Inserter) *keptJobs {
	if c, ok := ins.(*Client); ok {
		return c.kept
	}
	return nil
}
