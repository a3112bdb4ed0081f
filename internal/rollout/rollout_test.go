package rollout

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestParseWave(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     Wave
		wantErr  string
	}{
		{name: "count", in: "5", want: Wave{Count: 5}},
		{name: "percent", in: "12.5%", want: Wave{Percent: 12.5}},
		{name: "all", in: "100%", want: Wave{Percent: 100}},
		{name: "zero count", in: "0", wantErr: "at least 1"},
		{name: "negative", in: "-3", wantErr: "at least 1"},
		{name: "over 100", in: "101%", wantErr: "at most 100%"},
		{name: "zero percent", in: "0%", wantErr: "above 0%"},
		{name: "nan", in: "NaN%", wantErr: "not a percentage"},
		{name: "words", in: "half", wantErr: "not a count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseWave(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
			require.Equal(t, tt.in, got.String())
		})
	}
}

func TestWaveJSON(t *testing.T) {
	t.Parallel()
	var ws []Wave
	require.NoError(t, json.Unmarshal([]byte(`[1, "30%", "100%"]`), &ws))
	require.Equal(t, []Wave{{Count: 1}, {Percent: 30}, {Percent: 100}}, ws)
	b, err := json.Marshal(ws)
	require.NoError(t, err)
	require.JSONEq(t, `["1", "30%", "100%"]`, string(b))
	for _, bad := range []string{`[1.5]`, `[true]`, `["150%"]`, `[0]`} {
		require.NoError(t, json.Unmarshal([]byte(bad), &ws), "kept for Check, which names the wave")
		i, err := Check(ws)
		require.Error(t, err, bad)
		require.Zero(t, i)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		waves   []Wave
		index   int
		wantErr string
	}{
		{name: "canary then share", waves: []Wave{{Count: 1}, {Percent: 10}, {Percent: 100}}},
		{name: "counts down", waves: []Wave{{Count: 5}, {Count: 5}}, index: 1, wantErr: "must increase"},
		{name: "percentages down", waves: []Wave{{Percent: 50}, {Percent: 20}}, index: 1, wantErr: "must increase"},
		{name: "after all", waves: []Wave{{Percent: 100}, {Count: 5}}, index: 1, wantErr: "no wave can follow 100%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			i, err := Check(tt.waves)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
			require.Equal(t, tt.index, i)
		})
	}
}

