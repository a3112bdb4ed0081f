package dag

import (
	"fmt"
	"strings"
)

// Error kinds, the values of Error.Kind.
const (
	// KindDuplicateID: two tasks have the same id. Index is the later one.
	KindDuplicateID = "duplicate_id"
	// KindInvalidID: a task id breaks the id rule (see ValidID).
	KindInvalidID = "invalid_id"
	// KindUnknownDependency: depends_on names a task that does not exist
	// (including a name that is not a valid id).
	KindUnknownDependency = "unknown_dependency"
	// KindSelfLoop: a task depends on itself.
	KindSelfLoop = "self_loop"
	// KindDuplicateDependency: depends_on lists the same task twice.
	KindDuplicateDependency = "duplicate_dependency"
	// KindCycle: the dependencies form a cycle.
	KindCycle = "cycle"
	// KindTooManyTasks: the job has more tasks than Limits.MaxTasks.
	KindTooManyTasks = "too_many_tasks"
	// KindTooManyEdges: the depends_on lists hold more entries in total than
	// Limits.MaxEdges.
	KindTooManyEdges = "too_many_edges"
)

// maxCycleInMsg is the longest cycle Error.Msg spells out in full; longer
// ones are abbreviated (Error.IDs always holds the whole cycle).
const maxCycleInMsg = 12

// maxQuotedID bounds how much of an invalid id a message quotes.
const maxQuotedID = 2 * MaxIDLength

// Error is a validation failure found by Build.
type Error struct {
	// Kind classifies the failure; it is one of the Kind constants.
	Kind string
	// Index is the input position of the offending task, so that an API
	// can name tasks[Index].id or tasks[Index].depends_on; -1 for the limit
	// kinds, which concern the job as a whole. For a cycle it is the task
	// of the cycle that comes first in the input.
	Index int
	// IDs are the ids involved, as written in the input:
	//   - duplicate_id, invalid_id, self_loop: [id]
	//   - unknown_dependency, duplicate_dependency: [id, dependency]
	//   - cycle: the ids along the cycle, starting and ending with the same
	//     id, each depending on the one before it: [a b c a] means b depends
	//     on a, c on b and a on c
	//   - too_many_tasks, too_many_edges: nil
	IDs []string
	// Msg describes the failure for an API user. Ids are quoted, except in
	// a cycle, which reads "cycle: a -> b -> c -> a (each task depends on
	// the one before it)"; a cycle of more than 12 ids is abbreviated here,
	// never in IDs.
	Msg string
}

// Error returns Msg.
func (e *Error) Error() string { return e.Msg }

func invalidIDError(i int, id string) *Error {
	msg := fmt.Sprintf("task id %s is invalid: want 1-%d letters, digits, '_' or '-'", quote(id), MaxIDLength)
	if id == "" {
		msg = fmt.Sprintf("task id is empty: want 1-%d letters, digits, '_' or '-'", MaxIDLength)
	}
	return &Error{Kind: KindInvalidID, Index: i, IDs: []string{id}, Msg: msg}
}

func duplicateIDError(i, first int, id string) *Error {
	return &Error{Kind: KindDuplicateID, Index: i, IDs: []string{id},
		Msg: fmt.Sprintf("task id %q is used by tasks %d and %d", id, first, i)}
}

func unknownDependencyError(i int, id, dep string) *Error {
	return &Error{Kind: KindUnknownDependency, Index: i, IDs: []string{id, dep},
		Msg: fmt.Sprintf("task %q depends on unknown task %s", id, quote(dep))}
}

func selfLoopError(i int, id string) *Error {
	return &Error{Kind: KindSelfLoop, Index: i, IDs: []string{id},
		Msg: fmt.Sprintf("task %q depends on itself", id)}
}

func duplicateDependencyError(i int, id, dep string) *Error {
	return &Error{Kind: KindDuplicateDependency, Index: i, IDs: []string{id, dep},
		Msg: fmt.Sprintf("task %q lists dependency %q more than once", id, dep)}
}

func tooManyTasksError(n, limit int) *Error {
	return &Error{Kind: KindTooManyTasks, Index: -1,
		Msg: fmt.Sprintf("the job has %d tasks, more than the limit of %d", n, limit)}
}

func tooManyEdgesError(n, limit int) *Error {
	return &Error{Kind: KindTooManyEdges, Index: -1,
		Msg: fmt.Sprintf("the job has %d dependencies, more than the limit of %d", n, limit)}
}

// cycleError reports a cycle given as the ids along it, first id repeated
// at the end, each depending on the one before it.
func cycleError(i int, ids []string) *Error {
	shown := ids
	if len(ids) > maxCycleInMsg {
		shown = make([]string, 0, maxCycleInMsg+1)
		shown = append(shown, ids[:maxCycleInMsg-2]...)
		shown = append(shown, fmt.Sprintf("(%d more)", len(ids)-maxCycleInMsg))
		shown = append(shown, ids[len(ids)-2:]...)
	}
	return &Error{Kind: KindCycle, Index: i, IDs: ids,
		Msg: "cycle: " + strings.Join(shown, " -> ") + " (each task depends on the one before it)"}
}

// quote quotes s for a message, shortening it if it is long.
func quote(s string) string {
	if len(s) <= maxQuotedID {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:maxQuotedID], len(s))
}
