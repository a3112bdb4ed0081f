package views

import (
	"fmt"
	"time"
)

// Duration writes a duration the way people read one: "0.4 ms", "812 ms",
// "12.0 s", "3 min 4 s", "2 h 5 min", "3 d 4 h".
func Duration(d time.Duration) string {
	if d < 0 {
		return "-" + Duration(-d)
	}
	switch {
	case d < 9950*time.Microsecond: // not "10.0 ms"
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < 999500*time.Microsecond: // not "1000 ms"
		return fmt.Sprintf("%d ms", d.Round(time.Millisecond)/time.Millisecond)
	case d < time.Minute-50*time.Millisecond: // not "60.0 s"
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < time.Hour-500*time.Millisecond:
		d = d.Round(time.Second)
		return fmt.Sprintf("%d min %d s", d/time.Minute, d%time.Minute/time.Second)
	case d < 24*time.Hour-30*time.Second:
		d = d.Round(time.Minute)
		return fmt.Sprintf("%d h %d min", d/time.Hour, d%time.Hour/time.Minute)
	}
	d = d.Round(time.Hour)
	return fmt.Sprintf("%d d %d h", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
}

// millis is a duration in milliseconds (as attempts record them).
func millis(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// durationMs writes a duration given in milliseconds.
func durationMs(ms float64) string { return Duration(millis(ms)) }
