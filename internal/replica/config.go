package replica

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/herald-sched/herald/internal/metrics"
)

// Defaults and bounds of a replica's liveness settings.
const (
	// DefaultHeartbeatInterval is how often a replica heartbeats.
	DefaultHeartbeatInterval = 2 * time.Second
	// DefaultTimeout is how long a replica may stay silent before it is dead.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxClockOffset is the clock offset from PostgreSQL's beyond
	// which a replica logs a warning.
	DefaultMaxClockOffset = 50 * time.Millisecond
	// DefaultClockProbeInterval is how often a replica reads PostgreSQL's
	// clock to estimate its offset (the probe).
	DefaultClockProbeInterval = 250 * time.Millisecond
	// MinClockProbeInterval is the shortest probe interval accepted.
	MinClockProbeInterval = 10 * time.Millisecond
	// MinHeartbeatInterval is the shortest heartbeat interval accepted.
	MinHeartbeatInterval = 100 * time.Millisecond
	// MinBeatsPerTimeout is how many heartbeat intervals the timeout must
	// hold at least: one late heartbeat must not make a replica dead.
	MinBeatsPerTimeout = 3
	// keepEnded is how long the registration of a replica that stopped or
	// died stays listed.
	keepEnded = 24 * time.Hour
)

// Config configures a replica's registration.
type Config struct {
	// ID names the registration; it is also the process's River client id.
	// Default NewID().
	ID string
	// Role is the process's role: api, worker or all.
	Role string
	// Version is the build the process runs.
	Version string
	// HeartbeatInterval is how often the replica heartbeats. Default
	// DefaultHeartbeatInterval; at least MinHeartbeatInterval.
	HeartbeatInterval time.Duration
	// Timeout is how long the replica may stay silent before it is dead and
	// its work is reclaimed. Default DefaultTimeout; at least
	// MinBeatsPerTimeout heartbeat intervals.
	Timeout time.Duration
	// MaxClockOffset is the offset from PostgreSQL's clock beyond which the
	// replica logs a warning. Default DefaultMaxClockOffset.
	MaxClockOffset time.Duration
	// ClockProbeInterval is how often the replica reads PostgreSQL's clock
	// with a statement that writes nothing, to estimate the offset that
	// staged deliveries are sent by (Now). Default
	// DefaultClockProbeInterval; at least MinClockProbeInterval.
	ClockProbeInterval time.Duration
	// Host is the host name shown in the registration. Default the
	// machine's host name.
	Host string
	// Now is the process's own clock. Default time.Now (tests skew it).
	Now func() time.Time
	// Logger receives liveness events. Default discards.
	Logger *slog.Logger
	// Metrics receives the clock offset and reclaims. Default none.
	Metrics *metrics.Metrics
}

// FlagHeartbeatInterval and FlagTimeout name the settings in errors, as the
// command line spells them.
const (
	FlagHeartbeatInterval = "--heartbeat-interval"
	FlagTimeout           = "--replica-timeout"
)

func (c Config) withDefaults() Config {
	if c.HeartbeatInterval == 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxClockOffset == 0 {
		c.MaxClockOffset = DefaultMaxClockOffset
	}
	if c.ClockProbeInterval == 0 {
		c.ClockProbeInterval = DefaultClockProbeInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.ID == "" {
		c.ID = NewID(c.Host)
	}
	return c
}

// Validate refuses settings that would declare live replicas dead.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.HeartbeatInterval < MinHeartbeatInterval {
		return fmt.Errorf("%s %s: at least %s", FlagHeartbeatInterval, c.HeartbeatInterval, MinHeartbeatInterval)
	}
	if c.Timeout < MinBeatsPerTimeout*c.HeartbeatInterval {
		return fmt.Errorf("%s %s: at least %d heartbeat intervals (%s %s), so that one late heartbeat does not make a live replica dead",
			FlagTimeout, c.Timeout, MinBeatsPerTimeout, FlagHeartbeatInterval, c.HeartbeatInterval)
	}
	if c.MaxClockOffset < 0 {
		return errors.New("--max-clock-offset: must not be negative")
	}
	if c.ClockProbeInterval < MinClockProbeInterval {
		return fmt.Errorf("clock probe interval %s: at least %s", c.ClockProbeInterval, MinClockProbeInterval)
	}
	if len(c.ID) > 100 {
		return fmt.Errorf("replica id %q: at most 100 characters (River's limit for a client id)", c.ID)
	}
	return nil
}
