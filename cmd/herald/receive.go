package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// receiveMaxBody is the largest body the receiver reads (herald's request
// bodies are at most 256 KiB).
const receiveMaxBody = 1 << 20

// receiveCmd is a webhook receiver for trying herald out: it prints every
// request it gets and answers with --status; with --verify-secret it checks
// each request's Standard Webhooks signature with the official library,
// says so, and answers 401 to a request that fails the check.
func receiveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		addr, secret string
		status       int
	)
	s := newSettings("receive", stderr)
	s.about = "Prints every request it receives (method, path, headers, body) and answers with --status.\n" +
		"With --verify-secret (the job's signing secret, whsec_...) it checks each request's\n" +
		"Standard Webhooks signature and timestamp, prints \"signature: valid\" or why not, and\n" +
		"answers 401 to a request that fails."
	s.String(&addr, "addr", "HERALD_RECEIVE_ADDR", "127.0.0.1:9000", "Listen address.")
	s.Int(&status, "status", "HERALD_RECEIVE_STATUS", 200, "HTTP status to answer with.")
	s.String(&secret, "verify-secret", "HERALD_WEBHOOK_SECRET", "", "The job's signing secret (whsec_...): verify each request's signature with it.")
	if err := s.parse(args, nil); err != nil {
		return err
	}
	if status < 100 || status > 599 {
		return usageError("--status %d: want an HTTP status, 100 to 599", status)
	}
	var wh *standardwebhooks.Webhook
	if secret != "" {
		var err error
		if wh, err = standardwebhooks.NewWebhook(secret); err != nil {
			return usageError("--verify-secret: %v (want the job's secret, whsec_ and base64)", err)
		}
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler:           receiver{out: stdout, status: status, wh: wh},
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	checking := ""
	if wh != nil {
		checking = ", verifying signatures"
	}
	fmt.Fprintf(stdout, "receiving on http://%s/ (answering %d%s)\n", ln.Addr(), status, checking)
	go func() {
		<-ctx.Done()
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// receiver prints each request; with wh, it verifies its signature.
type receiver struct {
	out    io.Writer
	status int
	wh     *standardwebhooks.Webhook
}

func (rc receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, receiveMaxBody+1))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s\n", time.Now().Format(time.RFC3339Nano), r.Method, r.URL.RequestURI())
	names := make([]string, 0, len(r.Header))
	for name := range r.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(&b, "  %s: %s\n", name, strings.Join(r.Header[name], ", "))
	}
	if len(body) > 0 {
		fmt.Fprintf(&b, "  %s\n", body)
	}
	status := rc.status
	if rc.wh != nil {
		switch {
		case err != nil:
			fmt.Fprintf(&b, "  signature: not checked, the body could not be read: %v\n", err)
			status = http.StatusBadRequest
		case len(body) > receiveMaxBody:
			fmt.Fprintf(&b, "  signature: not checked, the body is over %d bytes\n", receiveMaxBody)
			status = http.StatusRequestEntityTooLarge
		default:
			if verr := rc.wh.Verify(body, r.Header); verr != nil {
				fmt.Fprintf(&b, "  signature: INVALID (%s): answering 401\n", whyInvalid(verr))
				status = http.StatusUnauthorized
			} else {
				fmt.Fprintf(&b, "  signature: valid\n")
			}
		}
	}
	fmt.Fprint(rc.out, b.String())
	w.WriteHeader(status)
}

// whyInvalid says why a request failed the Standard Webhooks check.
func whyInvalid(err error) string {
	switch {
	case errors.Is(err, standardwebhooks.ErrRequiredHeaders):
		return "no webhook-id, webhook-timestamp or webhook-signature header"
	case errors.Is(err, standardwebhooks.ErrNoMatchingSignature):
		return "no signature matches the body and this secret"
	case errors.Is(err, standardwebhooks.ErrMessageTooOld), errors.Is(err, standardwebhooks.ErrMessageTooNew):
		return "webhook-timestamp more than 5 minutes from now"
	case errors.Is(err, standardwebhooks.ErrInvalidHeaders):
		return "malformed webhook-timestamp"
	}
	return err.Error()
}
