package pgurl

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, in, want string
	}{
		{"url path", "postgres://u:p@h:5432/old?sslmode=disable", "postgres://u:p@h:5432/new?sslmode=disable"},
		{"url without path", "postgresql://h", "postgresql://h/new"},
		{"dbname in the query", "postgres:///old?host=/run/pg&dbname=old", "postgres:///new?dbname=new&host=%2Frun%2Fpg"},
		{"keyword/value", "host=h dbname=old", "host=h dbname=old dbname=new"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := WithDatabase(tc.in, "new")
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := WithDatabase("postgres://h:port:x/db", "new")
	require.ErrorContains(t, err, "cannot be parsed")
	require.NotContains(t, err.Error(), "postgres://")
}

func TestRedact(t *testing.T) {
	t.Parallel()
	require.Equal(t, "postgres://u:xxxxx@h/db", Redact("postgres://u:secret@h/db"))
	require.Equal(t, "(keyword/value connection string)", Redact("host=h password=secret"))
}
