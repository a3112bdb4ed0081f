package jobspec

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-sched/herald/internal/dag"
	"github.com/herald-sched/herald/internal/dispatch"
	"github.com/herald-sched/herald/internal/schedule"
)

// Limits bound what one job may contain. Zero fields take the defaults.
type Limits struct {
	// MaxTasks is the most tasks a job may have. Default 10,000.
	MaxTasks int
	// MaxEdges is the most dependencies (depends_on entries) a job may have
	// in all. Default 100,000.
	MaxEdges int
	// MaxRequestBodyBytes is the largest task request body. Default 256 KiB.
	MaxRequestBodyBytes int
	// MaxHeaders is the most headers a task request may set. Default 50.
	MaxHeaders int
	// MaxAttempts is the largest retry.max_attempts. Default 50.
	MaxAttempts int
	// MaxTimeout is the longest request.timeout. Default 5 minutes.
	MaxTimeout time.Duration
	// PastGrace is how far in the past schedule.at may lie and still fire
	// (at once). Default 5 seconds.
	PastGrace time.Duration
}

func (l Limits) withDefaults() Limits {
	return Limits{
		MaxTasks:            cmp.Or(l.MaxTasks, dag.DefaultMaxTasks),
		MaxEdges:            cmp.Or(l.MaxEdges, dag.DefaultMaxEdges),
		MaxRequestBodyBytes: cmp.Or(l.MaxRequestBodyBytes, 256<<10),
		MaxHeaders:          cmp.Or(l.MaxHeaders, 50),
		MaxAttempts:         cmp.Or(l.MaxAttempts, 50),
		MaxTimeout:          cmp.Or(l.MaxTimeout, DefaultMaxTimeout),
		PastGrace:           cmp.Or(l.PastGrace, 5*time.Second),
	}
}

// DefaultMaxTimeout is the longest request.timeout a task may set unless
// the server says otherwise (--max-request-timeout).
const DefaultMaxTimeout = 5 * time.Minute

// DefaultMaxTasks is the most tasks a job may have unless the server says
// otherwise (--max-tasks).
const DefaultMaxTasks = dag.DefaultMaxTasks

// Defaults applied to fields a task leaves out.
const (
	DefaultMethod          = http.MethodPost
	DefaultTimeout         = 30 * time.Second
	DefaultMaxAttempts     = 5
	DefaultInitialInterval = time.Second
	DefaultMaxInterval     = 5 * time.Minute
	DefaultTaskID          = "main"

	minInterval = 10 * time.Millisecond
	maxInterval = 24 * time.Hour
	maxDelay    = 5 * 365 * 24 * time.Hour
	maxNameLen  = 200
	maxLabels   = 32

	// MinRate is the lowest rate a job may set: one delivery per 1,000
	// seconds (about 17 minutes). Lower rates would hold deliveries back
	// for ages (1e-300 is one per 10^292 years).
	MinRate = 0.001
	// MaxRate is the highest rate a job may set, in deliveries per second.
	MaxRate = 10_000.0
)

var (
	labelKeyPattern   = regexp.MustCompile(`^[A-Za-z0-9_.\-/]{1,63}$`)
	headerNamePattern = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]{1,256}$")
	allowedMethods    = map[string]bool{
		http.MethodGet: true, http.MethodHead: true, http.MethodPost: true,
		http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true,
		http.MethodOptions: true,
	}
)

// reservedHeaders are set by herald on every delivery and cannot be
// overridden by a task (prefix match for the families).
var reservedHeaders = []string{"webhook-", "herald-", "traceparent", "tracestate", "host", "content-length", "transfer-encoding", "connection"}

// connectionHeaders belong to the connection, not the request: Go's client
// manages them, and its HTTP/2 client refuses to send some of them.
var connectionHeaders = map[string]bool{"upgrade": true, "keep-alive": true, "proxy-connection": true, "te": true, "trailer": true}

// FieldError is one invalid field.
type FieldError struct {
	// Field is the JSON path of the field, such as "tasks[0].request.url".
	Field string `json:"field"`
	// Message says what is wrong with it.
	Message string `json:"message"`
}

