package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/herald-sched/herald/views"
)

// What the pages keep for a browser between requests, in cookies: the time
// zone the viewer chose for the pages' times, and the message of a form
// that failed, shown once on the page the form was on.

const (
	// zoneCookie holds the viewer's time zone choice: an IANA zone, or
	// none for each schedule's own.
	zoneCookie = "herald_tz"
	// flashCookie holds the message of a form that failed, until the next
	// page shows it.
	flashCookie = "herald_flash"
	// zoneCookieAge is how long the zone choice is kept.
	zoneCookieAge = 365 * 24 * time.Hour
	// flashCookieAge bounds how long an unshown message waits.
	flashCookieAge = time.Minute
)

// withZoneChoice puts the viewer's time zone choice (zoneCookie) in the
// request's context, for the pages' clocks and the header's toggle.
func withZoneChoice(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie(zoneCookie); err == nil {
			if z, ok := parseZoneChoice(c.Value); ok && z != "" {
				r = r.WithContext(views.WithZoneChoice(r.Context(), z))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// parseZoneChoice reads a zone choice: "" (each schedule's own) or a zone
// this binary knows.
func parseZoneChoice(s string) (views.ZoneChoice, bool) {
	if s == "" {
		return "", true
	}
	if len(s) > 64 {
		return "", false
	}
	if _, err := time.LoadLocation(s); err != nil || s == "Local" {
		return "", false
	}
	return views.ZoneChoice(s), true
}

// setZoneChoice is the header's toggle (POST /timezone, form field zone):
// it keeps the choice in a cookie and sends the browser back.
func setZoneChoice(w http.ResponseWriter, r *http.Request) {
	z, ok := parseZoneChoice(r.PostFormValue("zone"))
	if !ok {
		setFlash(w, "unknown time zone "+r.PostFormValue("zone")+": times stay as they were")
		http.Redirect(w, r, backTo(r), http.StatusSeeOther)
		return
	}
	c := &http.Cookie{Name: zoneCookie, Value: string(z), Path: "/", MaxAge: int(zoneCookieAge.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode}
	if z == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
	http.Redirect(w, r, backTo(r), http.StatusSeeOther)
}

// setFlash keeps msg for the next page the browser opens.
func setFlash(w http.ResponseWriter, msg string) {
	http.SetCookie(w, &http.Cookie{
		Name: flashCookie, Value: url.QueryEscape(msg), Path: "/",
		MaxAge: int(flashCookieAge.Seconds()), HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
}

// takeFlash moves the message kept by setFlash, if any, into the request's
// context (the page shows it) and clears it.
func takeFlash(w http.ResponseWriter, r *http.Request) *http.Request {
	c, err := r.Cookie(flashCookie)
	if err != nil {
		return r
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1})
	msg, err := url.QueryUnescape(c.Value)
	if err != nil || msg == "" {
		return r
	}
	return r.WithContext(views.WithFlash(r.Context(), msg))
}

// refusal is the message of an action refused for what it asked (400, 409,
// 422), to show on the form's page; false for other errors.
func refusal(err error) (string, bool) {
	var ae *apiError
	if !errors.As(err, &ae) {
		return "", false
	}
	switch ae.status {
	case http.StatusBadRequest, http.StatusConflict, http.StatusUnprocessableEntity:
	default:
		return "", false
	}
	msg := ae.detail
	for _, f := range ae.fields {
		msg += "; " + f.Field + ": " + f.Message
	}
	return msg, true
}
