package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/internal/loadtest"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// Three shop processes on one database and one Redis, behind a proxy that
// sends each request to the next one in turn: sign-up and login, addresses,
// carts, checkout and a flash sale all cross instances, and every invariant
// holds. PostgreSQL when TEST_POSTGRES_URL is set, else one SQLite file.
func TestThreeInstancesBehindAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts three shops")
	}
	name := "sqlite"
	if _, ok := testenv.Database(t, "postgres"); ok {
		name = "postgres"
	}
	db, _ := testenv.Database(t, name)
	rs := faults.StartRedis(t)
	bin := faults.BuildShop(t)
	var urls []string
	for range 3 {
		shop := faults.StartShop(t, bin, []string{
			"DATABASE_URL=" + db.URL, "REDIS_URL=" + rs.URL(), "SECRET_KEY=" + strings.Repeat("s", 50),
			"SHOP_DATA_DIR=" + t.TempDir(), "SHOP_DEMO=off", "SHOP_LOG_LEVEL=warn",
			"SHOP_REGISTER_PER_HOUR=100000", "SHOP_SECKILL_USER_RATE=100000", "SHOP_SECKILL_IP_RATE=1000000",
		})
		urls = append(urls, shop.URL())
	}
	proxy := faults.NewProxy(t, urls...)
	ctx := context.Background()
	st := db.Store

	skus, err := testkit.CreateBenchSKUs(ctx, st, "three", 3, 40, decimal.RequireFromString("9.90"))
	if err != nil {
		t.Fatal(err)
	}
	before, err := testkit.TakeSnapshot(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	res, err := loadtest.Run(ctx, loadtest.Config{URL: proxy.URL(), Buyers: 12, Duration: 3 * time.Second,
		MaxOrders: 120, SKUs: skus[:2], Count: 1, RunID: "three", Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if res.Successes == 0 || res.ErrorCount() > 0 {
		t.Errorf("checkout across instances: %d orders, errors %v", res.Successes, res.Errors)
	}
	seen := testkit.Outcome{Placed: res.OrderIDs}
	for _, r := range res.Rejections {
		seen.Short = append(seen.Short, map[int64]int{r.SKUID: r.Count})
	}
	if bad, err := testkit.CheckInvariants(ctx, st, before, seen); err != nil || len(bad) > 0 {
		t.Errorf("invariants after checkout: %v %v", err, bad)
	}

	// A flash sale opened beside them (the admin's way: the engine, on the
	// same database and Redis), bought through the proxy.
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr()})
	t.Cleanup(func() { rdb.Close() })
	engine, err := seckill.New(seckill.Config{Redis: rdb, DB: st.Sales})
	if err != nil {
		t.Fatal(err)
	}
	sale, err := engine.Open(ctx, models.SaleInput{SKUID: skus[2], Stock: 15, Price: decimal.RequireFromString("1.00"),
		PerUser: 1, Start: time.Now(), End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	before, err = testkit.TakeSnapshot(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	sres, err := loadtest.RunSeckill(ctx, loadtest.SeckillConfig{URL: proxy.URL(), Buyers: 25, Duration: 2 * time.Second,
		SKU: skus[2], RunID: "threesk", Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if sres.ErrorCount() > 0 || sres.Successes == 0 || sres.Successes > sale.Stock {
		t.Errorf("flash sale across instances: %d successes for %d units, errors %v", sres.Successes, sale.Stock, sres.Errors)
	}
	rep, err := engine.Close(ctx, sale.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Sale.Sold != sres.Successes {
		t.Errorf("the database holds %d orders of the sale, buyers were told %d", rep.Sale.Sold, sres.Successes)
	}
	orders, err := st.Sales.SaleOrders(ctx, sale.ID)
	if err != nil {
		t.Fatal(err)
	}
	per := map[int64]int{}
	for _, o := range orders {
		if per[o.UserID]++; per[o.UserID] > sale.PerUser {
			t.Errorf("buyer %d has %d orders of a one-per-user sale", o.UserID, per[o.UserID])
		}
	}
	if bad, err := testkit.CheckInvariants(ctx, st, before, testkit.Outcome{Placed: sres.OrderIDs}); err != nil || len(bad) > 0 {
		t.Errorf("invariants after the flash sale: %v %v", err, bad)
	}
}
