package rollout

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// MaxWaves bounds the waves of a rollout.
const MaxWaves = 20

// Wave is how far a rollout reaches when one of its waves has started,
// counted from the start of the rollout (waves are cumulative): a number of
// devices ("1", 1) or a percentage of the fleet ("30%").
type Wave struct {
	// Count is a number of devices; zero when Percent is set.
	Count int
	// Percent is a share of the fleet, in (0, 100]; zero when Count is set.
	Percent float64

	// err is why the JSON it was read from is not a wave: reported by
	// Check, with the wave's index, rather than by the JSON decoder.
	err error
}

// ParseWave reads "5" or "12.5%".
func ParseWave(s string) (Wave, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return Wave{}, fmt.Errorf("%q is not a percentage such as \"10%%\"", s)
		}
		if f <= 0 || f > 100 {
			return Wave{}, fmt.Errorf("%q: a percentage is above 0%% and at most 100%%", s)
		}
		return Wave{Percent: f}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return Wave{}, fmt.Errorf("%q is not a count of devices (\"5\") or a percentage (\"10%%\")", s)
	}
	if n < 1 {
		return Wave{}, fmt.Errorf("%q: a count is at least 1", s)
	}
	return Wave{Count: n}, nil
}

// String writes w as ParseWave reads it.
func (w Wave) String() string {
	if w.Percent > 0 {
		return strconv.FormatFloat(w.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(w.Count)
}

// MarshalJSON writes a wave as a string ("5", "10%").
func (w Wave) MarshalJSON() ([]byte, error) { return json.Marshal(w.String()) }

// UnmarshalJSON reads a wave from a string ("5", "10%") or a number (5).
// A value that is not a wave is kept as an error for Check to report.
func (w *Wave) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] != '"' {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			*w = Wave{err: fmt.Errorf("a wave is a count (5, \"5\") or a percentage (\"10%%\"), not %s", b)}
			return nil
		}
		s = n.String()
	} else if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseWave(s)
	if err != nil {
		v = Wave{err: err}
	}
	*w = v
	return nil
}

// reach is how many of n devices the rollout reaches once w has started:
// a percentage rounds up (10% of 5 devices is 1), and nothing reaches past
// the fleet.
func (w Wave) reach(n int) int {
	if w.Percent > 0 {
		return min(n, int(math.Ceil(w.Percent*float64(n)/100-1e-9)))
	}
	return min(n, w.Count)
}

// Check says what is wrong with waves, by index: each must reach further
// than the one before it, as far as it can be told without the fleet's size
// (counts increase, percentages increase; a count after a percentage, or
// the reverse, is judged on the fleet).
func Check(waves []Wave) (index int, err error) {
	if len(waves) > MaxWaves {
		return MaxWaves, fmt.Errorf("at most %d waves", MaxWaves)
	}
	for i, w := range waves {
		if w.err != nil {
			return i, w.err
		}
	}
	for i := 1; i < len(waves); i++ {
		a, b := waves[i-1], waves[i]
		switch {
		case a.Count > 0 && b.Count > 0 && b.Count <= a.Count:
			return i, fmt.Errorf("waves are cumulative and must increase: %s after %s", b, a)
		case a.Percent > 0 && b.Percent > 0 && b.Percent <= a.Percent:
			return i, fmt.Errorf("waves are cumulative and must increase: %s after %s", b, a)
		case a.Percent == 100:
			return i, fmt.Errorf("no wave can follow 100%%")
		}
	}
	return 0, nil
}

// Plan splits a fleet of n devices into waves: sizes[i] is how many
// devices wave i adds. The waves are cumulative; a wave that adds nothing
// on this fleet (10% and then 1 device, on 5 devices) is left out, and a
// last wave reaches the whole fleet if the given ones do not. No waves is
// one wave of the whole fleet; an empty fleet has no waves.
func Plan(waves []Wave, n int) (sizes []int) {
	if n <= 0 {
		return nil
	}
	reached := 0
	for _, w := range waves {
		if r := w.reach(n); r > reached {
			sizes = append(sizes, r-reached)
			reached = r
		}
	}
	if reached < n {
		sizes = append(sizes, n-reached)
	}
	return sizes
}
