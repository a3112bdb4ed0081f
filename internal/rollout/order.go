package rollout

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"

	"github.com/google/uuid"
)

// Order is the order in which a job's rollouts reach devices: by a hash of
// the job and the device, so that every run of a job takes the same first
// devices as its canaries (while the fleet stays the same), and different
// jobs take different ones, spread over the fleet rather than by name or
// age. It sorts devices in place.
func Order(job uuid.UUID, devices []uuid.UUID) {
	keys := make(map[uuid.UUID]uint64, len(devices))
	for _, d := range devices {
		h := sha256.New()
		h.Write(job[:])
		h.Write(d[:])
		keys[d] = binary.BigEndian.Uint64(h.Sum(nil))
	}
	slices.SortFunc(devices, func(a, b uuid.UUID) int {
		switch ka, kb := keys[a], keys[b]; {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return slices.Compare(a[:], b[:])
	})
}
