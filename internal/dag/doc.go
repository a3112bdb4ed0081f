// Package dag validates and indexes the task graph of a herald job.
//
// A job's tasks form a directed acyclic graph through their depends_on
// lists: a task runs after every task it depends on (its parents) has
// succeeded. Build checks a graph at registration and returns a Graph that
// the scheduler, the failure logic and the topology export share.
//
// # Rules
//
//   - A task id is 1 to 64 characters, each a letter (A-Z, a-z), a digit,
//     '_' or '-'. Ids are case-sensitive and unique within a job.
//   - Every entry of depends_on names another task of the same job. A task
//     may not depend on itself or list the same dependency twice.
//   - The graph has no cycle.
//   - A job has at most Limits.MaxTasks tasks (default 10,000) and at most
//     Limits.MaxEdges depends_on entries in total (default 100,000).
//
// Build reports the first violation as an *Error. Limits are checked first,
// before any other work. Then tasks are checked in input order, and for
// each task its id before its depends_on entries in their order, so the
// error names the earliest offending task. Cycles are found last, as they
// concern the graph as a whole; the cycle reported is deterministic for a
// given input.
//
// # Cost
//
// Build runs in O(n + e) time and memory for n tasks and e dependencies,
// using iterative algorithms only, so chains of any depth are safe. The
// Graph is immutable and safe for concurrent use.
package dag
