package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// serveMetrics places /metrics (h). With addr empty it is served by the
// main listener, as before: the returned handler is h, for the router. With
// addr set, a listener of its own serves /metrics there and nothing else,
// and the returned handler is nil (the main listener has no /metrics); stop
// closes that listener. Metrics are not authenticated: a separate address
// lets an operator keep them off the network the API is reachable on.
func serveMetrics(addr string, h http.Handler, logger *slog.Logger) (forRouter http.Handler, stop func(), err error) {
	if addr == "" {
		return h, func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("--metrics-addr: listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener", slog.Any("error", err))
		}
	}()
	logger.Info("metrics are served on their own listener", slog.String("addr", ln.Addr().String()))
	return nil, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
