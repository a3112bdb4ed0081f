package jobs

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/jobspec"
)

func TestSpecCache(t *testing.T) {
	t.Parallel()

	t.Run("DecodesOnceAndHandsOutCopies", func(t *testing.T) {
		t.Parallel()
		decodes := 0
		c := newSpecCache(func(raw []byte) (jobspec.Task, error) {
			decodes++
			return decodeTask(raw)
		})
		raw := []byte(`{"id":"call","request":{"url":"https://a.example/x","headers":{"X-A":"1"}}}`)
		got, err := c.get(raw)
		require.NoError(t, err)
		got.Request.URL = "https://b.example/placed" // what Work does for a device
		again, err := c.get([]byte(string(raw)))
		require.NoError(t, err)
		require.Equal(t, 1, decodes)
		require.Equal(t, "https://a.example/x", again.Request.URL)
		require.Equal(t, map[string]string{"X-A": "1"}, again.Request.Headers)
	})

	t.Run("KeepsNoError", func(t *testing.T) {
		t.Parallel()
		c := newSpecCache(decodeTask)
		for range 2 {
			_, err := c.get([]byte(`{"id":`))
			require.Error(t, err)
		}
		require.Empty(t, c.m)
	})

	t.Run("StartsOverWhenFull", func(t *testing.T) {
		t.Parallel()
		c := newSpecCache(func(raw []byte) (int, error) { return len(raw), nil })
		big := []byte(strings.Repeat("x", specCacheBytes/2+1))
		_, err := c.get(big)
		require.NoError(t, err)
		_, err = c.get(append([]byte("y"), big...))
		require.NoError(t, err)
		require.Len(t, c.m, 1, "the second entry would pass the bound: the cache started over")
		require.LessOrEqual(t, c.bytes, specCacheBytes)
		_, err = c.get(make([]byte, specCacheBytes+1))
		require.NoError(t, err)
		require.Len(t, c.m, 1, "an entry larger than the bound is not kept")
	})

	t.Run("SoloTask", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name  string
			tasks string
			ok    bool
		}{
			{"OneTask", `[{"id":"call","request":{"url":"https://a.example/"}}]`, true},
			{"TwoTasks", `[{"id":"a","request":{"url":"https://a.example/"}},{"id":"b","request":{"url":"https://a.example/"}}]`, false},
			{"Fleet", `[{"id":"f","request":{"url":"https://a.example/"},"target":{"fleet":{"selector":{"zone":"a"}}}}]`, false},
			{"NotJSON", `[{`, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := newSpecCache(decodeSolo).get([]byte(tt.tasks))
				require.NoError(t, err)
				if got.ok != tt.ok {
					t.Fatalf("ok: got %v, want %v", got.ok, tt.ok)
				}
				if tt.ok {
					require.JSONEq(t, tt.tasks[1:len(tt.tasks)-1], string(got.raw))
					require.Equal(t, "call", got.task.ID)
				}
			})
		}
	})
}
