package main

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAnalyzeTicks(t *testing.T) {
	from := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(job string, second int, late time.Duration) delivery {
		nominal := from.Add(time.Duration(second) * time.Second)
		return delivery{Job: job, ScheduledFor: nominal.Format(time.RFC3339Nano), At: nominal.Add(late)}
	}
	ds := []delivery{
		at("a", 0, 3*time.Millisecond),
		at("a", 1, 5*time.Millisecond),
		at("b", 0, time.Millisecond),
		at("b", 0, 2*time.Millisecond), // doubled
		// b's second 1 is missed.
		at("a", -1, time.Second),    // before the window
		at("a", 2, time.Second),     // after the window
		at("other", 0, time.Second), // not a measured job
		{Job: "a", ScheduledFor: "garbage"},
	}
	rep := analyzeTicks(ds, []string{"a", "b"}, from, 2, 1)
	require.Equal(t, 4, rep.Expected)
	require.Equal(t, 1, rep.Missed)
	require.Equal(t, 1, rep.Doubled)
	require.Equal(t, 1, rep.Unreadable)
	require.Equal(t, latencies{time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 5 * time.Millisecond}, rep.Lateness)
	require.Equal(t, 2.0, rep.Lateness.quantile(0.5))
	require.Equal(t, 5.0, rep.Lateness.max())
	require.Equal(t, latencies{time.Millisecond, 5 * time.Millisecond}, rep.BurstStarts, "second 0 began at 1 ms, second 1 at 5 ms")
	require.Zero(t, rep.lateStarts())
}

// A second whose whole burst begins late counts, however small its tail.
func TestLateStarts(t *testing.T) {
	from := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ds []delivery
	for sec, start := range []time.Duration{3, 4, 3, 22, 5, 3, 4} {
		nominal := from.Add(time.Duration(sec) * time.Second)
		for k := range 3 {
			late := start*time.Millisecond + time.Duration(k)*time.Millisecond
			ds = append(ds, delivery{Job: "a", ScheduledFor: nominal.Format(time.RFC3339Nano), At: nominal.Add(late)})
		}
	}
	rep := analyzeTicks(ds, []string{"a"}, from, 7, 1)
	require.Len(t, rep.BurstStarts, 7)
	require.Equal(t, 4.0, rep.BurstStarts.quantile(0.5))
	require.Equal(t, 1, rep.lateStarts(), "second 3 began 18 ms after the median")
}

func TestAnalyzeSpreadTicks(t *testing.T) {
	from := time.Unix(1_800_000_000, 0).UTC() // a multiple of 10 seconds
	at := func(job string, second int) delivery {
		nominal := from.Add(time.Duration(second) * time.Second)
		return delivery{Job: job, ScheduledFor: nominal.Format(time.RFC3339Nano), At: nominal.Add(time.Millisecond)}
	}
	// Job 0 fires at seconds 0 and 10 of the window, job 1 at 1 and 11.
	ds := []delivery{at("j0", 0), at("j0", 10), at("j1", 1), at("j1", 2)}
	rep := analyzeTicks(ds, []string{"j0", "j1"}, from, 20, 10)
	require.Equal(t, 4, rep.Expected)
	require.Equal(t, 1, rep.Missed, "j1 at 11")
	require.Equal(t, 1, rep.Doubled, "j1 at 2 is not one of its ticks")
	require.Len(t, rep.Lateness, 4)
}

func TestDAGShape(t *testing.T) {
	s, err := newDAGShape(10_000, 100)
	require.NoError(t, err)
	require.Equal(t, dagShape{wide: 9_898, chain: 100}, s)
	require.Equal(t, 10_000, s.Tasks())

	s, err = newDAGShape(50, 100)
	require.NoError(t, err)
	require.Equal(t, 50, s.Tasks())
	require.Equal(t, 1, s.wide)

	_, err = newDAGShape(3, 1)
	require.Error(t, err)
}

func TestDAGTimelineNamesTheSlowHops(t *testing.T) {
	t.Parallel()
	s, err := newDAGShape(6, 3) // root, w0, join, c0, c1, c2
	require.NoError(t, err)
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ms := func(n int) time.Time { return base.Add(time.Duration(n) * time.Millisecond) }
	task := func(id string, at, done int) delivery {
		return delivery{Run: "r", Task: id, At: ms(at), Done: ms(done)}
	}
	ds := []delivery{
		task(dagRoot, 0, 1),
		task(wideID(0), 3, 4),
		task(dagJoin, 6, 7),
		task(chainID(0), 9, 10),  // hop 2 ms
		task(chainID(1), 22, 23), // hop 12 ms
		task(chainID(2), 28, 29), // hop 5 ms
		task(chainID(2), 40, 41), // a second delivery of c2 is not a hop
	}
	run, err := dagTimeline(ds, "r", s)
	require.NoError(t, err)
	require.Equal(t, []part{{Name: "c1", Value: 12}, {Name: "c2", Value: 5}, {Name: "c0", Value: 2}}, run.slowHops)
	require.Equal(t, 12.0, run.hops.max())
	require.Equal(t, 2*time.Millisecond, run.fanIn)
}
