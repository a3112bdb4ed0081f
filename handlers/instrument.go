package handlers

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/herald-sched/herald/internal/metrics"
)

// countRequests counts every request in m (herald_http_requests_total,
// herald_http_request_duration_seconds) by the route that served it (known
// once chi has routed it), its method and its status class. The writer it
// passes on still flushes (live pages, long-polls).
func countRequests(m *metrics.Metrics) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			begin := time.Now()
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			next.ServeHTTP(ww, r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK // nothing written: net/http answers 200
			}
			route := ""
			if rc := chi.RouteContext(r.Context()); rc != nil {
				route = rc.RoutePattern()
			}
			m.HTTPRequest(route, r.Method, status, time.Since(begin))
		})
	}
}
