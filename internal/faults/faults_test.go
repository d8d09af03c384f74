package faults

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// suffix is a random lowercase name part, unique across concurrent runs.
func suffix() string { return strings.ToLower(rand.Text()[:10]) }

func redisClient(t *testing.T, r *Redis) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedisFlush(t *testing.T) {
	r := StartRedis(t)
	if want := "redis://" + r.Addr() + "/0"; r.URL() != want {
		t.Errorf("URL() = %q, want %q", r.URL(), want)
	}
	ctx := ctxT(t)
	c := redisClient(t, r)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	r.Flush()
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET after Flush: err = %v, want redis.Nil", err)
	}
}

func TestRedisKillRestart(t *testing.T) {
	r := StartRedis(t)
	ctx := ctxT(t)
	c := redisClient(t, r)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	r.Kill()
	if err := c.Get(ctx, "k").Err(); err == nil || errors.Is(err, redis.Nil) {
		t.Errorf("GET on a killed server: err = %v, want a connection error", err)
	}
	r.Restart()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("GET after Restart: err = %v, want redis.Nil (empty server)", err)
	}
	r.Stop()
	if err := c.Ping(ctx).Err(); err == nil {
		t.Error("PING after Stop succeeded")
	}
}

func TestRedisAppendOnlyKeepsData(t *testing.T) {
	r := StartRedisWith(t, RedisOptions{AppendOnly: true})
	ctx := ctxT(t)
	c := redisClient(t, r)
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	r.Kill()
	r.Restart()
	got, err := c.Get(ctx, "k").Result()
	if err != nil || got != "v" {
		t.Errorf("GET after Kill and Restart = %q, %v; want \"v\"", got, err)
	}
}

// connLost reports whether err says the connection went away, in any of
// the shapes PITFALLS.md lists.
func connLost(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "57P01" || strings.HasPrefix(pe.Code, "08")
	}
	var ne net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) ||
		strings.Contains(err.Error(), "conn closed")
}

// holdTx opens a pool and a transaction that has run a statement, so
// that the connection is the pool's and busy.
func holdTx(t *testing.T, driverName, dsn string) (*sql.DB, *sql.Tx) {
	ctx := ctxT(t)
	db, err := sql.Open(driverName, dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	t.Cleanup(func() { tx.Rollback() })
	if _, err := tx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Fatalf("SELECT 1: %v", err)
	}
	return db, tx
}

func TestTerminatePostgres(t *testing.T) {
	url := os.Getenv("TEST_POSTGRES_URL")
	if url == "" {
		t.Skip("TEST_POSTGRES_URL is not set")
	}
	ctx := ctxT(t)
	name := "faults_test_" + suffix()
	_, tx := holdTx(t, "pgx", PostgresURLWithAppName(url, name))
	_, otherTx := holdTx(t, "pgx", PostgresURLWithAppName(url, name+"_other"))

	if n := TerminatePostgres(t, url, name); n < 1 {
		t.Errorf("TerminatePostgres = %d, want at least 1", n)
	}
	_, err := tx.ExecContext(ctx, "SELECT 1")
	if err == nil || !connLost(err) {
		t.Errorf("statement on a terminated connection: err = %v (%T), want a connection error", err, err)
	}
	if _, err := otherTx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Errorf("the pool named %s_other was touched: %v", name, err)
	}
	if n := TerminatePostgres(t, url, name); n != 0 {
		t.Errorf("TerminatePostgres again = %d, want 0", n)
	}
}

