package placement

import (
	"encoding/binary"

	"github.com/google/uuid"
)

// taskSeed is a task run's seed for tieBreak.
func taskSeed(taskRun uuid.UUID) uint64 {
	return mix(binary.BigEndian.Uint64(taskRun[:8]) ^ mix(binary.BigEndian.Uint64(taskRun[8:])^0x9e3779b97f4a7c15))
}

// tieBreak is a stable pseudo-random rank of device d for the task run of
// seed (taskSeed): the same pair always ranks the same, different task runs
// spread over devices, and a device joining or leaving does not move the
// others (rendezvous hashing).
func tieBreak(seed uint64, d uuid.UUID) uint64 {
	return mix(mix(seed^binary.BigEndian.Uint64(d[:8])) ^ binary.BigEndian.Uint64(d[8:]))
}

// mix is splitmix64's finalizer: every input bit moves every output bit.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// idOrder compares device ids, the last tie-break.
func idOrder(a, b uuid.UUID) int {
	x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if x != y {
		if x < y {
			return -1
		}
		return 1
	}
	x, y = binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