func TestPlan(t *testing.T) {
	t.Parallel()
	w := func(s ...string) []Wave {
		out := make([]Wave, len(s))
		for i := range s {
			out[i], _ = ParseWave(s[i])
		}
		return out
	}
	tests := []struct {
		name  string
		waves []Wave
		n     int
		want  []int
	}{
		{name: "issue's example on ten", waves: w("1", "30%", "100%"), n: 10, want: []int{1, 2, 7}},
		{name: "no waves: one", waves: nil, n: 4, want: []int{4}},
		{name: "empty fleet", waves: w("1", "100%"), n: 0, want: nil},
		{name: "percent rounds up", waves: w("10%", "100%"), n: 5, want: []int{1, 4}},
		{name: "a wave adding nothing is left out", waves: w("10%", "1", "100%"), n: 5, want: []int{1, 4}},
		{name: "rest added", waves: w("2", "50%"), n: 10, want: []int{2, 3, 5}},
		{name: "count past the fleet", waves: w("50"), n: 3, want: []int{3}},
		{name: "ten thousand in one", waves: w("100%"), n: 10000, want: []int{10000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Plan(tt.waves, tt.n)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestOrderIsStablePerJob(t *testing.T) {
	t.Parallel()
	job := uuid.MustParse("0190a6e2-0000-7000-8000-000000000001")
	devices := make([]uuid.UUID, 50)
	for i := range devices {
		devices[i] = uuid.New()
	}
	a := slices.Clone(devices)
	Order(job, a)
	b := slices.Clone(devices)
	slices.Reverse(b)
	Order(job, b)
	require.Equal(t, a, b, "the order depends on the devices, not on how they were listed")
	c := slices.Clone(devices)
	Order(uuid.New(), c)
	require.NotEqual(t, a, c, "another job takes other canaries")
}

func ptr[T any](v T) *T { return &v }

func TestDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	held := func(n int) Counts { return Counts{Held: n} }
	tests := []struct {
		name string
		s    Snapshot
		want Decision
	}{
		{
			name: "empty fleet finishes, succeeded",
			s:    Snapshot{Status: Running, Now: now},
			want: Decision{Action: Finish, Succeeded: true, Reason: "no device matched the fleet's selector"},
		},
		{
			name: "empty fleet fails when devices are required",
			s:    Snapshot{Status: Running, RequireDevices: true, Now: now},
			want: Decision{Action: Finish, Reason: "no device matched the fleet's selector (rollout.require_devices)"},
		},
		{
			name: "first wave starts",
			s:    Snapshot{Status: Running, Waves: []Counts{held(1), held(2)}, Now: now},
			want: Decision{Action: StartWave, Wave: 0},
		},
		{
			name: "wave in flight: wait",
			s:    Snapshot{Status: Running, Started: 1, Waves: []Counts{{Running: 1}, held(2)}, Now: now},
			want: Decision{Action: Wait},
		},
		{
			name: "wave settled, no pause: next starts",
			s:    Snapshot{Status: Running, Started: 1, Waves: []Counts{{Succeeded: 1}, held(2)}, Now: now},
			want: Decision{Action: StartWave, Wave: 1, Settled: true},
		},
		{
			name: "wave settled, pause begins",
			s:    Snapshot{Status: Running, Started: 1, Pause: time.Minute, Waves: []Counts{{Succeeded: 1}, held(2)}, Now: now},
			want: Decision{Action: Wait, Settled: true, Next: now.Add(time.Minute)},
		},
		{
			name: "pause not over",
			s: Snapshot{Status: Running, Started: 1, Pause: time.Minute, SettledAt: now.Add(-30 * time.Second),
				Waves: []Counts{{Succeeded: 1}, held(2)}, Now: now},
			want: Decision{Action: Wait, Next: now.Add(30 * time.Second)},
		},
		{
			name: "pause over",
			s: Snapshot{Status: Running, Started: 1, Pause: time.Minute, SettledAt: now.Add(-time.Minute),
				Waves: []Counts{{Succeeded: 1}, held(2)}, Now: now},
			want: Decision{Action: StartWave, Wave: 1},
		},
		{
			name: "failed canary aborts",
			s: Snapshot{Status: Running, Started: 1, AbortIf: AbortIf{FailedRatio: ptr(0.1)},
				Waves: []Counts{{Failed: 1}, held(9)}, Now: now},
			want: Decision{Action: Abort, Reason: "failed ratio 1.00 (1 of 1 devices sent to) is above abort_if.failed_ratio 0.1"},
		},
		{
			name: "ratio counts the started waves, not the settled members",
			s: Snapshot{Status: Running, Started: 1, AbortIf: AbortIf{FailedRatio: ptr(0.1)},
				Waves: []Counts{{Failed: 1, Running: 9, Queued: 90}}, Now: now},
			want: Decision{Action: Wait},
		},
		{
			name: "ratio crossed mid-wave cancels what is unsent",
			s: Snapshot{Status: Running, Started: 1, AbortIf: AbortIf{FailedRatio: ptr(0.1)},
				Waves: []Counts{{Failed: 11, Running: 9, Queued: 80}}, Now: now},
			want: Decision{Action: Abort, Reason: "failed ratio 0.11 (11 of 100 devices sent to) is above abort_if.failed_ratio 0.1"},
		},
		{
			name: "failures before a resume are not counted again",
			s: Snapshot{Status: Running, Started: 2, AbortIf: AbortIf{FailedRatio: ptr(0.1)}, Since: Baseline{Failed: 3, Targeted: 3},
				Waves: []Counts{{Failed: 3}, {Succeeded: 7}}, Now: now},
			want: Decision{Action: Finish, Succeeded: false, Reason: "10 devices: 7 succeeded, 3 failed"},
		},
		{
			name: "bound crossed with nothing left unsent: finish",
			s: Snapshot{Status: Running, Started: 1, AbortIf: AbortIf{FailedRatio: ptr(0.1)},
				Waves: []Counts{{Failed: 3}}, Now: now},
			want: Decision{Action: Finish, Reason: "3 devices: 0 succeeded, 3 failed"},
		},
		{
			name: "open circuits abort",
			s: Snapshot{Status: Running, Started: 1, AbortIf: AbortIf{OpenCircuits: ptr(3)}, OpenCircuits: 3,
				Waves: []Counts{{Running: 5}, held(5)}, Now: now},
			want: Decision{Action: Abort, Reason: "3 of the fleet's devices have their circuit open (abort_if.open_circuits 3)"},
		},
		{
			name: "devices gone offline abort",
			s: Snapshot{Status: Running, Started: 1, AbortIf: AbortIf{Offline: ptr(2)}, Offline: 2,
				Waves: []Counts{{Succeeded: 5}, held(5)}, Now: now},
			want: Decision{Action: Abort, Reason: "2 of the fleet's devices went offline during the rollout (abort_if.offline 2)"},
		},
		{
			name: "all settled, all succeeded",
			s:    Snapshot{Status: Running, Started: 2, Waves: []Counts{{Succeeded: 1}, {Succeeded: 9}}, Now: now},
			want: Decision{Action: Finish, Succeeded: true, Reason: "10 devices: 10 succeeded"},
		},
		{
			name: "paused holds",
			s:    Snapshot{Status: Paused, Started: 1, Waves: []Counts{{Succeeded: 1}, held(9)}, Now: now},
			want: Decision{Action: Hold},
		},
		{
			name: "aborted holds",
			s:    Snapshot{Status: Aborted, Started: 1, Waves: []Counts{{Failed: 1}, held(9)}, Now: now},
			want: Decision{Action: Hold},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Decide(tt.s)
			require.Equal(t, tt.want, got, "got %+v, want %+v", got, tt.want)
			require.Equal(t, got, Decide(tt.s), "the same snapshot, the same decision")
		})
	}
}
