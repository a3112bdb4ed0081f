// Package schedule computes the fire times of recurring herald jobs: cron
// expressions evaluated in an IANA time zone, and fixed intervals.
//
// # Cron syntax
//
// ParseCron accepts 5 fields (minute hour day-of-month month day-of-week,
// firing at second 0) or 6 fields (second minute hour day-of-month month
// day-of-week). Each field is a comma-separated list of elements; an element
// is a number, "*", a range "a-b", a stepped "*/n", "a-b/n" or "a/n" (a to the
// field maximum), and "?" (the same as "*") in day-of-month and day-of-week.
// Months may be written JAN-DEC and weekdays SUN-SAT, case-insensitively.
// Day-of-week runs 0-7, where both 0 and 7 are Sunday. Ranges do not wrap
// around: "FRI-MON" is rejected, write "FRI-SAT,SUN-MON" or "0,1,5,6".
// The macros @yearly, @annually, @monthly, @weekly, @daily, @midnight and
// @hourly are accepted. Quartz extensions (L, W, #) and a year field are not.
//
// Day matching follows Vixie cron: when the day-of-month and day-of-week
// fields are both restricted (neither starts with "*" or "?"), a day matches
// if either matches ("0 0 1 * MON" fires on the 1st and on every Monday).
// Otherwise both must match, so "0 0 */2 * MON" fires on Mondays with an odd
// day of the month.
//
// A schedule that can never fire (such as "0 0 30 2 *", February 30) parses
// successfully; its Next returns the zero time.
//
// # Daylight saving time
//
// Cron expressions name wall-clock times in the schedule's zone. Where the
// zone's offset changes, the rules are:
//
//  1. Schedules whose hour field covers all 24 hours ("*", "*/1", "0-23";
//     for example "*/15 * * * *", "0 * * * *" or "* * * * * *") follow the
//     local clock: they fire at every instant whose local time matches. A
//     local time skipped by a spring-forward gap does not fire; a local time
//     repeated by a fall-back fires at both occurrences. Such schedules keep
//     their rhythm in elapsed time: "*/15 * * * *" fires every 15 minutes of
//     real time through both transitions, "0 * * * *" fires 23 times on a
//     23-hour day and 25 times on a 25-hour day, and "* * * * * *" fires
//     every second without a gap or a repeat.
//  2. Schedules with a restricted hour field (specific times of day, such as
//     "30 2 * * *" or "0 */10 2 * * *") fire once per matching local time:
//     a. A local time that does not exist (in Europe/Berlin, 02:00-02:59 on
//     2026-03-29) fires at the first instant after the gap (03:00 CEST,
//     01:00 UTC). All nonexistent times of one gap collapse into a single
//     fire at that instant, which also absorbs a regular fire at the same
//     instant: "0 */10 2 * * *" fires once that day, at 03:00 CEST, and
//     "0 2,3 * * *" fires once, at 03:00 CEST.
//     b. A local time that occurs twice (in Europe/Berlin, 02:00-02:59 on
//     2026-10-25) fires at its first occurrence only: 02:30 fires at
//     02:30 CEST (00:30 UTC), not again at 02:30 CET.
//  3. Every schedules are in absolute time and ignore time zones entirely.
//
// Rule 1 exists because a high-frequency job such as "*/10 * * * * *" must
// not stop for an hour every autumn (as first-occurrence-only would make it)
// nor fire twice at the same instant. The split follows the documented
// behaviour of Vixie/ISC cron, where wildcard jobs "run normally" through DST
// changes while jobs at fixed times run once; Vixie cron also counts a
// wildcard minute as wildcard, but here only the hour field decides, so that
// "0 */10 2 * * *" still fires once on a spring-forward day.
//
// # Implementation notes
//
// The next fire time is computed directly on calendar fields held as bit
// sets: months without a match are skipped whole, days are stepped only
// within matching months, and the time of day is found with a few bit scans,
// so Next costs about a microsecond or less even for yearly schedules or
// February 29. Impossible dates are detected when parsing; the search is in
// any case bounded by 400 years, the length of the Gregorian cycle.
//
// The parser is our own rather than github.com/adhocore/gronx (v1.20.4),
// because gronx cannot give these semantics: its next-tick search steps
// through candidate times one unit at a time, re-parsing the expression
// strings at each step, and gives up with an error ("tried so hard") after
// milliseconds for impossible dates; it resolves local times through
// time.Date, so on a spring-forward day it skips 02:30 entirely and on a
// fall-back day fires 02:30 at its second occurrence; its errors name
// segments by index ("segment#0") instead of by field; and it silently
// accepts L, W, # and a year field, and treats a 6-field expression ending
// in a 4-digit number as having a year rather than seconds. gronx stays the
// reference where its semantics are not in question: gronx_test.go checks
// that both give the same next tick, away from daylight-saving transitions,
// for a corpus of expressions in several zones.
package schedule
