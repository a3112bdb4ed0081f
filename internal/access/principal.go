package access

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Scope is what a key may do.
type Scope string

// Scopes, from the broadest.
const (
	// ScopeAdmin reaches everything: keys and the audit log too.
	ScopeAdmin Scope = "admin"
	// ScopeWrite reaches jobs, runs and devices, reading and writing.
	ScopeWrite Scope = "write"
	// ScopeRead reads (GET) jobs, runs, devices and the rest, and writes
	// nothing.
	ScopeRead Scope = "read"
)

// Scopes lists the scopes, the broadest first.
func Scopes() []Scope { return []Scope{ScopeAdmin, ScopeWrite, ScopeRead} }

// rank orders scopes: higher reaches more.
func (s Scope) rank() int {
	switch s {
	case ScopeAdmin:
		return 3
	case ScopeWrite:
		return 2
	case ScopeRead:
		return 1
	}
	return 0
}

// Allows reports whether s reaches what needs scope need.
func (s Scope) Allows(need Scope) bool { return s.rank() >= need.rank() && need.rank() > 0 }

// Principal is who made a request: the bootstrap key, an unauthenticated
// development server, or a key with its scope and label limit.
type Principal struct {
	// Name is "bootstrap", "insecure" or "key:<id>": idempotency keys and
	// audit rows are by it.
	Name string
	// KeyID is the key's id; nil for the bootstrap key and insecure mode.
	KeyID *uuid.UUID
	// Scope is what it may do.
	Scope Scope
	// Labels, when set, limit it to the jobs carrying every one of them, and
	// their runs.
	Labels map[string]string
}

// Bootstrap is the principal of HERALD_API_KEY; Insecure that of a server
// running without authentication.
var (
	Bootstrap = Principal{Name: "bootstrap", Scope: ScopeAdmin}
	Insecure  = Principal{Name: "insecure", Scope: ScopeAdmin}
)

// Limited reports whether the principal reaches only jobs with its labels.
func (p *Principal) Limited() bool { return len(p.Labels) > 0 }

// Sees reports whether the principal reaches a job labelled labels.
func (p *Principal) Sees(labels map[string]string) bool {
	for k, v := range p.Labels {
		if got, ok := labels[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// MayGrant says why the principal may not create a key of scope s limited
// to labels, or "" when it may: never a broader key than its own (a higher
// scope, or fewer label limits).
func (p *Principal) MayGrant(s Scope, labels map[string]string) string {
	if !p.Scope.Allows(s) {
		return fmt.Sprintf("a %s key cannot create a %s key", p.Scope, s)
	}
	for _, k := range slices.Sorted(maps.Keys(p.Labels)) {
		if got, ok := labels[k]; !ok || got != p.Labels[k] {
			return fmt.Sprintf("this key is limited to jobs labelled %s: a key it creates must be limited to them too", describeLabels(p.Labels))
		}
	}
	return ""
}

func describeLabels(l map[string]string) string {
	parts := make([]string, 0, len(l))
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return strings.Join(parts, ", ")
}

// DescribeLabels is a label limit as people read it: "site=17, team=edge".
func DescribeLabels(l map[string]string) string { return describeLabels(l) }
