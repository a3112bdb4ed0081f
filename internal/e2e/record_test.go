package e2e_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/heraldtest"
)

// A response that a downstream task refers to, which Go reads as JSON but
// PostgreSQL cannot store, ends the run visibly: the task fails with the
// reason, after one request, and its child is upstream_failed. Before, the
// recording failed again and again and the run stayed running for good.
func TestUnstorableResultFailsTheTaskVisibly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantErr string
	}{
		{name: "NUL escape", body: `{"v":"a\u0000b"}`, wantErr: `\u0000`},
		{name: "lone surrogate", body: `{"v":"\ud800"}`, wantErr: "unpaired surrogate"},
		{name: "reversed surrogates", body: `{"v":"\udc00\ud800"}`, wantErr: "unpaired surrogate"},
		{name: "not UTF-8", body: "{\"v\":\"\xff\"}", wantErr: "UTF-8"},
		// Caught by no check: PostgreSQL itself refuses the number, and the
		// outcome is recorded as a failure with its error.
		{name: "number beyond numeric", body: `{"v":1e1000000}`, wantErr: "could not record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			rc := heraldtest.NewReceiver(t, func(_ int, r *heraldtest.Request, w http.ResponseWriter) {
				if r.Path == "/parent" {
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprint(w, tt.body)
					return
				}
				w.WriteHeader(http.StatusOK)
			})
			parent := task(rc.URL, "parent")
			parent["retry"] = map[string]any{"max_attempts": 3, "initial_interval": "100ms"}
			child := task(rc.URL, "child", "parent")
			child["request"] = map[string]any{"url": rc.URL + "/child", "body": map[string]any{"v": "{{ tasks.parent.body.v }}"}}
			_, runID := startDAG(t, b.h, []any{parent, child})
			r := waitRun(t, b.h, runID, 15*time.Second)
			require.Equal(t, "failed", r.State)
			require.Equal(t, map[string]string{"parent": "failed", "child": "upstream_failed"}, r.states())
			for _, tk := range r.Tasks {
				if tk.TaskID == "parent" {
					require.Len(t, tk.Attempts, 1, "the attempt is recorded, once")
					require.Contains(t, *tk.LastError, tt.wantErr)
				}
			}
			require.Len(t, byPath(rc)["/parent"], 1, "sent again although the device answered")
			require.Empty(t, byPath(rc)["/child"])
		})
	}
}
