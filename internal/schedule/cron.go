package schedule

import (
	"math"
	"math/bits"
	"time"
)

// horizonYears bounds every search. The Gregorian calendar repeats its dates
// and weekdays every 400 years, so a schedule that fires at all fires within
// that span.
const horizonYears = 400

// allHours is the hour set of a schedule that fires in every hour.
const allHours = 1<<24 - 1

// cronSchedule is a parsed cron expression. Each set holds bit v when the
// field matches value v; dow uses 0-6 with 0 for Sunday.
type cronSchedule struct {
	second, minute, hour, dom, month, dow uint64
	// dayAnd reports that a day must match both day-of-month and
	// day-of-week (Vixie: one of them is unrestricted); otherwise either.
	dayAnd bool
	// followClock selects DST rule 1 (fire whenever the local clock
	// matches) for schedules that fire in every hour.
	followClock bool
	// never reports that no date matches, such as February 30.
	never bool
	loc   *time.Location
}

// newCron builds a schedule from the value sets of the six fields and
// whether the day fields are wildcards in the sense of isWildcard.
func newCron(sets [numFields]uint64, domWild, dowWild bool, loc *time.Location) *cronSchedule {
	c := &cronSchedule{
		second:      sets[fieldSecond],
		minute:      sets[fieldMinute],
		hour:        sets[fieldHour],
		dom:         sets[fieldDayOfMonth],
		month:       sets[fieldMonth],
		dow:         sets[fieldDayOfWeek],
		dayAnd:      domWild || dowWild,
		followClock: sets[fieldHour] == allHours,
		loc:         loc,
	}
	c.never = c.dayAnd && !c.someMonthHasDay()
	return c
}

// someMonthHasDay reports whether some selected month has one of the
// selected days of the month in some year.
func (c *cronSchedule) someMonthHasDay() bool {
	for m := 1; m <= 12; m++ {
		days := uint64(1)<<(daysIn(2000, m)+1) - 2 // bits 1..n; 2000 is a leap year
		if c.month&(1<<m) != 0 && c.dom&days != 0 {
			return true
		}
	}
	return false
}

// Next returns the first fire time strictly after t. See the package
// documentation for how local times that are skipped or repeated by a
// daylight saving change are handled.
//
// Wall-clock times are handled as Unix seconds of the same reading in UTC.
// The search walks the zone's periods of constant UTC offset: each period
// answers for a range of wall times, and the first matching wall time in
// that range gives the fire instant.
func (c *cronSchedule) Next(t time.Time) time.Time {
	if c.never {
		return time.Time{}
	}
	const horizon = horizonYears * 366 * 86400
	u := t.Unix() + 1 // fire times are whole seconds
	limit := int64(math.MaxInt64)
	if u < limit-horizon {
		limit = u + horizon
	}
	var found match
	for u <= limit {
		p := c.zonePeriod(u)
		from := p.fromWall(u)
		if !found.holdsFrom(from) {
			w, ok := c.nextWall(from)
			if !ok {
				return time.Time{}
			}
			found = match{wall: w, from: from, at: u, ok: true}
		}
		if found.wall < p.endWall {
			return time.Unix(p.instant(found.wall), 0).UTC()
		}
		if p.end == math.MaxInt64 {
			break
		}
		u = found.resume(p.end)
	}
	return time.Time{}
}

// maxOffset bounds the distance between an instant and its wall-clock
// reading: UTC offsets in tzdata stay within 16 hours (the largest is the
// local mean time of Asia/Manila, -15:56).
const maxOffset = 18 * 3600

// match remembers a wall-time search made while walking zone periods.
type match struct {
	// wall is the first matching wall time at or after from.
	wall, from int64
	// at is the instant whose period the search was made for.
	at int64
	ok bool
}

// holdsFrom reports whether m.wall is also the first match at or after from.
func (m match) holdsFrom(from int64) bool {
	return m.ok && m.from <= from && from <= m.wall
}

// resume returns the instant to continue at when the period ending at end
// did not reach m.wall. Instants from m.at+2*maxOffset on and before
// m.wall-maxOffset read wall times in [m.from, m.wall), none of which
// match, so periods lying there are skipped rather than walked one by one.
func (m match) resume(end int64) int64 {
	if end-m.at >= 2*maxOffset {
		return max(end, m.wall-maxOffset)
	}
	return end
}

// period is a span [start, end) of Unix seconds during which the zone keeps
// one UTC offset, together with the wall-clock times it answers for,
// [firstWall, endWall).
type period struct {
	start, end         int64
	offset             int64
	firstWall, endWall int64
}