// Errors is every invalid field of a job; it is an error.
type Errors []FieldError

func (e Errors) Error() string {
	parts := make([]string, len(e))
	for i, fe := range e {
		parts[i] = fe.Field + ": " + fe.Message
	}
	return strings.Join(parts, "; ")
}

type validator struct {
	errs Errors
}

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Validate checks the job, fills in defaults, and returns Errors naming every
// invalid field, or nil. checkURL is the delivery client's check of a target
// (scheme, SSRF guard); now is the registration time.
func (j *Job) Validate(now time.Time, limits Limits, checkURL func(string) error) error {
	lim := limits.withDefaults()
	v := &validator{}

	j.Name = strings.TrimSpace(j.Name)
	switch {
	case j.Name == "":
		v.add("name", "is required")
	case len(j.Name) > maxNameLen:
		v.add("name", "must be at most %d bytes", maxNameLen)
	case !StorableText(j.Name):
		v.add("name", "must be UTF-8 text without NUL")
	}

	j.validateSchedule(v, now, lim)

	j.Misfire = cmp.Or(j.Misfire, MisfireFireOnce)
	if j.Misfire != MisfireSkip && j.Misfire != MisfireFireOnce && j.Misfire != MisfireFireAll {
		v.add("misfire", "must be one of skip, fire_once, fire_all")
	}
	j.Overlap = cmp.Or(j.Overlap, OverlapAllow)
	if j.Overlap != OverlapAllow && j.Overlap != OverlapSkip && j.Overlap != OverlapQueue {
		v.add("overlap", "must be one of allow, skip, queue")
	}

	if j.Rate != nil && !(*j.Rate >= MinRate && *j.Rate <= MaxRate) {
		v.add("rate", "must be between %g (one request per %s) and %g requests per second", MinRate, time.Duration(float64(time.Second)/MinRate), MaxRate)
	}
	if j.MaxInFlight != nil && (*j.MaxInFlight < 1 || *j.MaxInFlight > 10_000) {
		v.add("max_in_flight", "must be between 1 and 10000")
	}
	j.validateWorkflow(v, lim, checkURL)
	if len(j.Labels) > maxLabels {
		v.add("labels", "at most %d labels", maxLabels)
	}
	for k, val := range j.Labels {
		if !labelKeyPattern.MatchString(k) {
			v.add("labels."+k, "label keys are 1-63 characters of letters, digits, _ . - /")
		}
		if len(val) > 255 {
			v.add("labels."+k, "label values are at most 255 bytes")
		} else if !StorableText(val) {
			v.add("labels."+k, "label values must be UTF-8 text without NUL")
		}
	}

	switch {
	case len(j.Tasks) == 0:
		v.add("tasks", "at least one task is required")
	case len(j.Tasks) > lim.MaxTasks:
		v.add("tasks", "at most %d tasks", lim.MaxTasks)
	default:
		for i := range j.Tasks {
			j.Tasks[i].validate(v, fmt.Sprintf("tasks[%d]", i), len(j.Tasks), lim, checkURL)
		}
		if len(v.errs) == 0 {
			validateGraph(v, j.Tasks, lim)
		}
	}

	if len(v.errs) > 0 {
		return v.errs
	}
	return nil
}

