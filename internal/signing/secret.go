package signing

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// SecretPrefix starts every herald signing secret, as the Standard Webhooks
// specification recommends; the rest of the secret is the base64 (standard
// alphabet, padded) encoding of the key.
const SecretPrefix = "whsec_"

// secretKeyBytes is the length of the keys NewSecret makes: 192 bits, the
// minimum the Standard Webhooks specification recommends.
const secretKeyBytes = 24

// NewSecret returns a new signing secret: SecretPrefix followed by the
// base64 encoding of 24 bytes from crypto/rand.
func NewSecret() (string, error) {
	var key [secretKeyBytes]byte
	if _, err := rand.Read(key[:]); err != nil {
		return "", fmt.Errorf("signing: generating secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key[:]), nil
}

// DecodeSecret returns the HMAC key of a secret of the form
// SecretPrefix + base64(key). The error says what is wrong but never
// repeats the secret.
func DecodeSecret(s string) ([]byte, error) {
	encoded, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("signing: malformed secret: it must start with %q", SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		// The base64 error quotes an offset, not the input, so it is safe to wrap.
		return nil, fmt.Errorf("signing: malformed secret: the part after %q is not valid base64: %w", SecretPrefix, err)
	}
	if len(key) == 0 {
		return nil, errors.New("signing: malformed secret: the key is empty")
	}
	return key, nil
}
