package jobs

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/herald-sched/herald/internal/dbtest"
)

// River's reindexer is given only indexes the migrated schema has: the two
// GIN indexes migration 0025 dropped are gone from both.
func TestReindexedIndexesExist(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)

	var have []string
	require.NoError(t, pool.QueryRow(context.Background(),
		`SELECT coalesce(array_agg(indexname::text), '{}') FROM pg_indexes WHERE tablename = 'river_job'`).Scan(&have))
	for _, name := range reindexedIndexes() {
		require.Contains(t, have, name, "River would reindex %s, which the schema lacks", name)
	}
	require.NotContains(t, have, "river_job_args_index")
	require.NotContains(t, have, "river_job_metadata_index")
	require.NotContains(t, reindexedIndexes(), "river_job_args_index")
}
