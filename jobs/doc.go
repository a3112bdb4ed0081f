// Package jobs is herald's domain of jobs and runs: the writes of job
// definitions (definition.go), starting runs (run.go, start.go, trigger.go),
// the ticker that claims due ticks (ticker.go, its planning in fire.go), the
// River worker that delivers one task attempt (deliver.go) and the batched
// records of attempts (record.go), run control (control.go), and the
// reclaim of a dead replica's deliveries (reclaim.go). Every state change of
// herald's tables and the River jobs it implies commit in one transaction,
// which the caller passes in.
package jobs
