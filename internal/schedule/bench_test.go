package schedule

import (
	"testing"
	"time"
)

// benchmarkNext measures Next. With advance set it feeds each result back
// in, starting over after a year so that the times stay realistic;
// otherwise it asks from the same instant every time.
func benchmarkNext(b *testing.B, expr, tz, from string, advance bool) {
	s := mustParse(b, expr, tz)
	start := utc(b, from)
	end := start.AddDate(1, 0, 0)
	t := start
	b.ReportAllocs()
	for b.Loop() {
		next := s.Next(t)
		if next.IsZero() {
			b.Fatalf("got zero time after %v, want a fire time", t)
		}
		if advance {
			t = next
			if t.After(end) {
				t = start
			}
		}
	}
}

func BenchmarkNextEverySecond(b *testing.B) {
	b.Run("UTC", func(b *testing.B) {
		benchmarkNext(b, "* * * * * *", "", "2026-01-01T00:00:00Z", true)
	})
	b.Run("Europe/Berlin", func(b *testing.B) {
		benchmarkNext(b, "* * * * * *", "Europe/Berlin", "2026-01-01T00:00:00Z", true)
	})
}

func BenchmarkNextDaily(b *testing.B) {
	b.Run("UTC", func(b *testing.B) {
		benchmarkNext(b, "0 30 2 * * *", "", "2026-01-01T00:00:00Z", true)
	})
	b.Run("Europe/Berlin", func(b *testing.B) {
		benchmarkNext(b, "0 30 2 * * *", "Europe/Berlin", "2026-01-01T00:00:00Z", true)
	})
}

func BenchmarkNextLeapDay(b *testing.B) {
	b.Run("UTC", func(b *testing.B) {
		benchmarkNext(b, "0 0 0 29 2 *", "", "2024-03-01T00:00:00Z", false)
	})
	b.Run("Europe/Berlin", func(b *testing.B) {
		benchmarkNext(b, "0 0 0 29 2 *", "Europe/Berlin", "2024-03-01T00:00:00Z", false)
	})
	b.Run("AcrossYear2100", func(b *testing.B) {
		benchmarkNext(b, "0 0 0 29 2 *", "Europe/Berlin", "2096-03-01T00:00:00Z", false)
	})
}

func BenchmarkNextImpossible(b *testing.B) {
	s := mustParse(b, "0 0 30 2 *", "Europe/Berlin")
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if !s.Next(t).IsZero() {
			b.Fatal("got a fire time, want none")
		}
	}
}

func BenchmarkNextEvery(b *testing.B) {
	s, err := Every(30*time.Second, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		b.Fatal(err)
	}
	t := time.Date(2026, 5, 1, 12, 0, 7, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		t = s.Next(t)
	}
}

func BenchmarkParseCron(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCron("0 */10 8-18 * * MON-FRI", "UTC"); err != nil {
			b.Fatal(err)
		}
	}
}
