package handlers

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/herald-sched/herald/internal/device"
)

type deviceKey struct{}

// deviceOf is the device a request authenticated as (requireDevice).
func deviceOf(ctx context.Context) (uuid.UUID, bool) {
	id, ok := ctx.Value(deviceKey{}).(uuid.UUID)
	return id, ok
}

// requireDevice admits a request to a device's own endpoints
// (/v1/devices/{deviceID}/...) only with that device's token:
// Authorization: Bearer hd_.... A missing token is 401; a token of another
// device, or for a device that does not exist, 403 either way, so that a
// token says nothing about other devices. API keys do not reach these
// endpoints, and device tokens reach nothing else.
func (a *API) requireDevice(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="herald devices"`)
			writeProblem(w, &apiError{status: http.StatusUnauthorized, kind: "unauthorized", detail: "missing device token: send Authorization: Bearer <the device's token>"})
			return
		}
		id, err := uuid.Parse(chi.URLParam(r, "deviceID"))
		if err == nil {
			err = a.devices.Authenticate(r.Context(), id, token)
		} else {
			err = device.ErrForbidden
		}
		switch {
		case errors.Is(err, device.ErrForbidden):
			writeProblem(w, &apiError{status: http.StatusForbidden, kind: "forbidden", detail: "this token does not reach this device"})
			return
		case err != nil:
			writeError(w, r, a.logger, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), deviceKey{}, id)))
	})
}