func TestPostgresURLWithAppName(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"no query", "postgres://u@h:5432/db", "postgres://u@h:5432/db?application_name=x"},
		{"keeps params", "postgres://u@h/db?sslmode=disable", "postgres://u@h/db?application_name=x&sslmode=disable"},
		{"replaces", "postgresql://h/db?application_name=old", "postgresql://h/db?application_name=x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := PostgresURLWithAppName(tc.in, "x"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMySQLDSN(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"url", "mysql://root:@127.0.0.1:3306/test", "root@tcp(127.0.0.1:3306)/test"},
		{"password and params", "mysql://u:p%40ss@db:3307/shop?parseTime=true", "u:p@ss@tcp(db:3307)/shop?parseTime=true"},
		{"default port", "mysql://u@db/shop", "u@tcp(db:3306)/shop"},
		{"dsn", "root:@tcp(127.0.0.1:3306)/test", "root:@tcp(127.0.0.1:3306)/test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := MySQLDSN(t, tc.in); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestKillMySQL(t *testing.T) {
	url := os.Getenv("TEST_MYSQL_URL")
	if url == "" {
		t.Skip("TEST_MYSQL_URL is not set")
	}
	ctx := ctxT(t)
	admin, err := sql.Open("mysql", MySQLDSN(t, url))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "t_" + suffix()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg, err := mysql.ParseDSN(MySQLDSN(t, url))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DBName = name
	_, tx := holdTx(t, "mysql", cfg.FormatDSN())
	_, otherTx := holdTx(t, "mysql", MySQLDSN(t, url))

	if n := KillMySQL(t, url, name); n < 1 {
		t.Errorf("KillMySQL = %d, want at least 1", n)
	}
	_, err = tx.ExecContext(ctx, "SELECT 1")
	if err == nil || !connLost(err) {
		t.Errorf("statement on a killed connection: err = %v (%T), want a connection error", err, err)
	}
	if _, err := otherTx.ExecContext(ctx, "SELECT 1"); err != nil {
		t.Errorf("a connection to the shared database was touched: %v", err)
	}
}

func TestProxy(t *testing.T) {
	backend := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, _ := r.Cookie("c")
			http.SetCookie(w, &http.Cookie{Name: "from", Value: name})
			var v string
			if c != nil {
				v = c.Value
			}
			fmt.Fprintf(w, "%s host=%s cookie=%s", name, r.Host, v)
		}))
		t.Cleanup(s.Close)
		return s
	}
	a, b := backend("a"), backend("b")
	p := NewProxy(t, a.URL, b.URL)
	client := &http.Client{Timeout: 5 * time.Second}

	var got []string
	for range 4 {
		req, _ := http.NewRequest(http.MethodGet, p.URL()+"/x", nil)
		req.Host = "shop.test"
		req.AddCookie(&http.Cookie{Name: "c", Value: "1"})
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("GET through the proxy: %v", err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		got = append(got, string(body))
		if c := res.Cookies(); len(c) != 1 || c[0].Name != "from" {
			t.Errorf("Set-Cookie through the proxy = %v, want one cookie named from", c)
		}
	}
	want := []string{
		"a host=shop.test cookie=1", "b host=shop.test cookie=1",
		"a host=shop.test cookie=1", "b host=shop.test cookie=1",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("answers = %q, want %q", got, want)
	}

	// A backend that refuses connections.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	p2 := NewProxy(t, dead.URL)
	res, err := client.Get(p2.URL())
	if err != nil {
		t.Fatalf("GET through the proxy to a dead backend: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadGateway {
		t.Errorf("dead backend: status %d, want 502", res.StatusCode)
	}
}

func TestShop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the shop")
	}
	bin := BuildShop(t)
	if again := BuildShop(t); again != bin {
		t.Errorf("second BuildShop = %q, want the first build %q", again, bin)
	}
	dir := t.TempDir()
	s := StartShop(t, bin, []string{
		"DATABASE_URL=sqlite:///" + dir + "/shop.db",
		"SHOP_DATA_DIR=" + dir,
		"SHOP_DEMO=off",
	})
	client := &http.Client{Timeout: 5 * time.Second}
	healthz := func() (int, error) {
		res, err := client.Get(s.URL() + "/healthz")
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	if code, err := healthz(); err != nil || code != http.StatusOK {
		t.Fatalf("GET /healthz = %d, %v; want 200", code, err)
	}
	s.Kill()
	if _, err := healthz(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("GET /healthz after Kill: err = %v, want connection refused", err)
	}
	s.Restart()
	if code, err := healthz(); err != nil || code != http.StatusOK {
		t.Fatalf("GET /healthz after Restart = %d, %v; want 200", code, err)
	}
	s.Stop()
	if _, err := healthz(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("GET /healthz after Stop: err = %v, want connection refused", err)
	}
}
