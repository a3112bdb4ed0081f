//go:build race

package taskref

// raceEnabled is set under the race detector, which makes sync.Pool (used
// by encoding/json) drop items and so allocate at random.
const raceEnabled = true
