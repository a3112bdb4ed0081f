package device

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// TokenPrefix starts every device token.
const TokenPrefix = "hd_"

// newToken returns a device token ("hd_" and 32 random base32 characters),
// its SHA-256 (what is stored) and its prefix (what lists show).
func newToken() (token string, hash []byte, prefix string) {
	token = TokenPrefix + strings.ToLower(rand.Text())
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], token[:len(TokenPrefix)+6]
}

// HashToken is the stored form of a token.
func HashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
