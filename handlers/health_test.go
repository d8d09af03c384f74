package handlers_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

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
