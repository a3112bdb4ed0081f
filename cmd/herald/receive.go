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
)

// receiveCmd is a webhook receiver for trying herald out: it prints every
// request it gets and answers with --status.
func receiveCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var (
		addr   string
		status int
	)
	s := newSettings("receive", stderr)
	s.String(&addr, "addr", "", "127.0.0.1:9000", "Listen address.")
	s.Int(&status, "status", "", 200, "HTTP status to answer with.")
	if err := s.parse(args, nil); err != nil {
		return err
	}
	srv := &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
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
			fmt.Fprint(stdout, b.String())
			w.WriteHeader(status)
		}),
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "receiving on http://%s/ (answering %d)\n", ln.Addr(), status)
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
