// Package migrations holds the numbered schema migrations, embedded in the
// binary, and the runner that applies them and records the applied versions
// in the goose_db_version table.
//
// Each dialect has its own folder with the same version numbers, because the
// three databases disagree on DDL (auto-increment keys, timestamps, engines).
// TestDialectsAgree keeps the folders in step.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed sqlite/*.sql postgres/*.sql mysql/*.sql
var files embed.FS

// Dialect names a folder of migrations: "sqlite", "postgres" or "mysql".
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
	MySQL    Dialect = "mysql"
)

// Result is one migration that Up or To applied, or that To rolled back
// (Down).
type Result struct {
	Version int64
	Name    string
	Down    bool
}

// Up applies every pending migration for the dialect, in order. Concurrent
// callers on PostgreSQL and MySQL take a lock first, so two instances
// starting together do not race.
func Up(ctx context.Context, db *sql.DB, d Dialect) ([]Result, error) {
	p, err := provider(db, d)
	if err != nil {
		return nil, err
	}
	res, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", d, err)
	}
	out := make([]Result, 0, len(res))
	for _, r := range res {
		out = append(out, Result{Version: r.Source.Version, Name: r.Source.Path})
	}
	return out, nil
}

// Pending reports how many migrations are not applied yet.
func Pending(ctx context.Context, db *sql.DB, d Dialect) (int, error) {
	p, err := provider(db, d)
	if err != nil {
		return 0, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("migration status: %w", err)
	}
	n := 0
	for _, s := range st {
		if s.State == goose.StatePending {
			n++
		}
	}
	return n, nil
}

// HasPending reports whether a migration is not applied yet. It takes no
// lock, so a readiness probe never waits for a migration under way.
func HasPending(ctx context.Context, db *sql.DB, d Dialect) (bool, error) {
	p, err := provider(db, d)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("migration status: %w", err)
	}
	return pending, nil
}

// State is one embedded migration and whether the database has it.
type State struct {
	Version   int64
	Name      string
	Applied   bool
	AppliedAt time.Time
}

// Status lists every embedded migration in order, applied or not.
func Status(ctx context.Context, db *sql.DB, d Dialect) ([]State, error) {
	p, err := provider(db, d)
	if err != nil {
		return nil, err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	out := make([]State, 0, len(st))
	for _, s := range st {
		out = append(out, State{Version: s.Source.Version, Name: path.Base(s.Source.Path),
			Applied: s.State == goose.StateApplied, AppliedAt: s.AppliedAt})
	}
	return out, nil
}

// To migrates to version: up, applying the pending migrations up to it,
// or down, rolling back (their +goose Down sections) the applied ones
// above it, newest first. Version 0 rolls back everything; a version
// that no migration has is refused before anything runs.
func To(ctx context.Context, db *sql.DB, d Dialect, version int64) ([]Result, error) {
	p, err := provider(db, d)
	if err != nil {
		return nil, err
	}
	known := version == 0
	for _, s := range p.ListSources() {
		known = known || s.Version == version
	}
	if !known {
		return nil, fmt.Errorf("no migration %d (see shop showmigrations)", version)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("migration status: %w", err)
	}
	var res []*goose.MigrationResult
	if version >= current {
		res, err = p.UpTo(ctx, version)
	} else {
		res, err = p.DownTo(ctx, version)
	}
	out := make([]Result, 0, len(res))
	for _, r := range res {
		out = append(out, Result{Version: r.Source.Version, Name: path.Base(r.Source.Path), Down: r.Direction == "down"})
	}
	if err != nil {
		return out, fmt.Errorf("migrate %s to %d: %w", d, version, err)
	}
	return out, nil
}

func provider(db *sql.DB, d Dialect) (*goose.Provider, error) {
	sub, err := fs.Sub(files, string(d))
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", d, err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	var gd goose.Dialect
	switch d {
	case SQLite:
		gd = goose.DialectSQLite3
	case Postgres:
		gd = goose.DialectPostgres
		l, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(l))
	case MySQL:
		gd = goose.DialectMySQL
		l, err := lock.NewMySQLTableLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithLocker(l))
	default:
		return nil, fmt.Errorf("unknown migration dialect %q", d)
	}
	return goose.NewProvider(gd, db, sub, opts...)
}
