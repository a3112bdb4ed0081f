package signing_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/signing"
)

func TestNewSecret(t *testing.T) {
	t.Parallel()

	seen := make(map[string]bool)
	for range 100 {
		secret, err := signing.NewSecret()
		require.NoError(t, err)
		require.True(t, strings.HasPrefix(secret, signing.SecretPrefix), "got %q, want prefix %q", secret, signing.SecretPrefix)

		key, err := signing.DecodeSecret(secret)
		require.NoError(t, err)
		require.Len(t, key, 24, "got %d key bytes, want 24", len(key))

		require.False(t, seen[secret], "got duplicate secret %q, want 100 distinct", secret)
		seen[secret] = true
	}
}

func TestDecodeSecret(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name    string
		secret  string
		want    []byte
		wantErr string
	}{
		{name: "valid", secret: "whsec_AQID", want: []byte{1, 2, 3}},
		{name: "missing prefix", secret: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", wantErr: `must start with "whsec_"`},
		{name: "wrong prefix case", secret: "WHSEC_AQID", wantErr: `must start with "whsec_"`},
		{name: "empty", secret: "", wantErr: `must start with "whsec_"`},
		{name: "prefix only", secret: "whsec_", wantErr: "key is empty"},
		{name: "not base64", secret: "whsec_not*base64!", wantErr: "not valid base64"},
		{name: "url alphabet", secret: "whsec_-_-_", wantErr: "not valid base64"},
		{name: "missing padding", secret: "whsec_AQI", wantErr: "not valid base64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := signing.DecodeSecret(tt.secret)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr, "got %v, want error containing %q", err, tt.wantErr)
				if len(tt.secret) > len(signing.SecretPrefix) {
					require.NotContains(t, err.Error(), strings.TrimPrefix(tt.secret, signing.SecretPrefix), "error must not repeat the secret")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got, "got %v, want %v", got, tt.want)
		})
	}
}

func TestNewSignerErrors(t *testing.T) {
	t.Parallel()

	good := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef01234567"))
	tests := []struct {
		name    string
		secrets []string
		wantErr string
	}{
		{name: "no secrets", secrets: nil, wantErr: "at least one secret"},
		{name: "second secret malformed", secrets: []string{good, "whsec_secret*value"}, wantErr: "secret 2 of 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := signing.NewSigner(tt.secrets...)
			require.ErrorContains(t, err, tt.wantErr, "got %v, want error containing %q", err, tt.wantErr)
			require.Nil(t, s)
			require.NotContains(t, err.Error(), "secret*value", "error must not repeat the secret")
		})
	}
}

func TestZeroSigner(t *testing.T) {
	t.Parallel()
	var s signing.Signer
	got := s.Sign("msg_1", time.Unix(1, 0), []byte("x"))
	require.Empty(t, got, "got %q, want empty", got)
}
