package views

import (
	"unicode/utf8"

	"github.com/herald-sched/herald/views/layered"
)

// A node's box fits its label, in 12px monospace, on one line or two: a
// task id is never cut (the box widens), and its <title> holds it whole.
const (
	charWidth   = 7.3 // a 12px monospace character (DejaVu Sans Mono: 0.602em), rounded up
	lineHeight  = 15
	boxPadX     = 10
	boxPadY     = 9.5
	minBoxWidth = 96
	// oneLine is the longest label kept on one line.
	oneLine = 22
	// breakBonus is how many characters of balance a break after a '-',
	// '_' or '.' is worth.
	breakBonus = 4
)

// labelLines splits a task id into the lines of its label: one line up to
// oneLine characters, else two, broken after a '-', '_' or '.' near the
// middle when there is one. The lines joined are the id.
func labelLines(id string) []string {
	n := utf8.RuneCountInString(id)
	if n <= oneLine {
		return []string{id}
	}
	r := []rune(id)
	best, bestCost := n/2, n+breakBonus
	for k := 1; k < n; k++ {
		cost := max(k, n-k)
		switch r[k-1] {
		case '-', '_', '.':
			cost -= breakBonus
		}
		if cost < bestCost {
			best, bestCost = k, cost
		}
	}
	return []string{string(r[:best]), string(r[best:])}
}

// boxSize is the size of a box holding these lines.
func boxSize(lines []string) layered.Size {
	longest := 0
	for _, l := range lines {
		longest = max(longest, utf8.RuneCountInString(l))
	}
	return layered.Size{
		W: max(minBoxWidth, float64(longest)*charWidth+2*boxPadX),
		H: float64(len(lines))*lineHeight + 2*boxPadY,
	}
}
