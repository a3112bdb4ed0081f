package dbtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const (
	// minServerVersion is the oldest server dbtest supports: DROP DATABASE
	// ... WITH (FORCE) appeared in PostgreSQL 13.
	minServerVersion = 130000
	// fileCopyVersion is the first server version with CREATE DATABASE ...
	// STRATEGY, whose default (WAL_LOG) is slower than FILE_COPY for small
	// databases.
	fileCopyVersion = 150000
)

// server is a PostgreSQL server prepared for tests: its template exists.
type server struct {
	// connString connects to the maintenance database: the one the
	// environment names, or postgres on the embedded server.
	connString string
	// dsn is connString, parsed to name other databases.
	dsn      dsn
	admin    *pgxpool.Pool
	template string
	// createOptions ends CREATE DATABASE statements.
	createOptions string
}

// openServer connects to the server connString names and makes sure it holds
// the template.
func openServer(ctx context.Context, connString string, logger *slog.Logger) (*server, error) {
	dsn, err := parseDSN(connString)
	if err != nil {
		return nil, err
	}
	admin, err := pgxpool.New(ctx, connString)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	srv := &server{connString: connString, dsn: dsn, admin: admin}
	if err := srv.prepare(ctx, logger); err != nil {
		admin.Close()
		return nil, err
	}
	return srv, nil
}

// prepare checks the server's version and makes sure it holds the template.
func (s *server) prepare(ctx context.Context, logger *slog.Logger) error {
	var version int
	if err := s.admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&version); err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	if version < minServerVersion {
		return fmt.Errorf("PostgreSQL %d is too old: dbtest needs %d or newer", version, minServerVersion)
	}
	if version >= fileCopyVersion {
		s.createOptions = " STRATEGY FILE_COPY"
	}
	name, err := templateName()
	if err != nil {
		return err
	}
	s.template = name
	return s.ensureTemplate(ctx, logger)
}

// createDatabase creates database name, a clone of template when it is not
// empty, else of the server's default template.
func (s *server) createDatabase(ctx context.Context, name, template string) error {
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize() + s.createOptions
	}
	if _, err := s.admin.Exec(ctx, sql); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// dropDatabase drops database name, disconnecting its sessions.
func (s *server) dropDatabase(ctx context.Context, name string) error {
	if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// databaseURL returns the connection string of database name on the server.
func (s *server) databaseURL(name string) string { return s.dsn.withDatabase(name) }

// dsn is a connection string in either of libpq's forms.
type dsn struct {
	// url is the postgres:// URL form; nil for the keyword/value form.
	url *url.URL
	// keywords is the keyword/value form.
	keywords string
}

// parseDSN parses connString.
func parseDSN(connString string) (dsn, error) {
	if !strings.HasPrefix(connString, "postgres://") && !strings.HasPrefix(connString, "postgresql://") {
		return dsn{keywords: connString}, nil
	}
	u, err := url.Parse(connString)
	if err != nil {
		// url.Error would quote the URL, password included.
		return dsn{}, errors.New("the connection URL cannot be parsed as a URL: use a plain postgres://user@host:port/db URL")
	}
	return dsn{url: u}, nil
}

// withDatabase returns the connection string with its database replaced by
// database, which must be a plain identifier.
func (d dsn) withDatabase(database string) string {
	if d.url == nil {
		// A later keyword overrides an earlier one.
		return d.keywords + " dbname=" + database
	}
	u := *d.url
	u.Path, u.RawPath = "/"+database, ""
	if q := u.Query(); q.Has("dbname") {
		q.Set("dbname", database)
		u.RawQuery = q.Encode()
	}
	return u.String()
}