func (j *Job) validateSchedule(v *validator, now time.Time, lim Limits) {
	s := j.Schedule
	if s == nil {
		return
	}
	set := 0
	for _, isSet := range []bool{s.Cron != "", s.Every != nil, s.At != nil, s.Delay != nil} {
		if isSet {
			set++
		}
	}
	switch {
	case set == 0:
		v.add("schedule", "must have one of cron, every, at, delay (or leave schedule out to run only when triggered)")
		return
	case set > 1:
		v.add("schedule", "must have exactly one of cron, every, at, delay")
		return
	}
	switch {
	case s.Cron != "":
		zone := s.Timezone
		if s.DeviceLocal() {
			zone = "UTC" // the expression's syntax; each device's zone is read when it ticks
			if !j.hasFleetTask() {
				v.add("schedule.timezone", `"device" applies only to a job with a fleet task (target.fleet)`)
			}
		}
		sched, err := schedule.ParseCron(s.Cron, zone)
		var pe *schedule.ParseError
		switch {
		case errors.As(err, &pe) && pe.Part == "timezone":
			v.add("schedule.timezone", "%s", pe.Reason)
		case err != nil:
			v.add("schedule.cron", "%s", err.Error())
		case sched.Next(now).IsZero():
			v.add("schedule.cron", "never fires (no date matches it)")
		}
	case s.Every != nil:
		if s.Timezone != "" {
			v.add("schedule.timezone", "applies only to cron schedules")
		}
		if d := s.Every.Std(); d < schedule.MinInterval || d > maxDelay {
			v.add("schedule.every", "must be between %s and 5 years", schedule.MinInterval)
		}
	case s.At != nil:
		if s.Timezone != "" {
			v.add("schedule.timezone", "applies only to cron schedules")
		}
		if _, offset := s.At.Zone(); offset <= -24*60*60 || offset >= 24*60*60 {
			v.add("schedule.at", "has a UTC offset beyond ±23:59, which RFC 3339 does not allow")
		} else if _, err := s.At.MarshalJSON(); err != nil {
			v.add("schedule.at", "cannot be stored: %s", strings.TrimPrefix(err.Error(), "Time.MarshalJSON: "))
		} else if s.At.Before(now.Add(-lim.PastGrace)) {
			v.add("schedule.at", "%s is in the past", s.At.Format(time.RFC3339Nano))
		} else if s.At.After(now.Add(maxDelay)) {
			v.add("schedule.at", "must be within 5 years")
		}
	case s.Delay != nil:
		if s.Timezone != "" {
			v.add("schedule.timezone", "applies only to cron schedules")
		}
		if d := s.Delay.Std(); d < 0 || d > maxDelay {
			v.add("schedule.delay", "must be between 0s and 5 years")
		}
	}
}

// FirstFire is the nominal time of the job's first tick when its schedule is
// set at now (registration or update), or nil for a job that runs only when
// triggered. Call it after Validate.
func (j *Job) FirstFire(now time.Time) *time.Time {
	s := j.Schedule
	switch {
	case s == nil:
		return nil
	case s.At != nil:
		t := s.At.UTC()
		return &t
	case s.Delay != nil:
		t := now.Add(s.Delay.Std()).UTC()
		return &t
	}
	if s.DeviceLocal() {
		return nil // the devices' zones decide: see jobs (device-local ticks)
	}
	rec, err := s.Compile(now, nil)
	if err != nil || rec == nil {
		return nil
	}
	t := rec.Next(now)
	if t.IsZero() {
		return nil // a cron expression that never matches, such as 30 February
	}
	return &t
}

// DeviceTimezone is the schedule timezone that reads a fleet job's cron in
// each device's own zone.
const DeviceTimezone = "device"

// DeviceLocal reports whether the schedule fires per device, in the zone
// each device last reported (timezone "device").
func (s *Schedule) DeviceLocal() bool {
	return s != nil && s.Cron != "" && s.Timezone == DeviceTimezone
}

// hasFleetTask reports whether one of the job's tasks targets a fleet.
func (j *Job) hasFleetTask() bool {
	for i := range j.Tasks {
		if j.Tasks[i].IsFleet() {
			return true
		}
	}
	return false
}

// Recurring reports whether the schedule repeats (cron or every).
func (s *Schedule) Recurring() bool {
	return s != nil && (s.Cron != "" || s.Every != nil)
}

// Compile returns the recurring schedule, whose "every" intervals count from
// anchor; nil for a one-off schedule or none. cache, if not nil, keeps parsed
// cron expressions.
func (s *Schedule) Compile(anchor time.Time, cache *schedule.Cache) (schedule.Schedule, error) {
	switch {
	case s == nil:
		return nil, nil
	case s.DeviceLocal():
		return nil, errors.New(`a schedule in each device's zone ("timezone": "device") has no single series of ticks`)
	case s.Cron != "":
		return cache.ParseCron(s.Cron, s.Timezone)
	case s.Every != nil:
		return schedule.Every(s.Every.Std(), anchor)
	}
	return nil, nil
}

