package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
	"github.com/stretchr/testify/require"
)

// herald receive --verify-secret checks each request's signature with the
// Standard Webhooks library and says so: a signed request is valid and gets
// --status, a forged body or a request without signature headers is
// invalid and gets 401.
func TestReceiveVerifiesSignatures(t *testing.T) {
	t.Parallel()
	key := make([]byte, 24)
	_, err := rand.Read(key)
	require.NoError(t, err)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)

	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, heraldBin, "receive", "--addr", "127.0.0.1:0", "--status", "202")
	cmd.Env = append(baseEnv(), "HERALD_WEBHOOK_SECRET="+secret)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	var (
		mu    sync.Mutex
		lines []string
	)
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			mu.Lock()
			lines = append(lines, sc.Text())
			mu.Unlock()
			select {
			case first <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var url string
	select {
	case l := <-first:
		m := regexp.MustCompile(`^receiving on (http://\S+/) \(answering 202, verifying signatures\)$`).FindStringSubmatch(l)
		require.NotNil(t, m, "first line: %s", l)
		url = m[1]
	case <-time.After(30 * time.Second):
		t.Fatal("herald receive did not start")
	}

	wh, err := standardwebhooks.NewWebhook(secret)
	require.NoError(t, err)
	send := func(path string, body []byte, sign bool, forge bool) int {
		req, err := http.NewRequest(http.MethodPost, url+strings.TrimPrefix(path, "/"), bytes.NewReader(body))
		require.NoError(t, err)
		if sign {
			now := time.Now()
			sig, err := wh.Sign("msg_1", now, body)
			require.NoError(t, err)
			req.Header.Set("Webhook-Id", "msg_1")
			req.Header.Set("Webhook-Timestamp", strconv.FormatInt(now.Unix(), 10))
			req.Header.Set("Webhook-Signature", sig)
		}
		if forge {
			req.Body = io.NopCloser(bytes.NewReader([]byte(`{"amount":1000000}`)))
			req.ContentLength = -1
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	body := []byte(`{"amount":1}`)
	require.Equal(t, http.StatusAccepted, send("/signed", body, true, false))
	require.Equal(t, http.StatusUnauthorized, send("/forged", body, true, true))
	require.Equal(t, http.StatusUnauthorized, send("/unsigned", body, false, false))

	var out string
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		out = strings.Join(lines, "\n")
		return strings.Count(out, "signature: ") == 3
	}, 10*time.Second, 20*time.Millisecond)
	verdict := func(path string) string {
		i := strings.Index(out, " POST /"+path+"\n")
		require.GreaterOrEqual(t, i, 0, "no request to /%s in\n%s", path, out)
		rest := out[i:]
		j := strings.Index(rest, "signature: ")
		return rest[j : j+strings.IndexByte(rest[j:]+"\n", '\n')]
	}
	require.Equal(t, "signature: valid", verdict("signed"))
	require.Equal(t, "signature: INVALID (no signature matches the body and this secret): answering 401", verdict("forged"))
	require.Equal(t, "signature: INVALID (no webhook-id, webhook-timestamp or webhook-signature header): answering 401", verdict("unsigned"))
}
