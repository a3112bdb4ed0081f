// Package jobspec defines a job as users register it (schedule, tasks,
// requests, retry policy) and validates it. The same task definition is
// stored with every task run, so a run keeps the definition it started with.
package jobspec

import (
	"encoding/json"
	"time"
)

// Job is the body of POST /v1/jobs.
type Job struct {
	// Name is a human-readable name; it need not be unique.
	Name string `json:"name"`
	// Schedule says when the job fires; nil means only when triggered.
	Schedule *Schedule `json:"schedule,omitempty"`
	// Tasks are the HTTP calls a run makes.
	Tasks []Task `json:"tasks"`
	// Paused stops the job from firing until resumed.
	Paused bool `json:"paused,omitempty"`
	// Misfire is what to do with ticks missed while nothing ran.
	Misfire string `json:"misfire,omitempty"`
	// Overlap is what to do when a tick comes while the previous run is going.
	Overlap string `json:"overlap,omitempty"`
	// Labels are free-form key/value pairs for filtering.
	Labels map[string]string `json:"labels,omitempty"`
	// Rate caps the job's deliveries per second, across replicas.
	Rate *float64 `json:"rate,omitempty"`
	// MaxInFlight caps the job's deliveries in flight at once, across replicas.
	MaxInFlight *int `json:"max_in_flight,omitempty"`
	// RunTimeout ends a run not finished this long after its nominal time
	// (timed_out). Nil: no limit.
	RunTimeout *Duration `json:"run_timeout,omitempty"`
	// FailureHandled makes a run whose failed tasks each have a failure
	// handler that succeeded (a direct child with run_if any_failed or
	// all_done) end succeeded instead of failed.
	FailureHandled bool `json:"failure_handled,omitempty"`
	// OnRunEnd is called when a run ends, with its outcome.
	OnRunEnd *Callback `json:"on_run_end,omitempty"`
	// Inbound enables POST /v1/hooks/{job id}: a signed call starts a run
	// with its body as input.
	Inbound *Inbound `json:"inbound,omitempty"`
}

// Callback is the request herald makes when a run ends: a POST of the
// run's outcome as JSON, signed like deliveries.
type Callback struct {
	// URL is the http or https URL to call.
	URL string `json:"url"`
	// Headers are sent with every attempt.
	Headers map[string]string `json:"headers,omitempty"`
}

// Inbound is a job's inbound trigger.
type Inbound struct {
	// Enabled turns POST /v1/hooks/{job id} on.
	Enabled bool `json:"enabled"`
}

// Schedule is exactly one of its fields.
type Schedule struct {
	// Cron is a 5-field (minute precision) or 6-field (seconds first) expression.
	Cron string `json:"cron,omitempty"`
	// Timezone is the IANA zone Cron is read in; default UTC. On a job
	// with a fleet task, DeviceTimezone ("device") reads Cron in each
	// device's own zone, as it last reported it.
	Timezone string `json:"timezone,omitempty"`
	// Every fires at a fixed interval.
	Every *Duration `json:"every,omitempty"`
	// At fires once at this instant.
	At *time.Time `json:"at,omitempty"`
	// Delay fires once, this long after registration.
	Delay *Duration `json:"delay,omitempty"`
}

// Task is one HTTP call of a job.
type Task struct {
	// ID names the task within its job.
	ID string `json:"id"`
	// DependsOn lists the tasks that must succeed before this one starts.
	DependsOn []string `json:"depends_on,omitempty"`
	// Request is the HTTP request to make. Its URL is left out when Target
	// names a device or a pool instead.
	Request Request `json:"request"`
	// Target, instead of request.url, sends the task to a device, or to the
	// device of a pool that placement chooses.
	Target *Target `json:"target,omitempty"`
	// ValidFor bounds how long a task with a Target waits for a device to
	// be online (counted from the run's nominal time); past it the task
	// ends expired. Nil: no limit.
	ValidFor *Duration `json:"valid_for,omitempty"`
	// Retry is the retry policy for failed attempts.
	Retry Retry `json:"retry"`
	// RunIf is what the task needs of its parents to run: all_succeeded
	// (the default), any_failed (a failure handler) or all_done.
	RunIf string `json:"run_if,omitempty"`
	// When is a CEL condition over input and the upstream tasks' outcomes
	// (internal/condition); false skips the task without a request.
	When string `json:"when,omitempty"`
	// Rollout sends a fleet task in waves (a task with Target.Fleet only);
	// nil sends it to the whole fleet at once.
	Rollout *Rollout `json:"rollout,omitempty"`
}

// Task run conditions on parents (run_if).
const (
	RunIfAllSucceeded = "all_succeeded"
	RunIfAnyFailed    = "any_failed"
	RunIfAllDone      = "all_done"
)

// MaxRunTimeout is the longest run_timeout.
const MaxRunTimeout = 7 * 24 * time.Hour

// RunIfOrDefault is the task's run_if, all_succeeded when left out.
func (t *Task) RunIfOrDefault() string {
	if t.RunIf == "" {
		return RunIfAllSucceeded
	}
	return t.RunIf
}

// HandlesFailure reports whether the task runs after a failure of a parent.
func (t *Task) HandlesFailure() bool {
	return t.RunIf == RunIfAnyFailed || t.RunIf == RunIfAllDone
}

