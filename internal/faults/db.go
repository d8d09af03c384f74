package faults

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Other packages' tests use the same database servers at the same time,
// so these helpers cut only connections a test has marked as its own: by
// application_name on PostgreSQL, by a private database on MariaDB.

// dbWait bounds each helper's work on the server.
const dbWait = 15 * time.Second

// adminAppName tags the helpers' own PostgreSQL connection.
const adminAppName = "faults_admin"

// PostgresURLWithAppName returns the postgres:// URL with its
// application_name query parameter set to name, so that a test can tag
// the connections of its pool for TerminatePostgres. It panics if rawURL
// is not a postgres:// or postgresql:// URL.
func PostgresURLWithAppName(rawURL, name string) string {
	s, err := withAppName(rawURL, name)
	if err != nil {
		panic("faults: PostgresURLWithAppName: " + err.Error())
	}
	return s
}

func withAppName(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", errors.New("want a postgres:// URL")
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// TerminatePostgres ends, with pg_terminate_backend, every backend whose
// application_name is applicationName, except its own connection, and
// returns how many it ended. Each has exited when it returns; clients see
// SQLSTATE 57P01 or a closed connection on their next statement.
// adminURL needs a role allowed to signal those backends (a superuser, or
// pg_signal_backend). Needs PostgreSQL 14 or later.
func TerminatePostgres(t testing.TB, adminURL, applicationName string) int {
	t.Helper()
	// An empty name would match every untagged connection on the server.
	if applicationName == "" || applicationName == adminAppName {
		t.Fatalf("faults: TerminatePostgres needs the application_name the test gave its own pool, got %q", applicationName)
	}
	// The server truncates longer names, which would then never match.
	if len(applicationName) > 63 {
		t.Fatalf("faults: application_name %q is longer than PostgreSQL's 63 bytes", applicationName)
	}
	adminDSN, err := withAppName(adminURL, adminAppName)
	if err != nil {
		t.Fatalf("faults: TerminatePostgres admin URL: %v", err)
	}
	db, err := sql.Open("pgx", adminDSN)
	if err != nil {
		t.Fatalf("faults: open PostgreSQL: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), dbWait)
	defer cancel()

	// The second argument makes pg_terminate_backend wait up to 5 s for
	// the backend to exit; false means it did not, or it was already gone.
	rows, err := db.QueryContext(ctx, `
		SELECT pid, pg_terminate_backend(pid, 5000)
		FROM pg_stat_activity
		WHERE application_name = $1 AND pid <> pg_backend_pid()`, applicationName)
	if err != nil {
		t.Fatalf("faults: terminate PostgreSQL backends %q: %v", applicationName, err)
	}
	n := 0
	var unsure []int64
	for rows.Next() {
		var pid int64
		var ended bool
		if err := rows.Scan(&pid, &ended); err != nil {
			t.Fatalf("faults: terminate PostgreSQL backends %q: %v", applicationName, err)
		}
		if ended {
			n++
		} else {
			unsure = append(unsure, pid)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("faults: terminate PostgreSQL backends %q: %v", applicationName, err)
	}
	for _, pid := range unsure {
		var alive bool
		err := db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)`, pid).Scan(&alive)
		if err != nil {
			t.Fatalf("faults: check PostgreSQL backend %d: %v", pid, err)
		}
		if alive {
			t.Fatalf("faults: PostgreSQL backend %d (%q) still running 5s after pg_terminate_backend", pid, applicationName)
		}
	}
	return n
}

// MySQLDSN turns a mysql://user:pass@host:port/db?params URL into the
// go-sql-driver DSN user:pass@tcp(host:port)/db?params. A string that is
// already a DSN is returned as it is. It fails the test on anything else.
func MySQLDSN(t testing.TB, rawURL string) string {
	t.Helper()
	dsn, err := mysqlDSN(rawURL)
	if err != nil {
		t.Fatalf("faults: %v", err)
	}
	return dsn
}

func mysqlDSN(rawURL string) (string, error) {
	if !strings.HasPrefix(rawURL, "mysql://") {
		if _, err := mysql.ParseDSN(rawURL); err != nil {
			return "", fmt.Errorf("want a mysql:// URL or a go-sql-driver DSN: %w", err)
		}
		return rawURL, nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", errors.New("cannot parse the mysql:// URL")
	}
	host := u.Host
	if u.Port() == "" {
		host += ":3306"
	}
	// Parse the address, database and parameters, then set the user
	// separately, so that a password may hold any character.
	cfg, err := mysql.ParseDSN("tcp(" + host + ")" + u.Path + "?" + u.RawQuery)
	if err != nil {
		return "", fmt.Errorf("mysql URL %s: %w", u.Redacted(), err)
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	return cfg.FormatDSN(), nil
}

// KillMySQL runs KILL CONNECTION for every connection whose current
// database is dbName, except its own, and returns how many it killed.
// Each is gone from the processlist when it returns; clients see
// "invalid connection" or driver.ErrBadConn on their next statement.
// dbName must be a database private to the test: KillMySQL refuses the
// adminURL's own database, which other tests share. adminURL needs the
// PROCESS privilege and the right to kill others' connections (root).
func KillMySQL(t testing.TB, adminURL, dbName string) int {
	t.Helper()
	dsn := MySQLDSN(t, adminURL)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("faults: %v", err)
	}
	if dbName == "" || dbName == cfg.DBName {
		t.Fatalf("faults: KillMySQL needs a database private to the test, got %q", dbName)
	}
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatalf("faults: open MySQL: %v", err)
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), dbWait)
	defer cancel()
	// One connection, so that CONNECTION_ID() is the one doing the work.
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatalf("faults: connect to MySQL: %v", err)
	}
	defer conn.Close()

	ids, err := processIDs(ctx, conn, dbName)
	if err != nil {
		t.Fatalf("faults: list MySQL connections to %q: %v", dbName, err)
	}
	n := 0
	for _, id := range ids {
		// KILL takes no placeholder; id is a number we read.
		_, err := conn.ExecContext(ctx, fmt.Sprintf("KILL CONNECTION %d", id))
		var me *mysql.MySQLError
		if errors.As(err, &me) && me.Number == 1094 { // unknown thread: it ended first
			continue
		}
		if err != nil {
			t.Fatalf("faults: KILL CONNECTION %d: %v", id, err)
		}
		n++
	}
	// KILL only flags the thread; wait until it has let go.
	const wait = 5 * time.Second
	deadline := time.Now().Add(wait)
	for {
		now, err := processIDs(ctx, conn, dbName)
		if err != nil {
			t.Fatalf("faults: list MySQL connections to %q: %v", dbName, err)
		}
		var left []int64
		for _, id := range now {
			if slices.Contains(ids, id) {
				left = append(left, id)
			}
		}
		if len(left) == 0 {
			return n
		}
		if time.Now().After(deadline) {
			t.Fatalf("faults: MySQL connections %v to %q still listed %v after KILL", left, dbName, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// processIDs lists the other connections whose database is dbName.
func processIDs(ctx context.Context, conn *sql.Conn, dbName string) ([]int64, error) {
	rows, err := conn.QueryContext(ctx, `
		SELECT ID FROM information_schema.PROCESSLIST
		WHERE DB = ? AND ID <> CONNECTION_ID()`, dbName)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
