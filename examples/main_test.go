// Package examples_test runs herald's examples against a real herald.
package examples_test

import (
	"testing"

	"github.com/herald-sched/herald/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