// zonePeriod returns the period containing the instant u. Under DST rule 1
// a period answers for exactly the wall times it shows. Under rule 2 it also
// answers for a gap just before it (firstWall is the gap start) and not for
// wall times that repeat ones already shown (firstWall is past them), so the
// wall-time ranges of consecutive periods abut.
func (c *cronSchedule) zonePeriod(u int64) period {
	t := time.Unix(u, 0).In(c.loc)
	_, offset := t.Zone()
	start, end := t.ZoneBounds()
	p := period{start: math.MinInt64, end: math.MaxInt64, offset: int64(offset),
		firstWall: math.MinInt64, endWall: math.MaxInt64}
	if !end.IsZero() {
		p.end = end.Unix()
		if p.end <= u {
			p.end = c.followingStart(u)
		}
		p.endWall = p.end + p.offset
	}
	if start.IsZero() {
		return p
	}
	p.start = start.Unix()
	p.firstWall = p.start + p.offset
	if !c.followClock {
		_, prev := time.Unix(p.start-1, 0).In(c.loc).Zone()
		p.firstWall = p.start + int64(prev)
	}
	return p
}

// followingStart returns the start of the zone period after the one
// containing u, for when time.ZoneBounds reports an end at or before u. It
// does so for the last UTC day of leap years served by a zone's TZ footer
// rule, such as 2040-12-31 in Europe/Berlin (golang/go#81583). No zone
// changes its offset on that day, so the period is taken to run on until the
// following one starts; the result is always after u, so searches progress.
func (c *cronSchedule) followingStart(u int64) int64 {
	start, _ := time.Unix(u+86400, 0).In(c.loc).ZoneBounds()
	if start.IsZero() || start.Unix() <= u {
		return u + 1
	}
	return start.Unix()
}

// fromWall returns the earliest wall time whose fire instant in p is not
// before u.
func (p period) fromWall(u int64) int64 {
	if u == p.start {
		return p.firstWall
	}
	return max(u+p.offset, p.firstWall)
}

// instant returns the fire instant of the wall time w in p: a wall time in
// the gap before p fires at the start of p.
func (p period) instant(w int64) int64 {
	return max(w-p.offset, p.start)
}

// nextWall returns the first matching wall-clock time at or after from,
// both as Unix seconds of the same reading in UTC. It reports false if there
// is none within the horizon.
func (c *cronSchedule) nextWall(from int64) (int64, bool) {
	t := time.Unix(from, 0).UTC()
	year, mon, day := t.Date()
	month := int(mon)
	hour, minute, second := t.Clock()
	for lastYear := year + horizonYears; year <= lastYear; {
		if c.month&(1<<month) == 0 {
			year, month = c.nextMonth(year, month)
			day, hour, minute, second = 1, 0, 0, 0
			continue
		}
		d, ok := c.nextDay(year, month, day)
		if !ok {
			year, month = c.nextMonth(year, month)
			day, hour, minute, second = 1, 0, 0, 0
			continue
		}
		if d != day {
			day, hour, minute, second = d, 0, 0, 0
		}
		if h, m, s, ok := c.nextTimeOfDay(hour, minute, second); ok {
			return time.Date(year, time.Month(month), day, h, m, s, 0, time.UTC).Unix(), true
		}
		day, hour, minute, second = day+1, 0, 0, 0
	}
	return 0, false
}

// nextMonth returns the first selected month after the given one.
func (c *cronSchedule) nextMonth(year, month int) (int, int) {
	if m := nextBit(c.month, month+1); m >= 0 {
		return year, m
	}
	return year + 1, nextBit(c.month, 1)
}

// nextDay returns the first matching day of the month at or after day.
func (c *cronSchedule) nextDay(year, month, day int) (int, bool) {
	n := daysIn(year, month)
	if c.dayAnd {
		for d := nextBit(c.dom, day); d > 0 && d <= n; d = nextBit(c.dom, d+1) {
			if c.dow&(1<<weekday(year, month, d)) != 0 {
				return d, true
			}
		}
		return 0, false
	}
	wd := weekday(year, month, day)
	for d := day; d <= n; d++ {
		if c.dom&(1<<d) != 0 || c.dow&(1<<wd) != 0 {
			return d, true
		}
		wd = (wd + 1) % 7
	}
	return 0, false
}

// nextTimeOfDay returns the first matching time of day at or after
// hour:minute:second, or false if there is none that day.
func (c *cronSchedule) nextTimeOfDay(hour, minute, second int) (int, int, int, bool) {
	for {
		h := nextBit(c.hour, hour)
		if h < 0 {
			return 0, 0, 0, false
		}
		if h > hour {
			hour, minute, second = h, 0, 0
		}
		m := nextBit(c.minute, minute)
		if m < 0 {
			hour, minute, second = hour+1, 0, 0
			continue
		}
		if m > minute {
			minute, second = m, 0
		}
		if s := nextBit(c.second, second); s >= 0 {
			return hour, minute, s, true
		}
		minute, second = minute+1, 0
	}
}

// nextBit returns the lowest set bit of set at index from or above, or -1.
func nextBit(set uint64, from int) int {
	if from >= 64 {
		return -1
	}
	rest := set &^ (1<<max(from, 0) - 1)
	if rest == 0 {
		return -1
	}
	return bits.TrailingZeros64(rest)
}

// daysIn returns the number of days in a month of the proleptic Gregorian calendar.
func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// weekday returns the day of the week of a date, 0 for Sunday.
func weekday(year, month, day int) int {
	return int(time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC).Weekday())
}
