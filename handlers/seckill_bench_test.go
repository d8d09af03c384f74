package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// BenchmarkSeckillBuy is what one flash-sale click costs the shop, step
// by step, in process (no network: the load tool's cold burst adds the
// connection). Each case adds steps to the one before:
//
//	known refusal   CSRF check, routing, "sold out" from this process's memory
//	redis, warm     + the session, the user and the address from the caches, and the Lua decision
//	redis, cold     + the session decoded, the user and the address read from the database
//
// Run: go test -run '^$' -bench BenchmarkSeckillBuy -benchmem ./handlers
// (with TEST_POSTGRES_URL and TEST_MYSQL_URL for those databases).
func BenchmarkSeckillBuy(b *testing.B) {
	for _, db := range testenv.Databases(b) {
		b.Run(db.Name, func(b *testing.B) {
			for _, cold := range []bool{false, true} {
				benchSeckillBuy(b, db, cold)
			}
		})
	}
}

func benchSeckillBuy(b *testing.B, db testenv.DB, cold bool) {
	ctx := context.Background()
	rdb, _ := testenv.Redis(b)
	shop := testenv.NewShopWith(b, db, rdb, func(d *handlers.Deps) {
		d.SeckillLimits = handlers.SeckillLimits{PerUser: 1 << 30, PerIP: 1 << 30} // one client clicks on and on
		if cold {
			d.CacheTTL = -1 // every request reads the session, the user and the address afresh
		}
	})
	label := fmt.Sprintf("bench%v", cold)
	skus, err := testkit.CreateBenchSKUs(ctx, db.Store, label, 2, 10, decimal.RequireFromString("10.00"))
	if err != nil {
		b.Fatal(err)
	}
	soldOut, limited := skus[0], skus[1]
	now := time.Now()
	for i, sku := range skus {
		if _, err := shop.Handlers.Seckill.Open(ctx, models.SaleInput{SKUID: sku, Stock: 1 + 4*i, Price: decimal.RequireFromString("1.00"),
			PerUser: 1, Start: now, End: now.Add(time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	buyer := testenv.CreateUser(b, db.Store, label+"u")
	addr := testenv.CreateAddress(b, db.Store, buyer.ID)
	c := shop.NewClient(b)
	c.Login(b, buyer.Username, testenv.Password)
	c.Get("/")
	// The buyer takes the last unit of one sale (so it is sold out) and
	// its one unit of the other (so further buys reach Redis and are
	// refused there: over the per-user limit).
	for _, sku := range skus {
		if res := c.Do(http.MethodPost, fmt.Sprintf("/seckill/%d/", sku), map[string]any{"address_id": addr.ID}); res.Code(b) != 0 {
			b.Fatalf("buy: %s", res.Body)
		}
	}
	u, _ := url.Parse(shop.Server.URL)
	cookies := c.HTTP.Jar.Cookies(u)
	handler := shop.Server.Config.Handler
	body := fmt.Sprintf(`{"address_id":%d}`, addr.ID)
	// A known refusal is remembered for a second; the click after that
	// reaches Redis, which says "over the limit" to this buyer.
	click := func(b *testing.B, sku int64, want ...string) {
		b.ReportAllocs()
		for b.Loop() {
			req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/seckill/%d/", sku), strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-CSRFToken", c.CSRF)
			for _, ck := range cookies {
				req.AddCookie(ck)
			}
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !slices.ContainsFunc(want, func(w string) bool { return strings.Contains(rec.Body.String(), w) }) {
				b.Fatalf("got %d %s, want %s", rec.Code, rec.Body, want)
			}
		}
	}
	if !cold {
		b.Run("known refusal", func(b *testing.B) { click(b, soldOut, "抢光", "限购") })
		b.Run("redis, warm", func(b *testing.B) { click(b, limited, "限购") })
	} else {
		b.Run("redis, cold", func(b *testing.B) { click(b, limited, "限购") })
	}
}
