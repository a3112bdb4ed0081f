//go:build !race

package taskref

const raceEnabled = false
