package placement

import "github.com/google/uuid"

// nthByID returns the id at position n (0-based) of cs in id order, in
// linear expected time (quickselect on a copy of the ids).
func nthByID(cs []Candidate, n int) uuid.UUID {
	ids := make([]uuid.UUID, len(cs))
	for i := range cs {
		ids[i] = cs[i].Device.ID
	}
	lo, hi := 0, len(ids)-1
	for lo < hi {
		// The median of three as pivot: deterministic, and good on sorted
		// input.
		mid := lo + (hi-lo)/2
		if idOrder(ids[mid], ids[lo]) < 0 {
			ids[mid], ids[lo] = ids[lo], ids[mid]
		}
		if idOrder(ids[hi], ids[lo]) < 0 {
			ids[hi], ids[lo] = ids[lo], ids[hi]
		}
		if idOrder(ids[hi], ids[mid]) < 0 {
			ids[hi], ids[mid] = ids[mid], ids[hi]
		}
		pivot := ids[mid]
		i, j := lo, hi
		for i <= j {
			for idOrder(ids[i], pivot) < 0 {
				i++
			}
			for idOrder(ids[j], pivot) > 0 {
				j--
			}
			if i <= j {
				ids[i], ids[j] = ids[j], ids[i]
				i++
				j--
			}
		}
		switch {
		case n <= j:
			hi = j
		case n >= i:
			lo = i
		default:
			return ids[n]
		}
	}
	return ids[n]
}
