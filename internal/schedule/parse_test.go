package schedule

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseCronErrors(t *testing.T) {
	t.Parallel()
	const lwh = "the L, W and # extensions are not supported"
	tests := []struct {
		name, expr, tz string
		wantPart       string
		wantReason     string
	}{
		{"empty", "", "", "expression", "got 0 fields, want 5 (minute hour day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week)"},
		{"four fields", "* * * *", "", "expression", "got 4 fields, want 5 (minute hour day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week)"},
		{"seven fields with year", "0 0 0 1 1 * 2030", "", "expression", "got 7 fields, want 5 (minute hour day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week)"},
		{"too long", strings.Repeat("1,", 600) + "1 * * * *", "", "expression", "longer than 1024 bytes"},
		{"second too large", "61 * * * * *", "", "second", "61 is out of range 0-59"},
		{"minute too large", "60 * * * *", "", "minute", "60 is out of range 0-59"},
		{"hour too large", "0 24 * * *", "", "hour", "24 is out of range 0-23"},
		{"day-of-month zero", "0 0 0 * *", "", "day-of-month", "0 is out of range 1-31"},
		{"day-of-month too large", "0 0 32 * *", "", "day-of-month", "32 is out of range 1-31"},
		{"month too large", "0 0 * 13 *", "", "month", "13 is out of range 1-12"},
		{"month zero", "0 0 * 0 *", "", "month", "0 is out of range 1-12"},
		{"day-of-week too large", "0 0 * * 8", "", "day-of-week", "8 is out of range 0-7"},
		{"range end out of range", "0 0-24 * * *", "", "hour", "24 is out of range 0-23"},
		{"huge number", "99999999999999999999 * * * *", "", "minute", "99999999999999999999 is out of range 0-59"},
		{"garbage", "abc * * * *", "", "minute", `"abc" is not valid, want a number 0-59`},
		{"negative number", "-5 * * * *", "", "minute", "missing value"},
		{"range missing end", "0 5- * * *", "", "hour", "missing value"},
		{"double range", "1-2-3 * * * *", "", "minute", `"2-3" is not valid, want a number 0-59`},
		{"unknown month name", "0 0 * FOO *", "", "month", `"FOO" is not valid, want a number 1-12 or a name JAN-DEC`},
		{"unknown weekday name", "0 0 * * FUN", "", "day-of-week", `"FUN" is not valid, want a number 0-7 or a name SUN-SAT`},
		{"weekday name in month", "0 0 * MON *", "", "month", `"MON" is not valid, want a number 1-12 or a name JAN-DEC`},
		{"month name in hour", "0 JAN * * *", "", "hour", `"JAN" is not valid, want a number 0-23`},
		{"step zero", "*/0 * * * *", "", "minute", "step 0 is out of range 1-59"},
		{"step too large", "*/60 * * * *", "", "minute", "step 60 is out of range 1-59"},
		{"weekday step too large", "0 0 * * */7", "", "day-of-week", "step 7 is out of range 1-6"},
		{"step not a number", "*/x * * * *", "", "minute", `step "x" is not a number`},
		{"step missing", "*/ * * * *", "", "minute", `step "" is not a number`},
		{"reversed range", "5-3 * * * *", "", "minute", "range 5-3 is reversed (ranges do not wrap around; split it into two)"},
		{"wrapping weekday range", "0 0 * * FRI-MON", "", "day-of-week", "range FRI-MON is reversed (ranges do not wrap around; split it into two)"},
		{"empty list element", "1,,2 * * * *", "", "minute", "empty element in list"},
		{"trailing comma", "0 0 1, * *", "", "day-of-month", "empty element in list"},
		{"question mark in minute", "? * * * *", "", "minute", `"?" is only allowed in day-of-month and day-of-week`},
		{"question mark with step", "0 0 ?/2 * *", "", "day-of-month", `"?" cannot take a step`},
		{"L in day-of-month", "0 0 L * *", "", "day-of-month", `"L": ` + lwh},
		{"W in day-of-month", "0 0 15W * *", "", "day-of-month", `"15W": ` + lwh},
		{"LW in day-of-month", "0 0 LW * *", "", "day-of-month", `"LW": ` + lwh},
		{"L in day-of-week", "0 0 * * 5L", "", "day-of-week", `"5L": ` + lwh},
		{"hash in day-of-week", "0 0 * * 5#3", "", "day-of-week", `"5#3": ` + lwh},
		{"unknown macro", "@fortnightly", "", "expression", `unknown macro "@fortnightly"; supported are @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly`},
		{"every macro", "@every 5m", "", "expression", `unknown macro "@every 5m"; supported are @yearly, @annually, @monthly, @weekly, @daily, @midnight and @hourly (for fixed intervals use an "every" schedule)`},
		{"unknown zone", "* * * * *", "Mars/Olympus_Mons", "timezone", `unknown time zone "Mars/Olympus_Mons"`},
		{"local zone", "* * * * *", "Local", "timezone", `"Local" is not an IANA time zone name`},
		{"zone with wrong case", "* * * * *", "europe/berlin", "timezone", `unknown time zone "europe/berlin"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseCron(tt.expr, tt.tz)
			require.Error(t, err, "got schedule %v, want an error", s)
			require.Nil(t, s)
			var perr *ParseError
			require.True(t, errors.As(err, &perr), "got error of type %T, want *ParseError", err)
			require.Equal(t, tt.wantPart, perr.Part, "got part %v, want %v", perr.Part, tt.wantPart)
			require.Equal(t, tt.wantReason, perr.Reason, "got reason %v, want %v", perr.Reason, tt.wantReason)
			want := tt.wantPart + ": " + tt.wantReason
			require.Equal(t, want, err.Error(), "got %v, want %v", err.Error(), want)
		})
	}
}

func TestParseCronAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, expr, tz string }{
		{"five fields", "* * * * *", ""},
		{"six fields", "* * * * * *", ""},
		{"extra whitespace", "  0\t0  * *   *  ", ""},
		{"utc by name", "0 0 * * *", "UTC"},
		{"berlin", "0 0 * * *", "Europe/Berlin"},
		{"new york", "0 0 * * *", "America/New_York"},
		{"all maxima", "59 59 23 31 12 7", ""},
		{"all minima", "0 0 0 1 1 0", ""},
		{"upper-case macro", "@DAILY", ""},
		{"names in ranges and steps", "0 0 * jan-Mar/2 mon-FRI", ""},
		{"question marks", "0 0 ? * ?", ""},
		{"day-of-week range to 7", "0 0 * * 5-7", ""},
		{"impossible date", "0 0 30 2 *", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := ParseCron(tt.expr, tt.tz)
			require.NoError(t, err, "got error %v, want none", err)
			require.NotNil(t, s)
		})
	}
}

func TestParseFieldSets(t *testing.T) {
	t.Parallel()
	bitsOf := func(values ...int) uint64 {
		var set uint64
		for _, v := range values {
			set |= 1 << v
		}
		return set
	}
	specs := fieldSpecs()
	tests := []struct {
		name  string
		field int
		text  string
		want  uint64
	}{
		{"star seconds", fieldSecond, "*", 1<<60 - 1},
		{"single", fieldMinute, "7", bitsOf(7)},
		{"list", fieldMinute, "1,5,9", bitsOf(1, 5, 9)},
		{"range", fieldHour, "9-12", bitsOf(9, 10, 11, 12)},
		{"star step", fieldMinute, "*/20", bitsOf(0, 20, 40)},
		{"range step", fieldHour, "8-18/4", bitsOf(8, 12, 16)},
		{"start step runs to the maximum", fieldMinute, "50/3", bitsOf(50, 53, 56, 59)},
		{"list of ranges and steps", fieldMinute, "0-2,30/15,*/59", bitsOf(0, 1, 2, 30, 45, 59)},
		{"star day-of-month", fieldDayOfMonth, "*", (1<<32 - 1) &^ 1},
		{"question day-of-month", fieldDayOfMonth, "?", (1<<32 - 1) &^ 1},
		{"day-of-month step", fieldDayOfMonth, "*/10", bitsOf(1, 11, 21, 31)},
		{"month names", fieldMonth, "jan,Jul,DEC", bitsOf(1, 7, 12)},
		{"month name range step", fieldMonth, "JAN-DEC/3", bitsOf(1, 4, 7, 10)},
		{"star day-of-week", fieldDayOfWeek, "*", bitsOf(0, 1, 2, 3, 4, 5, 6)},
		{"seven is sunday", fieldDayOfWeek, "7", bitsOf(0)},
		{"zero and seven", fieldDayOfWeek, "0,7", bitsOf(0)},
		{"range to seven", fieldDayOfWeek, "5-7", bitsOf(0, 5, 6)},
		{"weekday names", fieldDayOfWeek, "MON-FRI", bitsOf(1, 2, 3, 4, 5)},
		{"weekday name case", fieldDayOfWeek, "sun,Sat", bitsOf(0, 6)},
		{"weekday step", fieldDayOfWeek, "*/2", bitsOf(0, 2, 4, 6)},
		{"weekday start step stops at saturday", fieldDayOfWeek, "1/2", bitsOf(1, 3, 5)},
		{"seven with step", fieldDayOfWeek, "7/2", bitsOf(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := specs[tt.field].parse(tt.text)
			require.NoError(t, err)
			require.Equal(t, tt.want, got, "got %b, want %b", got, tt.want)
		})
	}
}
