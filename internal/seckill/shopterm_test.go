package seckill_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// A shop stopped with SIGTERM while its consumer holds stream entries it
// has read and not yet written: /readyz answers 503 first, then the server
// stops taking requests, then the consumer writes and acknowledges the
// batch it holds before the process exits, so no entry is left pending
// for another instance to claim. The shop is a child process on SQLite or
// PostgreSQL and a private redis-server; its persist is held up by a lock
// the test takes on the database until the server has stopped.
func TestSeckillShopTerminatedDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the shop")
	}
	bin := faults.BuildShop(t)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db, ok := testenv.Database(t, name)
			if !ok {
				t.Skipf("%s is not configured", name)
			}
			testShopTerminated(t, bin, db)
		})
	}
}

func testShopTerminated(t *testing.T, bin string, db testenv.DB) {
	const units = 8
	ctx := context.Background()
	srv := faults.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	// This engine opens the sale and decides the buys; it never runs a
	// consumer, so whatever is written is the terminated shop's doing.
	e, err := seckill.New(seckill.Config{Redis: rdb, DB: db.Store.Sales, Consumer: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := testkit.CreateBenchSKUs(ctx, db.Store, "term", 1, units+5, decimal.RequireFromString("99.00"))
	if err != nil {
		t.Fatal(err)
	}
	buyers, err := testkit.CreateBuyers(ctx, db.Store, fmt.Sprintf("tm%d", time.Now().UnixNano()%1e9), testenv.Password, units)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := e.Open(ctx, models.SaleInput{SKUID: ids[0], Stock: units, Price: decimal.RequireFromString("1.99"),
		PerUser: 1, Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Store.Sales.CloseSale(context.Background(), sl.ID) })
	stream := fmt.Sprintf("{seckill:%d}:stream", sl.SKUID)

	release := holdSale(t, db, sl.ID)
	s := &sale{db: db, rdb: rdb, engine: e, sale: sl, buyers: buyers}
	var acked []string
	for i, b := range buyers {
		oid, err := s.buy(ctx, b)
		if err != nil {
			t.Fatalf("buy %d: %v", i, err)
		}
		acked = append(acked, oid)
	}
	const drainDelay = 2 * time.Second
	shop := faults.StartShop(t, bin, []string{
		"DATABASE_URL=" + db.URL,
		"REDIS_URL=" + srv.URL(),
		"SECRET_KEY=" + strings.Repeat("k", 40),
		"SHOP_DATA_DIR=" + t.TempDir(),
		"SHOP_DEMO=off",
		"SHOP_DRAIN_DELAY=" + drainDelay.String(),
	})
	waitFor(t, "the shop to hold every entry pending", func() (bool, string) {
		p, err := rdb.XPending(ctx, stream, "persist").Result()
		return err == nil && p.Count == units && p.Consumers["test"] == 0, fmt.Sprint(p, err)
	})
	client := &http.Client{Timeout: 2 * time.Second}
	readyz := func() (int, error) {
		res, err := client.Get(shop.URL() + "/readyz")
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	if code, err := readyz(); code != http.StatusOK {
		t.Fatalf("GET /readyz before SIGTERM = %d, %v; want 200", code, err)
	}

	terminated := time.Now()
	shop.Terminate()
	waitFor(t, "/readyz to answer 503 after SIGTERM", func() (bool, string) {
		code, err := readyz()
		return code == http.StatusServiceUnavailable, fmt.Sprint(code, err)
	})
	if waited := time.Since(terminated); waited >= drainDelay {
		t.Errorf("/readyz answered 503 %v after SIGTERM; want it within the drain delay (%v)", waited, drainDelay)
	}
	// The server keeps serving for the drain delay, then stops taking
	// connections; only then may the held batch be written.
	waitFor(t, "the server to stop taking connections", func() (bool, string) {
		_, err := readyz()
		return errors.Is(err, syscall.ECONNREFUSED), fmt.Sprint(err)
	})
	if stopped := time.Since(terminated); stopped < drainDelay {
		t.Errorf("the server stopped %v after SIGTERM, before the drain delay (%v)", stopped, drainDelay)
	}
	if n := countRows(t, db.Store, "tb_seckill_order", acked...); n != 0 {
		t.Fatalf("%d orders written before the lock was released; want the batch held up", n)
	}
	time.Sleep(300 * time.Millisecond) // the workers are told to stop right after the server
	release()

	exited, err := shop.Wait(20 * time.Second)
	if !exited {
		t.Fatal("the shop did not exit within 20 s of SIGTERM")
	}
	if err != nil {
		t.Errorf("the shop exited with %v after SIGTERM; want status 0", err)
	}
	p, err := rdb.XPending(ctx, stream, "persist").Result()
	if err != nil || p.Count != 0 {
		t.Errorf("after the shop exited: %+v, %v; want no entry pending", p, err)
	}
	if n := countRows(t, db.Store, "tb_seckill_order", acked...); n != units {
		t.Errorf("%d of %d acknowledged buys written by the terminated shop", n, units)
	}
}
