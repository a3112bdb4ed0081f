package signing_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/signing"
)

// vector is one golden case of testdata/vectors.json. The body is given
// either as text (Body) or, when it is not valid UTF-8, as BodyBase64.
type vector struct {
	Name       string   `json:"name"`
	Secrets    []string `json:"secrets"`
	MsgID      string   `json:"msg_id"`
	Timestamp  int64    `json:"timestamp"`
	Body       *string  `json:"body"`
	BodyBase64 *string  `json:"body_base64"`
	Signature  string   `json:"signature"`
}

func (v vector) body(t *testing.T) []byte {
	t.Helper()
	switch {
	case v.Body != nil && v.BodyBase64 == nil:
		return []byte(*v.Body)
	case v.Body == nil && v.BodyBase64 != nil:
		b, err := base64.StdEncoding.DecodeString(*v.BodyBase64)
		require.NoError(t, err)
		return b
	default:
		t.Fatalf("vector %q: got body and body_base64 both set or both unset, want exactly one", v.Name)
		return nil
	}
}

func loadVectors(t *testing.T) []vector {
	t.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	require.NoError(t, err)
	var vs []vector
	require.NoError(t, json.Unmarshal(raw, &vs))
	require.NotEmpty(t, vs)
	return vs
}

// verifyHeaders are the headers a receiver would get with a signature.
func verifyHeaders(msgID string, ts time.Time, signature string) http.Header {
	h := http.Header{}
	h.Set(standardwebhooks.HeaderWebhookID, msgID)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, signature)
	return h
}

func TestSignVectors(t *testing.T) {
	t.Parallel()

	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			t.Parallel()
			body := v.body(t)
			ts := time.Unix(v.Timestamp, 0)

			s, err := signing.NewSigner(v.Secrets...)
			require.NoError(t, err)
			got := s.Sign(v.MsgID, ts, body)
			require.Equal(t, v.Signature, got, "got %v, want %v", got, v.Signature)

			// The reference implementation accepts the header with each
			// secret alone (the vectors' timestamps are old, so the
			// tolerance check is skipped here; TestSignVerifiesWithReference
			// covers it).
			for i, secret := range v.Secrets {
				wh, err := standardwebhooks.NewWebhook(secret)
				require.NoError(t, err)
				err = wh.VerifyIgnoringTimestamp(body, verifyHeaders(v.MsgID, ts, got))
				require.NoError(t, err, "secret %d: got %v, want nil", i+1, err)
			}
		})
	}
}

func TestSignVerifiesWithReference(t *testing.T) {
	t.Parallel()

	secretA, err := signing.NewSecret()
	require.NoError(t, err)
	secretB, err := signing.NewSecret()
	require.NoError(t, err)
	other, err := signing.NewSecret()
	require.NoError(t, err)

	tests := []struct {
		name    string
		secrets []string
		body    []byte
	}{
		{name: "one secret", secrets: []string{secretA}, body: []byte(`{"hello":"world"}`)},
		{name: "one secret empty body", secrets: []string{secretA}, body: nil},
		{name: "two secrets", secrets: []string{secretA, secretB}, body: []byte("\x00\xff binary ✓")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := signing.NewSigner(tt.secrets...)
			require.NoError(t, err)

			const msgID = "msg_2mQ4dZ7xY1"
			now := time.Now()
			header := verifyHeaders(msgID, now, s.Sign(msgID, now, tt.body))

			for i, secret := range tt.secrets {
				wh, err := standardwebhooks.NewWebhook(secret)
				require.NoError(t, err)
				err = wh.Verify(tt.body, header)
				require.NoError(t, err, "secret %d: got %v, want nil", i+1, err)
			}

			wh, err := standardwebhooks.NewWebhook(other)
			require.NoError(t, err)
			err = wh.Verify(tt.body, header)
			require.ErrorIs(t, err, standardwebhooks.ErrNoMatchingSignature, "unrelated secret: got %v, want %v", err, standardwebhooks.ErrNoMatchingSignature)

			tampered := append([]byte("x"), tt.body...)
			wh, err = standardwebhooks.NewWebhook(tt.secrets[0])
			require.NoError(t, err)
			err = wh.Verify(tampered, header)
			require.ErrorIs(t, err, standardwebhooks.ErrNoMatchingSignature, "tampered body: got %v, want %v", err, standardwebhooks.ErrNoMatchingSignature)
		})
	}
}

func TestSignConcurrent(t *testing.T) {
	t.Parallel()

	vs := loadVectors(t)
	rotation := vs[3]
	require.Len(t, rotation.Secrets, 2, "vector 4 must be the two-secret case")
	s, err := signing.NewSigner(rotation.Secrets...)
	require.NoError(t, err)
	body := rotation.body(t)
	ts := time.Unix(rotation.Timestamp, 0)

	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := range 16 {
		wg.Go(func() {
			for i := range 200 {
				// Interleave other messages so that pooled state is reused
				// with different inputs.
				s.Sign(fmt.Sprintf("msg_%d_%d", g, i), time.Now(), []byte("other"))
				if got := s.Sign(rotation.MsgID, ts, body); got != rotation.Signature {
					errs <- fmt.Errorf("goroutine %d: got %v, want %v", g, got, rotation.Signature)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func BenchmarkSign(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("secrets=%d", n), func(b *testing.B) {
			secrets := make([]string, n)
			for i := range secrets {
				secret, err := signing.NewSecret()
				require.NoError(b, err)
				secrets[i] = secret
			}
			s, err := signing.NewSigner(secrets...)
			require.NoError(b, err)
			body := make([]byte, 1024)
			ts := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				s.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body)
			}
		})
	}
}
