package client_test

import (
	"testing"

	"github.com/herald-sched/herald/internal/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }
