package views

import (
	"strconv"
	"time"
)

// Clock writes the times of a page: in one time zone (the schedule's, or the
// one the viewer chose), with how long ago or how soon each is from Now.
// The pages print times with it on the server; the browser only refreshes
// the relative part as time passes (see clockScript).
type Clock struct {
	// Zone is where times are shown; nil is UTC.
	Zone *time.Location
	// Now is the instant relative times count from.
	Now time.Time
}

// Layouts of the pages' times: milliseconds only when there are some
// (".999" drops trailing zeros), never ".000".
const (
	layoutFull = "2006-01-02 15:04:05.999 MST"
	layoutTime = "15:04:05.999"
)

func (c Clock) zone() *time.Location {
	if c.Zone == nil {
		return time.UTC
	}
	return c.Zone
}

// Full writes t with its date and zone: "2026-03-29 03:00:00 CEST".
func (c Clock) Full(t time.Time) string { return t.In(c.zone()).Format(layoutFull) }

// Short writes t as a time of day when it falls on the same day as Now
// (in the zone), else as Full.
func (c Clock) Short(t time.Time) string {
	t = t.In(c.zone())
	y, m, d := t.Date()
	ny, nm, nd := c.Now.In(c.zone()).Date()
	if y == ny && m == nm && d == nd {
		return t.Format(layoutTime)
	}
	return t.Format(layoutFull)
}

// UTC writes t in UTC, for a tooltip.
func (c Clock) UTC(t time.Time) string { return t.UTC().Format(layoutFull) }

// Relative writes how far t is from Now: "in 3 s", "2 min ago", "now".
func (c Clock) Relative(t time.Time) string { return Relative(t.Sub(c.Now)) }

// ZoneName is the zone's name as the pages write it.
func (c Clock) ZoneName() string { return c.zone().String() }

// Relative writes an offset from now, rounded to what people read: "now"
// within half a second, then "in 3 s" / "3 s ago", "in 2 min", "5 h ago",
// "in 3 d".
func Relative(d time.Duration) string {
	future := d > 0
	if d < 0 {
		d = -d
	}
	var s string
	switch {
	case d < 500*time.Millisecond:
		return "now"
	case d < time.Minute-500*time.Millisecond:
		s = strconv.Itoa(int(d.Round(time.Second)/time.Second)) + " s"
	case d < time.Hour-30*time.Second:
		s = strconv.Itoa(int(d.Round(time.Minute)/time.Minute)) + " min"
	case d < 48*time.Hour-30*time.Minute:
		s = strconv.Itoa(int(d.Round(time.Hour)/time.Hour)) + " h"
	default:
		s = strconv.Itoa(int(d.Round(24*time.Hour)/(24*time.Hour))) + " d"
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

// ZoneChoice is the viewer's choice of the zone times are shown in: "" for
// each schedule's own (UTC where a schedule has none), else an IANA zone
// ("UTC", or the browser's).
type ZoneChoice string

// ZoneFor is the zone of times about a schedule in scheduleZone ("" for
// UTC), given the viewer's choice.
func (z ZoneChoice) ZoneFor(scheduleZone string) *time.Location {
	name := string(z)
	if name == "" {
		name = scheduleZone
	}
	if name == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// clockScript keeps the pages' relative times current (every second, from
// each one's datetime, written as Relative writes it) and offers the
// browser's own zone in the header's toggle.
const clockScript = `(function () {
  function rel(ms) {
    var f = ms > 0, d = Math.abs(ms), s;
    if (d < 500) return "now";
    if (d < 59500) s = Math.round(d / 1e3) + " s";
    else if (d < 3570000) s = Math.round(d / 6e4) + " min";
    else if (d < 171000000) s = Math.round(d / 36e5) + " h";
    else s = Math.round(d / 864e5) + " d";
    return f ? "in " + s : s + " ago";
  }
  setInterval(function () {
    var now = Date.now();
    document.querySelectorAll("[data-rel]").forEach(function (e) {
      e.textContent = rel(Date.parse(e.getAttribute("data-rel")) - now);
    });
  }, 1000);
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) {}
  document.querySelectorAll("option[data-local]").forEach(function (o) {
    if (!zone || zone === "UTC") return;
    var sel = o.parentNode;
    if ([].some.call(sel.options, function (x) { return x !== o && x.value === zone; })) return;
    o.value = zone;
    o.textContent = "your zone (" + zone + ")";
    o.hidden = false;
  });
})();`
