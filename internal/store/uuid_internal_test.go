package store

import (
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/stretchr/testify/require"
)

// A uuid.UUID is encoded and scanned as 16 bytes, not through its string
// (driver.Valuer, sql.Scanner).
func TestUUIDCodecIsUsed(t *testing.T) {
	t.Parallel()
	m := pgtype.NewMap()
	registerUUID(m)
	require.IsType(t, encodeUUIDBinary{}, m.PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, uuid.UUID{}))
	require.IsType(t, scanUUIDBinary{}, m.PlanScan(pgtype.UUIDOID, pgtype.BinaryFormatCode, &uuid.UUID{}))

	id := uuid.New()
	buf, err := m.Encode(pgtype.UUIDArrayOID, pgtype.BinaryFormatCode, []uuid.UUID{id}, nil)
	require.NoError(t, err)
	var got []uuid.UUID
	require.NoError(t, m.Scan(pgtype.UUIDArrayOID, pgtype.BinaryFormatCode, buf, &got))
	require.Equal(t, []uuid.UUID{id}, got)
}
