package seckill_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
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

// A shop killed (SIGKILL) while its consumer holds stream entries it has
// read and not yet written: another instance claims them once they have
// been idle for its ClaimIdle and persists them. Every acknowledged buy
// ends created, or failed with a reason. The killed shop is a child
// process on SQLite or PostgreSQL and a private redis-server; its
// persists are held up by a lock the test takes on the database, so that
// the entries are surely pending when it dies.
func TestSeckillShopKilledWithPending(t *testing.T) {
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
			testShopKilled(t, bin, db)
		})
	}
}

func testShopKilled(t *testing.T, bin string, db testenv.DB) {
	const units, crowd = 10, 12
	ctx := context.Background()
	srv := faults.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { rdb.Close() })
	e, err := seckill.New(seckill.Config{Redis: rdb, DB: db.Store.Sales, Tick: 20 * time.Millisecond,
		ClaimIdle: 200 * time.Millisecond, Consumer: "survivor"})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := testkit.CreateBenchSKUs(ctx, db.Store, "kill", 1, units+5, decimal.RequireFromString("99.00"))
	if err != nil {
		t.Fatal(err)
	}
	buyers, err := testkit.CreateBuyers(ctx, db.Store, fmt.Sprintf("kl%d", time.Now().UnixNano()%1e9), testenv.Password, crowd)
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
	acked := map[string]testkit.Buyer{}
	for i, b := range buyers {
		oid, err := s.buy(ctx, b)
		switch {
		case i < units && err != nil:
			t.Fatalf("buy %d: %v", i, err)
		case i < units:
			acked[oid] = b
		case err != seckill.ErrSoldOut:
			t.Errorf("buy %d of %d units: %q, %v; want sold out", i, units, oid, err)
		}
	}
	// The shop starts with the buys waiting in the stream: it reads them all
	// in its first batch, which the lock then holds up.
	shop := faults.StartShop(t, bin, []string{
		"DATABASE_URL=" + db.URL,
		"REDIS_URL=" + srv.URL(),
		"SECRET_KEY=" + strings.Repeat("k", 40),
		"SHOP_DATA_DIR=" + t.TempDir(),
		"SHOP_DEMO=off",
	})
	waitFor(t, "the shop to hold every entry pending", func() (bool, string) {
		p, err := rdb.XPending(ctx, stream, "persist").Result()
		return err == nil && p.Count == units && p.Consumers["survivor"] == 0, fmt.Sprint(p, err)
	})
	shop.Kill()
	release()
	if n := countRows(t, db.Store, "tb_seckill_order", keys(acked)...); n != 0 {
		t.Fatalf("%d orders written by the shop before it died; want it held up", n)
	}

	run(t, e)
	ls := &lossSale{sale: s}
	created := ls.settle(t, acked)
	if len(created) != units {
		t.Errorf("%d of %d acknowledged orders created", len(created), units)
	}
	ls.checkLimits(t, created)
	checkReconciled(t, e, "after the takeover")
	rep, err := e.Close(ctx, sl.ID)
	if err != nil || rep.Sale.Sold != units {
		t.Fatalf("close: %+v, %v; want %d sold", rep, err, units)
	}
}

// holdSale keeps the sale's persisters waiting until release is called:
// on SQLite it holds the database's write lock, on PostgreSQL and MariaDB
// the sale's row lock.
func holdSale(t *testing.T, db testenv.DB, saleID int64) (release func()) {
	t.Helper()
	ctx := context.Background()
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tx *sql.Tx
	switch db.Name {
	case "sqlite":
		_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE")
	default:
		q := "SELECT id FROM tb_seckill_sale WHERE id = $1 FOR UPDATE"
		if db.Name == "mysql" {
			q = "SELECT id FROM tb_seckill_sale WHERE id = ? FOR UPDATE"
		}
		if tx, err = conn.BeginTx(ctx, nil); err == nil {
			_, err = tx.ExecContext(ctx, q, saleID)
		}
	}
	if err != nil {
		t.Fatalf("hold sale %d: %v", saleID, err)
	}
	done := false
	release = func() {
		if done {
			return
		}
		done = true
		if tx != nil {
			tx.Rollback()
		} else {
			conn.ExecContext(ctx, "ROLLBACK")
		}
		conn.Close()
	}
	t.Cleanup(release)
	return release
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
