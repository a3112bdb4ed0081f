package store_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
)

// herald's connections send and read uuid.UUID as PostgreSQL's uuid, in both
// formats, alone, in arrays and nullable.
func TestUUIDsRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t) // configured by store.ConfigureSession, as herald's
	id, other := uuid.Must(uuid.NewV7()), uuid.New()

	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeSimpleProtocol} {
		t.Run(mode.String(), func(t *testing.T) {
			var got uuid.UUID
			var text string
			require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid, $1::uuid::text", mode, id).Scan(&got, &text))
			require.Equal(t, id, got)
			require.Equal(t, id.String(), text)

			var ids []uuid.UUID
			require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid[]", mode, []uuid.UUID{id, other}).Scan(&ids))
			require.Equal(t, []uuid.UUID{id, other}, ids)

			var none, some *uuid.UUID
			require.NoError(t, pool.QueryRow(ctx, "SELECT $1::uuid, $2::uuid", mode, (*uuid.UUID)(nil), &other).Scan(&none, &some))
			require.Nil(t, none)
			require.Equal(t, other, *some)

			require.Error(t, pool.QueryRow(ctx, "SELECT NULL::uuid", mode).Scan(&got), "NULL into a uuid.UUID")
		})
	}
}