// Target is a task's device target: one device, a pool of them (one is
// chosen), or a fleet (every one).
type Target struct {
	// Device is the id of the one device to call.
	Device string `json:"device,omitempty"`
	// Pool selects devices by labels; placement chooses one per attempt.
	Pool *Pool `json:"pool,omitempty"`
	// Fleet selects devices by labels; the task runs on every one of them
	// (one task run each, the membership fixed when the run starts).
	Fleet *Fleet `json:"fleet,omitempty"`
	// Path is appended to the chosen device's base URL (push mode), or
	// given to it (pull mode). Default "/".
	Path string `json:"path,omitempty"`
}

// Pool is a set of devices selected by labels, and how one is chosen.
type Pool struct {
	// Selector lists labels a device must carry (all of them).
	Selector map[string]string `json:"selector"`
	// Strategy is load_aware (default), round_robin or hash.
	Strategy string `json:"strategy,omitempty"`
	// TopN spreads task runs over the N best devices (load_aware). Default 1.
	TopN *int `json:"top_n,omitempty"`
}

// Request is the HTTP request of a task.
type Request struct {
	// Method is the HTTP method; default POST.
	Method string `json:"method"`
	// URL is the http or https URL to call.
	URL string `json:"url"`
	// Headers are sent with every attempt.
	Headers map[string]string `json:"headers,omitempty"`
	// Body is sent as JSON; a JSON string is sent as its text.
	Body json.RawMessage `json:"body,omitempty"`
	// Timeout bounds one attempt, from dial to the end of the response body.
	Timeout Duration `json:"timeout"`
	// TLS are the request's own TLS settings: a client certificate (mTLS)
	// and a private CA for the device's certificate.
	TLS *TLS `json:"tls,omitempty"`

	// timeoutGiven says the JSON it was read from had a timeout, so that an
	// explicit "0s" is refused rather than taken for the default.
	timeoutGiven bool
}

// UnmarshalJSON reads a request, noting whether it gives a timeout.
func (r *Request) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // as encoding/json leaves a struct
	}
	type plain Request // without this method
	in := struct {
		*plain
		Timeout *Duration `json:"timeout"`
	}{plain: (*plain)(r)}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	r.timeoutGiven = in.Timeout != nil
	if in.Timeout != nil {
		r.Timeout = *in.Timeout
	}
	return nil
}

// TLS are a task's own TLS settings, PEM-encoded.
type TLS struct {
	// ClientCertificate is presented to the server, with ClientKey.
	ClientCertificate string `json:"client_certificate,omitempty"`
	// ClientKey is the client certificate's private key. It is never shown
	// by the API once stored.
	ClientKey string `json:"client_key,omitempty"`
	// CACertificates replace the system roots to verify the server.
	CACertificates string `json:"ca_certificates,omitempty"`
}

// Redacted is what the API shows instead of a stored private key.
const Redacted = "(redacted)"

// Redact hides the private keys of tasks, for showing them.
func Redact(tasks []Task) {
	for i := range tasks {
		if t := tasks[i].Request.TLS; t != nil && t.ClientKey != "" {
			c := *t
			c.ClientKey = Redacted
			tasks[i].Request.TLS = &c
		}
	}
}

// Retry is how failed attempts are retried.
type Retry struct {
	// MaxAttempts counts every attempt, the first included.
	MaxAttempts int `json:"max_attempts"`
	// InitialInterval is the nominal delay after the first failed attempt.
	InitialInterval Duration `json:"initial_interval"`
	// MaxInterval caps the nominal delay.
	MaxInterval Duration `json:"max_interval"`

	// given says which fields the JSON it was read from had, so that an
	// explicit 0 is refused rather than taken for the default.
	given struct{ maxAttempts, initialInterval, maxInterval bool }
}

// UnmarshalJSON reads a retry policy, noting which fields it gives.
func (r *Retry) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil // as encoding/json leaves a struct
	}
	var in struct {
		MaxAttempts     *int      `json:"max_attempts"`
		InitialInterval *Duration `json:"initial_interval"`
		MaxInterval     *Duration `json:"max_interval"`
	}
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	r.given.maxAttempts, r.given.initialInterval, r.given.maxInterval = in.MaxAttempts != nil, in.InitialInterval != nil, in.MaxInterval != nil
	if in.MaxAttempts != nil {
		r.MaxAttempts = *in.MaxAttempts
	}
	if in.InitialInterval != nil {
		r.InitialInterval = *in.InitialInterval
	}
	if in.MaxInterval != nil {
		r.MaxInterval = *in.MaxInterval
	}
	return nil
}

// Misfire policies.
const (
	MisfireSkip     = "skip"
	MisfireFireOnce = "fire_once"
	MisfireFireAll  = "fire_all"
)

// Overlap policies.
const (
	OverlapAllow = "allow"
	OverlapSkip  = "skip"
	OverlapQueue = "queue"
)

// BodyBytes returns the bytes sent as the request body and the content type
// they default to: a JSON string is sent as its text (text/plain), any other
// JSON value as compact JSON (application/json). No body gives nil.
func (r *Request) BodyBytes() ([]byte, string) {
	if len(r.Body) == 0 || string(r.Body) == "null" {
		return nil, ""
	}
	if r.Body[0] == '"' {
		var s string
		if err := json.Unmarshal(r.Body, &s); err == nil {
			return []byte(s), "text/plain; charset=utf-8"
		}
	}
	return r.Body, "application/json"
}
