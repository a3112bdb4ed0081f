// Package jobs holds herald's River workers and the operations that enqueue
// them: firing a job's tick (fire.go), delivering one task attempt
// (deliver.go), and starting a run (run.go). Every state change of herald's
// tables and the River jobs it implies commit in one transaction.
package jobs
