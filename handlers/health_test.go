package handlers_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models/testkit"
)

func TestHealthz(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			if got := shop.NewClient(t).Get("/healthz").Status; got != http.StatusOK {
				t.Errorf("GET /healthz with everything up = %d, want 200", got)
			}
		})
	}
}

// A Redis that goes away answers 503 on /healthz and on Redis-backed
// endpoints, never 500.
func TestRedisDownIs503(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	shop := testenv.NewShopWith(t, db, rdb, nil)
	u := testenv.CreateUser(t, db.Store, "redisdown")
	skus, err := testkit.CreateBenchSKUs(context.Background(), db.Store, "redis-down", 1, 5, decimal.RequireFromString("1.00"))
	if err != nil {
		t.Fatal(err)
	}
	c := shop.NewClient(t)
	c.Login(t, u.Username, testenv.Password)

	m.Close()
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"healthz", http.MethodGet, "/healthz", nil},
		{"cart summary", http.MethodGet, "/carts/simple/", nil},
		{"cart add", http.MethodPost, "/carts/", map[string]any{"sku_id": skus[0], "count": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := c.Do(tt.method, tt.path, tt.body)
			if res.Status != http.StatusServiceUnavailable {
				t.Errorf("%s %s with Redis down = %d, want 503\n%s", tt.method, tt.path, res.Status, res.Body)
			}
		})
	}
}

// /livez answers 200 whatever the dependencies; /readyz answers 503 when
// Redis is down (a private redis-server, killed), while the process
// drains, and while a migration is missing; 200 otherwise.
func TestReadyz(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	srv := faults.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	var draining atomic.Bool
	shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) { d.Draining = draining.Load })
	c := shop.NewClient(t)

	check := func(when string, path string, want int, field string) {
		t.Helper()
		res := c.Get(path)
		if res.Status != want {
			t.Errorf("%s: GET %s = %d, want %d\n%s", when, path, res.Status, want, res.Body)
		}
		if field != "" && !strings.Contains(res.Body, field) {
			t.Errorf("%s: GET %s = %s, want it to name %s", when, path, res.Body, field)
		}
	}
	check("everything up", "/readyz", http.StatusOK, "")
	check("everything up", "/livez", http.StatusOK, "")

	draining.Store(true)
	check("draining", "/readyz", http.StatusServiceUnavailable, `"draining":true`)
	check("draining", "/livez", http.StatusOK, "")
	draining.Store(false)

	srv.Kill()
	check("redis down", "/readyz", http.StatusServiceUnavailable, `"redis":"`)
	check("redis down", "/livez", http.StatusOK, "")
	srv.Restart()
	check("redis back", "/readyz", http.StatusOK, "")

	// A database one migration behind this binary.
	last, err := db.Store.Migrations(context.Background())
	if err != nil || len(last) == 0 {
		t.Fatalf("migrations: %v, %v", last, err)
	}
	if _, err := db.Store.MigrateTo(context.Background(), last[len(last)-2].Version); err != nil {
		t.Fatal(err)
	}
	check("a migration missing", "/readyz", http.StatusServiceUnavailable, "pending")
	if _, err := db.Store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	check("migrated again", "/readyz", http.StatusOK, "")
}

// /healthz answers only ok or unavailable, and /readyz names what is down
// in words: neither shows an error's text (the address of a Redis that is
// gone, a closed database), which goes to the log at error level with
// the dependency's name.
func TestHealthSaysNoErrorText(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	srv := faults.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	logs := &syncBuffer{}
	shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) {
		d.Log = slog.New(slog.NewTextHandler(logs, nil))
	})
	c := shop.NewClient(t)
	_, port, _ := strings.Cut(srv.Addr(), ":")
	if port == "" {
		t.Fatalf("redis address %q has no port", srv.Addr())
	}

	// logged checks that the log has an error line for dependency's
	// failure seen by path, with the error's text (containing cause).
	logged := func(t *testing.T, path, dependency, cause string) {
		t.Helper()
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, "level=ERROR") && strings.Contains(line, "check="+path+" ") &&
				strings.Contains(line, "dependency="+dependency+" ") && strings.Contains(line, cause) {
				return
			}
		}
		t.Errorf("no error logged for %s on %s with %q\n%s", dependency, path, cause, logs.String())
	}
	tests := []struct {
		name  string
		down  func()
		path  string
		want  int
		body  map[string]any
		dep   string // the dependency logged as down
		cause string // in the logged error, never in the answer
	}{
		{"up", func() {}, "/healthz", http.StatusOK, map[string]any{"status": "ok"}, "", ""},
		{"up", func() {}, "/readyz", http.StatusOK,
			map[string]any{"database": "ok", "redis": "ok", "migrations": "ok", "draining": false}, "", ""},
		{"redis down", srv.Kill, "/healthz", http.StatusServiceUnavailable, map[string]any{"status": "unavailable"}, "redis", port},
		{"redis down", srv.Kill, "/readyz", http.StatusServiceUnavailable,
			map[string]any{"database": "ok", "redis": "unavailable", "migrations": "ok", "draining": false}, "redis", port},
		{"database closed too", func() { db.Store.Close() }, "/healthz", http.StatusServiceUnavailable,
			map[string]any{"status": "unavailable"}, "database", "closed"},
		{"database closed too", func() { db.Store.Close() }, "/readyz", http.StatusServiceUnavailable,
			map[string]any{"database": "unavailable", "redis": "unavailable", "migrations": "unknown", "draining": false}, "database", "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" "+tt.path, func(t *testing.T) {
			tt.down()
			res := c.Get(tt.path)
			if res.Status != tt.want {
				t.Errorf("status %d, want %d", res.Status, tt.want)
			}
			if diff := cmp.Diff(tt.body, res.JSON(t)); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
			if tt.cause != "" {
				if strings.Contains(res.Body, tt.cause) {
					t.Errorf("the answer shows the error: %s", res.Body)
				}
				logged(t, tt.path, tt.dep, tt.cause)
			}
		})
	}
}