func (t *Task) validate(v *validator, path string, nTasks int, lim Limits, checkURL func(string) error) {
	if t.ID == "" && nTasks == 1 {
		t.ID = DefaultTaskID
	}
	if !dag.ValidID(t.ID) { // the one id rule, internal/dag's
		v.add(path+".id", "task ids are 1-%d characters of letters, digits, _ and -", dag.MaxIDLength)
	}

	r := &t.Request
	rp := path + ".request"
	r.Method = strings.ToUpper(cmp.Or(r.Method, DefaultMethod))
	if !allowedMethods[r.Method] {
		v.add(rp+".method", "must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS")
	}
	switch {
	case t.Target != nil:
		if r.URL != "" {
			v.add(path+".target", "a task calls either request.url or a target (a device, a pool or a fleet), not both")
		}
		t.Target.validate(v, path+".target")
	case r.URL == "":
		v.add(rp+".url", "is required (or a target: a device, a pool or a fleet)")
	default:
		if err := checkURL(r.URL); err != nil {
			v.add(rp+".url", "%s", err.Error())
		}
	}
	if t.Rollout != nil {
		if !t.IsFleet() {
			v.add(path+".rollout", "applies only to a task whose target is a fleet")
		} else {
			t.Rollout.validate(v, path+".rollout")
		}
	}
	t.validateFlow(v, path)
	if t.ValidFor != nil {
		switch d := t.ValidFor.Std(); {
		case t.Target == nil:
			v.add(path+".valid_for", "applies to tasks with a target (a device, a pool or a fleet)")
		case d < time.Second || d > maxValidFor:
			v.add(path+".valid_for", "must be between 1s and %s", maxValidFor)
		}
	}
	validateHeaders(v, rp+".headers", r.Headers, lim)
	if len(r.Body) > 0 {
		var buf bytes.Buffer
		if err := json.Compact(&buf, r.Body); err != nil {
			v.add(rp+".body", "is not valid JSON")
		} else {
			r.Body = buf.Bytes()
		}
		if len(r.Body) > lim.MaxRequestBodyBytes {
			v.add(rp+".body", "must be at most %d bytes", lim.MaxRequestBodyBytes)
		}
	}
	if r.TLS != nil {
		switch _, err := dispatch.ParseTLS(r.TLS.dispatch()); {
		case err != nil:
			v.add(rp+".tls", "%s", err.Error())
		case t.Target == nil && !strings.HasPrefix(strings.ToLower(r.URL), "https://"):
			v.add(rp+".tls", "applies only to https URLs")
		}
	}
	// A field left out takes its default; an explicit 0 is refused below
	// like any value out of range, not taken for the default.
	if r.Timeout == 0 && !r.timeoutGiven {
		r.Timeout = Duration(DefaultTimeout)
	}
	if d := r.Timeout.Std(); d < 100*time.Millisecond || d > lim.MaxTimeout {
		v.add(rp+".timeout", "must be between 100ms and %s (leave it out for the default, %s)", lim.MaxTimeout, DefaultTimeout)
	}

	rt := &t.Retry
	xp := path + ".retry"
	if rt.MaxAttempts == 0 && !rt.given.maxAttempts {
		rt.MaxAttempts = DefaultMaxAttempts
	}
	if rt.MaxAttempts < 1 || rt.MaxAttempts > lim.MaxAttempts {
		v.add(xp+".max_attempts", "must be between 1 and %d (leave it out for the default, %d)", lim.MaxAttempts, DefaultMaxAttempts)
	}
	if rt.InitialInterval == 0 && !rt.given.initialInterval {
		rt.InitialInterval = Duration(DefaultInitialInterval)
	}
	if rt.MaxInterval == 0 && !rt.given.maxInterval {
		rt.MaxInterval = Duration(max(DefaultMaxInterval, rt.InitialInterval.Std()))
	}
	if d := rt.InitialInterval.Std(); d < minInterval || d > maxInterval {
		v.add(xp+".initial_interval", "must be between %s and %s", minInterval, maxInterval)
	}
	if d := rt.MaxInterval.Std(); d < rt.InitialInterval.Std() || d > maxInterval {
		v.add(xp+".max_interval", "must be between initial_interval and %s", maxInterval)
	}
}

