package placement

import "fmt"

// Strategies a pool may name.
const (
	StrategyLoadAware  = "load_aware"
	StrategyRoundRobin = "round_robin"
	StrategyHash       = "hash"
)

// Strategies lists the strategies, the default first.
var Strategies = []string{StrategyLoadAware, StrategyRoundRobin, StrategyHash}

// DefaultWeights are the load-aware strategy's scorers and weights.
func DefaultWeights() []Weighted {
	return []Weighted{
		{Scorer: FreeCPU{}, Weight: 0.3},
		{Scorer: FreeMemory{}, Weight: 0.2},
		{Scorer: ShortQueue{}, Weight: 0.2},
		{Scorer: LowLatency{}, Weight: 0.15},
		{Scorer: FreeCapacity{}, Weight: 0.15},
	}
}

// DefaultFilters are every strategy's filters, in the order their reasons
// are judged.
func DefaultFilters() []Filter {
	return []Filter{LabelsMismatch{}, PullOnly{}, Offline{}, CircuitOpen{}, CapacityFull{}, Overloaded{}, AlreadyTried{}}
}

// ForStrategy returns the built-in chain of a strategy ("" is load_aware).
func ForStrategy(name string) (*Chain, error) {
	switch name {
	case "", StrategyLoadAware:
		return &Chain{Filters: DefaultFilters(), Scorers: DefaultWeights(), Selector: TopN{}}, nil
	case StrategyRoundRobin:
		return &Chain{Filters: DefaultFilters(), Selector: RoundRobin{}}, nil
	case StrategyHash:
		return &Chain{Filters: DefaultFilters(), Selector: Rendezvous{}}, nil
	}
	return nil, fmt.Errorf("unknown strategy %q: want one of %v", name, Strategies)
}
