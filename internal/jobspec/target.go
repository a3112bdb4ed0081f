package jobspec

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/placement"
)

// Bounds of a target.
const (
	// MaxTopN bounds pool.top_n.
	MaxTopN = 100
	// maxValidFor bounds valid_for.
	maxValidFor = 30 * 24 * time.Hour
	maxPath     = 2048
	maxSelector = 32
)

func (t *Target) validate(v *validator, path string) {
	named := 0
	for _, set := range []bool{t.Device != "", t.Pool != nil, t.Fleet != nil} {
		if set {
			named++
		}
	}
	switch {
	case named > 1:
		v.add(path, "names one of a device, a pool or a fleet")
	case t.Fleet != nil:
		t.Fleet.validate(v, path+".fleet")
	case t.Device != "":
		if _, err := uuid.Parse(t.Device); err != nil {
			v.add(path+".device", "is not a device id")
		}
	case t.Pool != nil:
		t.Pool.validate(v, path+".pool")
	default:
		v.add(path, "names a device, a pool or a fleet")
	}
	if t.Path == "" {
		t.Path = "/"
	}
	if !strings.HasPrefix(t.Path, "/") || strings.HasPrefix(t.Path, "//") || len(t.Path) > maxPath {
		v.add(path+".path", "must be a path starting with / (at most %d bytes)", maxPath)
	} else if u, err := url.Parse("http://device" + t.Path); err != nil || u.Host != "device" || u.Fragment != "" {
		v.add(path+".path", "is not a valid path (a query is fine, a fragment is not)")
	}
}

func (p *Pool) validate(v *validator, path string) {
	p.validateSelector(v, path+".selector")
	if p.Strategy == "" {
		p.Strategy = placement.StrategyLoadAware
	}
	if !slices.Contains(placement.Strategies, p.Strategy) {
		v.add(path+".strategy", "must be one of %s", strings.Join(placement.Strategies, ", "))
	}
	if p.TopN == nil {
		one := 1
		p.TopN = &one
	}
	if *p.TopN < 1 || *p.TopN > MaxTopN {
		v.add(path+".top_n", "must be between 1 and %d", MaxTopN)
	}
}

// PoolKeys lists the label keys the job's pools select by, for the warning
// of a pool whose keys no device carries.
func (j *Job) PoolKeys() []string {
	var keys []string
	for i := range j.Tasks {
		if t := j.Tasks[i].Target; t != nil && t.Pool != nil {
			for k := range t.Pool.Selector {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// DeviceIDs lists the devices the job's tasks name.
func (j *Job) DeviceIDs() []uuid.UUID {
	var ids []uuid.UUID
	for i := range j.Tasks {
		if t := j.Tasks[i].Target; t != nil && t.Device != "" {
			if id, err := uuid.Parse(t.Device); err == nil {
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// validateSelector checks the pool's selector, at path.
func (p *Pool) validateSelector(v *validator, path string) {
	if len(p.Selector) > maxSelector {
		v.add(path, "at most %d labels", maxSelector)
	}
	for k := range p.Selector {
		if !labelKeyPattern.MatchString(k) {
			v.add(path+"."+k, "a label key is 1 to 63 letters, digits, '_', '.', '-' or '/'")
		}
	}
}