// validateHeaders checks the headers a request sets (a task's, a callback's):
// names, values, reserved and connection headers, duplicates by case.
func validateHeaders(v *validator, path string, headers map[string]string, lim Limits) {
	if len(headers) > lim.MaxHeaders {
		v.add(path, "at most %d headers", lim.MaxHeaders)
	}
	seen := make(map[string]string, len(headers)) // lower-case name: name
	for _, name := range slices.Sorted(maps.Keys(headers)) {
		val := headers[name]
		hp := path + "." + name
		lower := strings.ToLower(name)
		first, dup := seen[lower]
		if !dup {
			seen[lower] = name
		}
		switch {
		case !headerNamePattern.MatchString(name):
			v.add(hp, "is not a valid header name: 1-256 letters, digits and !#$%%&'*+-.^_`|~")
		case isReserved(lower):
			v.add(hp, "is set by herald and cannot be overridden")
		case connectionHeaders[lower]:
			v.add(hp, "is a connection header, managed by the HTTP client: it cannot be set")
		case len(val) > 8<<10:
			v.add(hp, "header values are at most 8 KiB")
		case dispatch.CheckHeader(name, val) != nil:
			v.add(hp, "header values cannot hold control characters (only tab): no NUL, line breaks or DEL")
		case dup:
			v.add(hp, "is the same header as %q: header names are case-insensitive", first)
		}
	}
}

func isReserved(lowerName string) bool {
	for _, r := range reservedHeaders {
		if strings.HasSuffix(r, "-") {
			if strings.HasPrefix(lowerName, r) {
				return true
			}
		} else if lowerName == r {
			return true
		}
	}
	return false
}

// validateGraph checks the tasks' dependencies (unknown ids, self-loops,
// cycles, named) and that templates refer only to upstream tasks.
func validateGraph(v *validator, tasks []Task, lim Limits) {
	g, err := dag.Build(dagTasks(tasks), dag.Limits{MaxTasks: lim.MaxTasks, MaxEdges: lim.MaxEdges})
	var de *dag.Error
	switch {
	case errors.As(err, &de):
		field := "tasks"
		if de.Index >= 0 {
			field = fmt.Sprintf("tasks[%d].depends_on", de.Index)
			if de.Kind == "duplicate_id" || de.Kind == "invalid_id" {
				field = fmt.Sprintf("tasks[%d].id", de.Index)
			}
		}
		v.add(field, "%s", de.Msg)
		return
	case err != nil:
		v.add("tasks", "%s", err.Error())
		return
	}
	for i := range tasks {
		refs, where, err := tasks[i].Request.references()
		path := fmt.Sprintf("tasks[%d].request", i)
		if err != nil {
			v.add(path+"."+where, "%s", err.Error())
			continue
		}
		for _, ref := range refs {
			if ref.IsInput() {
				continue // the input's shape is known only at run time
			}
			up, ok := g.Index(ref.Task)
			switch {
			case !ok:
				v.add(path, "refers to task %q, which does not exist", ref.Task)
			case !g.IsAncestor(up, i):
				v.add(path, "refers to task %q, which is not upstream of task %q: add it to depends_on (directly or through another task)", ref.Task, tasks[i].ID)
			case ref.FleetCount && !tasks[up].IsFleet():
				v.add(path, "%s counts the devices of a fleet task; task %q is not one", ref.String(), ref.Task)
			}
		}
		validateWhenRefs(v, g, tasks, i)
	}
}

// Dispatch returns the settings for the delivery client, nil when none.
func (t *TLS) Dispatch() *dispatch.TLS {
	if t == nil {
		return nil
	}
	return t.dispatch()
}

func (t *TLS) dispatch() *dispatch.TLS {
	return &dispatch.TLS{ClientCertificate: t.ClientCertificate, ClientKey: t.ClientKey, CACertificates: t.CACertificates}
}

// StorableText reports whether s can be stored as PostgreSQL text (and in
// jsonb): valid UTF-8 without NUL.
func StorableText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}
