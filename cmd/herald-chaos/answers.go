package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// answerCounter counts the API's answers through nginx by the phase of the
// run they came in (steady, kill, outage, rolling) and by status, 0 standing
// for no answer (a transport error).
type answerCounter struct {
	mu     sync.Mutex
	phase  string
	counts map[string]map[int]int
}

// newAnswerCounter starts counting in phase.
func newAnswerCounter(phase string) *answerCounter {
	return &answerCounter{phase: phase, counts: map[string]map[int]int{}}
}

// SetPhase counts the next answers in phase.
func (a *answerCounter) SetPhase(phase string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.phase = phase
}

// Add counts one answer with status.
func (a *answerCounter) Add(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.counts[a.phase] == nil {
		a.counts[a.phase] = map[int]int{}
	}
	a.counts[a.phase][status]++
}

// Phases returns the counts by phase.
func (a *answerCounter) Phases() map[string]map[int]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string]map[int]int, len(a.counts))
	for phase, c := range a.counts {
		out[phase] = maps.Clone(c)
	}
	return out
}

// formatStatuses renders counts by status: "201×40 503×7 no answer×2".
func formatStatuses(counts map[int]int) string {
	if len(counts) == 0 {
		return "none"
	}
	var parts []string
	for _, status := range slices.Sorted(maps.Keys(counts)) {
		name := fmt.Sprint(status)
		if status == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s×%d", name, counts[status]))
	}
	return strings.Join(parts, " ")
}

// answerRows are the API's answers through nginx in each phase, and the
// requests nginx passed to another replica.
func (s *suite) answerRows() []row {
	phases := s.answers.Phases()
	var rows []row
	for _, phase := range []string{phaseSteady, stepKill, stepOutage, stepRolling} {
		if counts, ok := phases[phase]; ok {
			rows = append(rows, info("API answers through nginx, "+phaseName(phase), formatStatuses(counts)))
		}
	}
	retried, err := s.lb.Retried()
	value := fmt.Sprint(retried)
	if err != nil {
		value = "unknown: " + err.Error()
	}
	return append(rows, info("requests nginx tried on more than one replica", value))
}

// phaseName describes a phase for the table.
func phaseName(phase string) string {
	switch phase {
	case stepKill:
		return "from a SIGKILL to the restart"
	case stepOutage:
		return "while PostgreSQL was down (until the suite saw it up)"
	case stepRolling:
		return "during the rolling restart"
	}
	return "outside the faults"
}
