package device

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herald-sched/herald/internal/jobspec"
)

// Limits of a device's definition.
const (
	// DefaultCapacity is how many deliveries a device takes at once when
	// its definition does not say.
	DefaultCapacity = 4
	// MaxCapacity bounds a device's capacity.
	MaxCapacity = 10_000
	// MaxLabels bounds a device's labels.
	MaxLabels = 32
	maxName   = 200
	maxLabel  = 256
	maxURL    = 2048
)

var labelKeyPattern = regexp.MustCompile(`^[A-Za-z0-9_.\-/]{1,63}$`)

// Spec is a device as registered: POST /v1/devices, PUT /v1/devices/{id}.
type Spec struct {
	// Name is the device's name; it need not be unique.
	Name string `json:"name"`
	// Labels are key/value pairs pools select devices by.
	Labels map[string]string `json:"labels,omitempty"`
	// URL is the base URL herald pushes to; empty for pull mode (the device
	// long-polls for its tasks).
	URL string `json:"url,omitempty"`
	// Capacity is how many deliveries the device takes at once. Default
	// DefaultCapacity.
	Capacity *int `json:"capacity,omitempty"`
	// Timezone is the device's IANA time zone; its heartbeats may change
	// it. Default UTC.
	Timezone string `json:"timezone,omitempty"`
}

// Validate checks the definition and fills in defaults; checkURL is the
// delivery client's check of a push URL (scheme, SSRF guard).
func (s *Spec) Validate(checkURL func(string) error) error {
	var errs jobspec.Errors
	add := func(field, format string, args ...any) {
		errs = append(errs, jobspec.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case strings.TrimSpace(s.Name) == "":
		add("name", "required")
	case utf8.RuneCountInString(s.Name) > maxName:
		add("name", "at most %d characters", maxName)
	}
	if len(s.Labels) > MaxLabels {
		add("labels", "at most %d labels", MaxLabels)
	}
	for k, v := range s.Labels {
		if !labelKeyPattern.MatchString(k) {
			add("labels."+k, "a label key is 1 to 63 letters, digits, '_', '.', '-' or '/'")
		}
		if len(v) > maxLabel {
			add("labels."+k, "at most %d bytes", maxLabel)
		}
	}
	if s.URL != "" {
		if len(s.URL) > maxURL {
			add("url", "at most %d bytes", maxURL)
		} else if u, err := url.Parse(s.URL); err == nil && (u.RawQuery != "" || u.Fragment != "") {
			add("url", "a device's base URL takes no query or fragment: tasks append their path")
		} else if err := checkURL(s.URL); err != nil {
			add("url", "%s", err.Error())
		}
	}
	if s.Capacity == nil {
		c := DefaultCapacity
		s.Capacity = &c
	} else if *s.Capacity < 1 || *s.Capacity > MaxCapacity {
		add("capacity", "between 1 and %d", MaxCapacity)
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	} else if err := checkZone(s.Timezone); err != nil {
		add("timezone", "%s", err.Error())
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// checkZone refuses a time zone name that is not an IANA zone.
func checkZone(name string) error {
	if len(name) > 64 || name == "Local" {
		return fmt.Errorf("%q is not an IANA time zone", name)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return fmt.Errorf("%q is not an IANA time zone (such as Europe/Berlin)", name)
	}
	return nil
}

// DefaultTimeout is how long a device stays online after a heartbeat
// (--device-timeout).
const DefaultTimeout = 15 * time.Second
