package jobs

import (
	"sync"

	"github.com/herald-sched/herald/internal/signing"
)

// maxSigners bounds a signerCache; past it the cache starts over.
const maxSigners = 10_000

// signerCache keeps a Signer per set of secrets, so that a delivery neither
// decodes its job's secret again nor starts with an empty pool of HMAC
// states. A rotation changes the set, and with it the entry.
type signerCache struct {
	mu sync.Mutex
	m  map[[2]string]*signing.Signer
}

// get returns the signer for secret and, during a rotation, previous ("" for
// none).
func (c *signerCache) get(secret, previous string) (*signing.Signer, error) {
	key := [2]string{secret, previous}
	c.mu.Lock()
	s, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	secrets := []string{secret}
	if previous != "" {
		secrets = append(secrets, previous)
	}
	s, err := signing.NewSigner(secrets...)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxSigners {
		c.m = make(map[[2]string]*signing.Signer)
	}
	c.m[key] = s
	c.mu.Unlock()
	return s, nil
}
