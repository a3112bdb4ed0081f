package replica

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidateNamesTheFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // a part of the error; empty: valid
	}{
		{name: "defaults", cfg: Config{}},
		{name: "fast but sound", cfg: Config{HeartbeatInterval: 100 * time.Millisecond, Timeout: 300 * time.Millisecond}},
		{name: "interval under 100ms", cfg: Config{HeartbeatInterval: 50 * time.Millisecond, Timeout: time.Second}, wantErr: "--heartbeat-interval"},
		{name: "timeout under three intervals", cfg: Config{HeartbeatInterval: 2 * time.Second, Timeout: 5 * time.Second}, wantErr: "--replica-timeout"},
		{name: "timeout under three default intervals", cfg: Config{Timeout: 5 * time.Second}, wantErr: "--replica-timeout"},
		{name: "negative clock offset", cfg: Config{MaxClockOffset: -time.Second}, wantErr: "--max-clock-offset"},
		{name: "clock probe under 10ms", cfg: Config{ClockProbeInterval: time.Millisecond}, wantErr: "clock probe interval 1ms: at least 10ms"},
		{name: "id too long", cfg: Config{ID: strings.Repeat("x", 101)}, wantErr: "at most 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got %v, want no error", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got %v, want an error naming %s", err, tt.wantErr)
			}
		})
	}
}

func TestNewIDsDiffer(t *testing.T) {
	t.Parallel()
	a, b := NewID("gw-box"), NewID("gw-box")
	if a == b || !strings.HasPrefix(a, "gw-box-") {
		t.Fatalf("got %q and %q, want two ids starting gw-box-", a, b)
	}
}
