// Package testenv gives tests real dependencies: a migrated database on
// SQLite always, and on PostgreSQL and MariaDB when TEST_POSTGRES_URL and
// TEST_MYSQL_URL are set; and a Redis that is the real one when
// TEST_REDIS_URL is set, or an in-process one otherwise.
//
// It lives in internal/ because it is shared by the tests of several
// packages and is no part of the shop itself.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/models"
)

// DB is one database a test runs against.
type DB struct {
	Name  string // "sqlite", "postgres" or "mysql"
	URL   string // a URL that models.Open accepts
	Store *models.Store
}

// Databases returns a freshly migrated, empty database for each configured
// dialect. Each is private to the test and dropped at cleanup.
func Databases(t testing.TB) []DB {
	t.Helper()
	var out []DB
	for _, name := range []string{"sqlite", "postgres", "mysql"} {
		if db, ok := Database(t, name); ok {
			out = append(out, db)
		}
	}
	return out
}

// Database returns a fresh migrated database of one dialect, or false when
// that dialect is not configured.
func Database(t testing.TB, name string) (DB, bool) {
	t.Helper()
	ctx := context.Background()
	var dbURL string
	switch name {
	case "sqlite":
		dbURL = "sqlite:///" + filepath.Join(t.TempDir(), "shop.db")
	case "postgres":
		base := os.Getenv("TEST_POSTGRES_URL")
		if base == "" {
			return DB{}, false
		}
		schema := "t_" + randomHex(6)
		admin := openRaw(t, base)
		mustExec(t, admin, "CREATE SCHEMA "+schema)
		t.Cleanup(func() { mustExec(t, admin, "DROP SCHEMA "+schema+" CASCADE"); admin.Close() })
		dbURL = withQuery(t, base, "search_path", schema)
	case "mysql":
		base := os.Getenv("TEST_MYSQL_URL")
		if base == "" {
			return DB{}, false
		}
		dbName := "t_" + randomHex(6)
		admin := openRaw(t, base)
		mustExec(t, admin, "CREATE DATABASE "+dbName+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
		t.Cleanup(func() { mustExec(t, admin, "DROP DATABASE "+dbName); admin.Close() })
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("TEST_MYSQL_URL: %v", err)
		}
		u.Path = "/" + dbName
		dbURL = u.String()
	default:
		t.Fatalf("unknown dialect %q", name)
	}
	st, err := models.Open(ctx, dbURL, models.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate %s: %v", name, err)
	}
	return DB{Name: name, URL: dbURL, Store: st}, true
}

func openRaw(t testing.TB, dbURL string) *models.Store {
	t.Helper()
	st, err := models.Open(context.Background(), dbURL, models.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("open %s: %v", dbURL, err)
	}
	return st
}

func mustExec(t testing.TB, st *models.Store, q string) {
	t.Helper()
	db, err := st.SQL()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func withQuery(t testing.TB, raw, k, v string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Redis returns a client on an empty Redis database private to the test.
// With TEST_REDIS_URL it leases one of the real server's numbered databases
// (1-15) for the test's lifetime, so parallel tests and packages never see
// each other's keys; otherwise it starts an in-process miniredis.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	base := os.Getenv("TEST_REDIS_URL")
	if base == "" {
		m := miniredis.RunT(t)
		u := "redis://" + m.Addr() + "/0"
		c := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { c.Close() })
		return c, u
	}
	opt, err := redis.ParseURL(base)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	ctx := context.Background()
	ctl := redis.NewClient(&redis.Options{Addr: opt.Addr, Password: opt.Password, DB: 0})
	token := randomHex(8)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		for n := 1; n <= 15; n++ {
			lease := fmt.Sprintf("shoptest:lease:%d", n)
			ok, err := ctl.SetNX(ctx, lease, token, 10*time.Minute).Result()
			if err != nil {
				t.Fatalf("lease a Redis database: %v", err)
			}
			if !ok {
				continue
			}
			c := redis.NewClient(&redis.Options{Addr: opt.Addr, Password: opt.Password, DB: n, PoolSize: 64})
			if err := c.FlushDB(ctx).Err(); err != nil {
				t.Fatalf("flush Redis db %d: %v", n, err)
			}
			t.Cleanup(func() {
				c.FlushDB(ctx)
				c.Close()
				if v, _ := ctl.Get(ctx, lease).Result(); v == token {
					ctl.Del(ctx, lease)
				}
				ctl.Close()
			})
			return c, fmt.Sprintf("redis://%s/%d", opt.Addr, n)
		}
		if time.Now().After(deadline) {
			t.Fatal("no free Redis database to lease for two minutes")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
