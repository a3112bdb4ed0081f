package signing

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
)

// signatureVersion prefixes each signature in the webhook-signature header.
const signatureVersion = "v1,"

// encodedSigLen is the length of one base64-encoded HMAC-SHA256.
const encodedSigLen = (sha256.Size + 2) / 3 * 4 // padded base64

// Signer computes webhook-signature header values with one or more secrets.
// During a rotation it holds both the old and the new secret, so that a
// receiver that knows either one can verify. A Signer is safe for concurrent
// use. Make one with NewSigner; the zero Signer signs with no key and returns
// "".
type Signer struct {
	keys []*keyState
}

// keyState pools the HMAC state of one key, so that Sign neither rebuilds the
// HMAC (two SHA-256 states and the padded key) nor shares one between
// goroutines.
type keyState struct {
	pool sync.Pool // of *macState
}

// macState is the per-call scratch space of one signature.
type macState struct {
	mac    hash.Hash
	prefix []byte // msgID + "." + timestamp + "."
	sum    [sha256.Size]byte
}

// NewSigner returns a Signer that signs with every given secret, in order.
// Each secret is decoded once, here; a malformed one is an error that names
// its position but not its value.
func NewSigner(secrets ...string) (*Signer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("signing: at least one secret is required")
	}
	s := &Signer{keys: make([]*keyState, len(secrets))}
	for i, secret := range secrets {
		key, err := DecodeSecret(secret)
		if err != nil {
			return nil, fmt.Errorf("signing: secret %d of %d: %w", i+1, len(secrets), err)
		}
		s.keys[i] = &keyState{pool: sync.Pool{New: func() any {
			return &macState{mac: hmac.New(sha256.New, key)}
		}}}
	}
	return s, nil
}

// Sign returns the webhook-signature header value for the message msgID sent
// at ts with the given body: one "v1,<base64 HMAC-SHA256>" per secret,
// separated by single spaces. The signed content is
// msgID + "." + ts in Unix seconds + "." + body.
func (s *Signer) Sign(msgID string, ts time.Time, body []byte) string {
	if len(s.keys) == 0 {
		return ""
	}
	var out strings.Builder
	out.Grow(len(s.keys)*(len(signatureVersion)+encodedSigLen+1) - 1) // space-separated
	unix := ts.Unix()
	for i, k := range s.keys {
		if i > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(signatureVersion)
		k.sign(&out, msgID, unix, body)
	}
	return out.String()
}

// sign writes the base64 HMAC of one key to out.
func (k *keyState) sign(out *strings.Builder, msgID string, unix int64, body []byte) {
	st := k.pool.Get().(*macState)
	defer k.pool.Put(st)

	st.prefix = append(st.prefix[:0], msgID...)
	st.prefix = append(st.prefix, '.')
	st.prefix = strconv.AppendInt(st.prefix, unix, 10)
	st.prefix = append(st.prefix, '.')

	st.mac.Reset()
	st.mac.Write(st.prefix)
	st.mac.Write(body)
	sum := st.mac.Sum(st.sum[:0])

	// Encode through the prefix buffer: it is free again and, after the
	// first calls, large enough not to grow.
	st.prefix = base64.StdEncoding.AppendEncode(st.prefix[:0], sum)
	out.Write(st.prefix)
}
