package schedule_test

import (
	"fmt"
	"time"

	"github.com/herald-sched/herald/internal/schedule"
)

func ExampleParseCron() {
	s, err := schedule.ParseCron("30 2 * * *", "Europe/Berlin")
	if err != nil {
		panic(err)
	}
	// 02:30 does not exist on 2026-03-29 in Berlin: it fires at 03:00 CEST.
	for _, t := range schedule.NextN(s, time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), 3) {
		fmt.Println(t)
	}
	// Output:
	// 2026-03-29 01:00:00 +0000 UTC
	// 2026-03-30 00:30:00 +0000 UTC
	// 2026-03-31 00:30:00 +0000 UTC
}

func ExampleParseCron_error() {
	_, err := schedule.ParseCron("61 * * * * *", "UTC")
	fmt.Println(err)
	// Output:
	// second: 61 is out of range 0-59
}

func ExampleEvery() {
	anchor := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := schedule.Every(90*time.Second, anchor)
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Next(anchor.Add(time.Hour)))
	// Output:
	// 2026-01-01 01:01:30 +0000 UTC
}

func ExampleBetween() {
	s, err := schedule.ParseCron("*/10 * * * * *", "Europe/Berlin")
	if err != nil {
		panic(err)
	}
	// Catch up on a minute of missed ticks, at most 4 of them.
	from := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	missed, truncated := schedule.Between(s, from, from.Add(time.Minute), 4)
	fmt.Println(len(missed), truncated, missed[0])
	// Output:
	// 4 true 2026-01-01 12:00:10 +0000 UTC
}
