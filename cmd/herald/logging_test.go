package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLogger(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, format, level, msg string
		attrs                    []any
		want                     string // "" when nothing is written
	}{
		{"a duration in JSON is a string", "json", "info", "claimed ticks", []any{slog.Duration("took", 1500*time.Millisecond)}, `"took":"1.5s"`},
		{"a duration in text", "text", "info", "claimed ticks", []any{slog.Duration("took", 250*time.Millisecond)}, `took=250ms`},
		{"River's job counts at info: hidden", "json", "info", "producer: Producer job counts", nil, ""},
		{"River's job counts at debug: shown", "json", "debug", "producer: Producer job counts", nil, `"level":"DEBUG"`},
		{"a maintenance pass", "text", "info", "JobCleaner: Ran successfully", nil, ""},
		{"a retried job's error", "json", "info", "jobexecutor.JobExecutor: Job errored; retrying", nil, ""},
		{"a job's last error stays at info", "json", "info", "jobexecutor.JobExecutor: Job errored", nil, `"level":"INFO"`},
		{"River started stays at info", "json", "info", "River client started", nil, `"msg":"River client started"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			logger, err := newLogger(&buf, tc.format, tc.level)
			require.NoError(t, err)
			logger.With("component", "x").Info(tc.msg, tc.attrs...)
			if tc.want == "" {
				require.Empty(t, buf.String())
				return
			}
			require.Contains(t, buf.String(), tc.want)
		})
	}
}

func TestAnnounce(t *testing.T) {
	t.Parallel()
	var text, js bytes.Buffer
	announce(&text, "text", "herald listening on 127.0.0.1:8080", slog.String("addr", "127.0.0.1:8080"))
	require.Equal(t, "herald listening on 127.0.0.1:8080\n", text.String())
	announce(&js, "json", "herald listening on 127.0.0.1:8080", slog.String("addr", "127.0.0.1:8080"))
	var rec struct{ Level, Msg, Addr string }
	require.NoError(t, json.Unmarshal(js.Bytes(), &rec))
	require.Equal(t, "herald listening on 127.0.0.1:8080", rec.Msg)
	require.Equal(t, "127.0.0.1:8080", rec.Addr)
	addr, ok := listeningAddr(strings.TrimSpace(js.String()))
	require.True(t, ok)
	require.Equal(t, "127.0.0.1:8080", addr)
}
