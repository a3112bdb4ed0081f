package store

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RandomPageCost is the random_page_cost herald's connections plan with:
// what PostgreSQL assumes one page read out of order costs, against 1 for
// one read in sequence. Its default, 4, prices a page as if read from a
// spinning disk; herald's working set (the jobs, the recent runs, task runs
// and River jobs) is in memory, where an index probe costs about what a
// sequential page does. At 4, the planner prices the delivery path's
// batched statements (tens to hundreds of task runs by key, see
// plans_test.go) above a scan of the whole table up to tables of about a
// hundred thousand rows, and scans them: on the bench, most of the
// database's CPU per delivery. 1.1 is the usual setting for SSDs and
// cached data.
const RandomPageCost = "1.1"

// ConfigureSession sets up the connections of cfg as herald's statements
// expect: the planner settings they are written for, each unless the
// connection string sets it (DATABASE_URL's ?random_page_cost=4 keeps
// PostgreSQL's default), and uuid.UUID as a native type (registerUUID).
func ConfigureSession(cfg *pgxpool.Config) {
	if _, set := cfg.ConnConfig.RuntimeParams["random_page_cost"]; !set {
		cfg.ConnConfig.RuntimeParams["random_page_cost"] = RandomPageCost
	}
	after := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		registerUUID(conn.TypeMap())
		if after != nil {
			return after(ctx, conn)
		}
		return nil
	}
}
