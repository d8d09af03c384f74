package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// shop seckill status and reconcile after Redis lost a sale: status tells
// the database's count (the truth) and that Redis lacks the sale;
// reconcile --repair loads it from the database, after which reconcile
// finds nothing to repair and status tells the same count on both sides.
func TestSeckillCommandsAfterRedisLoss(t *testing.T) {
	redisURL := startRedis(t)
	dir := t.TempDir()
	dbURL := "sqlite:///" + filepath.Join(dir, "shop.db")
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "REDIS_URL": redisURL, "SHOP_DATA_DIR": dir, "SHOP_LOG_LEVEL": "warn"})
	shop := func(args ...string) string {
		t.Helper()
		var out lockedBuffer
		if err := run(context.Background(), append([]string{"seckill"}, args...), getenv, &out, &out); err != nil {
			t.Fatalf("shop seckill %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	ctx := context.Background()
	st, err := models.Open(ctx, dbURL, models.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	skus, err := testkit.CreateBenchSKUs(ctx, st, "cmd", 1, 10, decimal.RequireFromString("9.00"))
	if err != nil {
		t.Fatal(err)
	}
	buyers, err := testkit.CreateBuyers(ctx, st, "cmdbuyer", "password123", 3)
	if err != nil {
		t.Fatal(err)
	}
	shop("open", "--sku", fmt.Sprint(skus[0]), "--stock", "3")

	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	t.Cleanup(func() { rdb.Close() })
	e, err := seckill.New(seckill.Config{Redis: rdb, DB: st.Sales})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buyers[:2] {
		if _, err := e.Buy(ctx, skus[0], b.UserID, b.AddressID); err != nil {
			t.Fatalf("buy: %v", err)
		}
	}
	// Persist what was bought: closing does it, so run a consumer only
	// until the database has both.
	workers, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.Run(workers) }()
	for i := 0; ; i++ {
		sales, err := st.Sales.OpenSales(ctx)
		if err != nil || len(sales) != 1 {
			t.Fatalf("open sales: %v, %v", sales, err)
		}
		if sales[0].Sold == 2 {
			break
		}
		if i == 500 {
			t.Fatalf("the consumer never wrote both orders: %+v", sales[0])
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-done
	if err := rdb.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}

	out := shop("status")
	for _, want := range []string{"3 units, 2 sold (database)", "not in Redis"} {
		if !strings.Contains(out, want) {
			t.Errorf("status after the loss lacks %q:\n%s", want, out)
		}
	}
	if out := shop("reconcile", "--repair"); !strings.Contains(out, "missing") {
		t.Errorf("reconcile --repair after the loss:\n%s", out)
	}
	if out := shop("reconcile"); !strings.Contains(out, "Redis and the database agree") {
		t.Errorf("reconcile after the rebuild:\n%s", out)
	}
	out = shop("status")
	for _, want := range []string{"2 sold (database)", "rebuilt in Redis at", "Redis: 2 sold, 1 left, open"} {
		if !strings.Contains(out, want) {
			t.Errorf("status after the rebuild lacks %q:\n%s", want, out)
		}
	}
}
