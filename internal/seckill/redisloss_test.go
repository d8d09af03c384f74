package seckill_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

// Fault tests: Redis loses a live sale (FLUSHALL, or a restart without
// persistence) while buyers race and a consumer persists. The sale is
// rebuilt from the database, which refuses whatever would pass a limit:
// never more orders than the stock nor a buyer above the limit, every
// acknowledged buy ends created or failed with a reason, and Redis and
// the database agree afterwards.

// lossSale is a sale on a private redis-server.
type lossSale struct {
	*sale
	srv *faults.Redis
}

// openLossSale opens a sale of units, perUser each, for crowd buyers, with
// an engine of cfg on a private redis-server.
func openLossSale(t *testing.T, db testenv.DB, cfg seckill.Config, units, perUser, crowd int) *lossSale {
	t.Helper()
	ctx := context.Background()
	srv := faults.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr(), DialTimeout: time.Second, ReadTimeout: 2 * time.Second,
		WriteTimeout: time.Second, PoolSize: 32})
	t.Cleanup(func() { rdb.Close() })
	cfg.Redis, cfg.DB = rdb, db.Store.Sales
	e, err := seckill.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := testkit.CreateBenchSKUs(ctx, db.Store, "loss", 1, units+10, decimal.RequireFromString("99.00"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := testkit.CreateBuyers(ctx, db.Store, fmt.Sprintf("ls%d", time.Now().UnixNano()%1e9), testenv.Password, crowd)
	if err != nil {
		t.Fatal(err)
	}
	before, err := testkit.TakeSnapshot(ctx, db.Store)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Open(ctx, models.SaleInput{SKUID: ids[0], Stock: units, Price: decimal.RequireFromString("1.99"),
		PerUser: perUser, Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Store.Sales.CloseSale(context.Background(), s.ID) })
	return &lossSale{sale: &sale{db: db, rdb: rdb, engine: e, sale: s, before: before, buyers: bs}, srv: srv}
}

// settle waits until every acknowledged order has an outcome other than
// queued, and checks that each failed one has a reason and each created
// one is in the database. It returns the created ones.
func (s *lossSale) settle(t *testing.T, acked map[string]testkit.Buyer) []string {
	t.Helper()
	ctx := context.Background()
	outcomes := map[string]seckill.Outcome{}
	waitFor(t, "every acknowledged order to be created or failed", func() (bool, string) {
		for oid, b := range acked {
			if o, ok := outcomes[oid]; ok && o.Status != seckill.Queued {
				continue
			}
			o, err := s.engine.Outcome(ctx, b.UserID, oid)
			if err != nil {
				return false, fmt.Sprintf("order %s: %v", oid, err)
			}
			outcomes[oid] = o
			if o.Status == seckill.Queued {
				return false, fmt.Sprintf("order %s still queued", oid)
			}
		}
		return true, ""
	})
	var created []string
	reasons := map[string]int{}
	for oid, o := range outcomes {
		switch o.Status {
		case seckill.Created:
			created = append(created, oid)
		case seckill.Failed:
			reasons[o.Reason]++
			if o.Reason == "" {
				t.Errorf("order %s failed without a reason", oid)
			}
		}
	}
	t.Logf("%d acknowledged orders: %d created, failed: %v", len(acked), len(created), reasons)
	if len(created) > 0 {
		if n := countRows(t, s.db.Store, "tb_seckill_order", created...); n != len(created) {
			t.Errorf("%d orders answered created, %d of them in the database", len(created), n)
		}
	}
	return created
}

// checkLimits checks the database against the sale's limits and against
// what the buyers were told.
func (s *lossSale) checkLimits(t *testing.T, created []string) {
	t.Helper()
	ctx := context.Background()
	rows, err := s.db.Store.Sales.SaleOrders(ctx, s.sale.sale.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) > s.sale.sale.Stock {
		t.Errorf("%d orders for a stock of %d", len(rows), s.sale.sale.Stock)
	}
	if len(rows) != len(created) {
		t.Errorf("%d orders in the database, %d buyers told created", len(rows), len(created))
	}
	per := map[int64]int{}
	for _, r := range rows {
		if per[r.UserID]++; per[r.UserID] > s.sale.sale.PerUser {
			t.Errorf("user %d has %d orders, limit %d", r.UserID, per[r.UserID], s.sale.sale.PerUser)
		}
	}
	got, err := s.db.Store.Sales.Sale(ctx, s.sale.sale.ID)
	if err != nil || got.Sold != len(rows) {
		t.Errorf("sale's sold %d, %v; its orders %d", got.Sold, err, len(rows))
	}
}

// The exact regression of issue 10: a 2-unit, one-per-user sale sells
// out, Redis is flushed, the shop reloads the sale: from the database,
// so it is still sold out and its buyers still counted. No more than 2
// orders, nothing to reconcile, and Close succeeds.
func TestSeckillFlushAfterSellOut(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			s := openLossSale(t, db, seckill.Config{Tick: 20 * time.Millisecond, SoldOutFor: time.Millisecond}, 2, 1, 4)
			run(t, s.engine)
			acked := map[string]testkit.Buyer{}
			for _, b := range s.buyers[:2] {
				oid, err := s.buy(ctx, b)
				if err != nil {
					t.Fatalf("buy: %v", err)
				}
				acked[oid] = b
			}
			created := s.settle(t, acked)
			s.srv.Flush()
			waitFor(t, "the sale to be back in Redis", func() (bool, string) {
				_, err := s.engine.State(ctx, s.sale.sale.SKUID)
				return err == nil, fmt.Sprint(err)
			})
			if st, err := s.engine.State(ctx, s.sale.sale.SKUID); err != nil || st.Stock != 0 || st.Sold != 2 || st.Total != 2 {
				t.Errorf("Redis after the rebuild: %+v, %v; want 0 left, 2 sold of 2", st, err)
			}
			for i, b := range s.buyers {
				want := seckill.ErrSoldOut
				if i < 2 {
					want = seckill.ErrLimit
				}
				time.Sleep(2 * time.Millisecond) // past SoldOutFor: Redis decides
				if oid, err := s.buy(ctx, b); !errors.Is(err, want) {
					t.Errorf("buyer %d after the rebuild: %q, %v; want %v", i, oid, err, want)
				}
			}
			for oid, b := range acked {
				if got, err := s.engine.Result(ctx, b.UserID, oid); err != nil || got != seckill.Created {
					t.Errorf("result of %s after the rebuild: %s, %v; want created", oid, got, err)
				}
			}
			checkReconciled(t, s.engine, "after the rebuild")
			s.checkLimits(t, created)
			rep, err := s.engine.Close(ctx, s.sale.sale.ID)
			if err != nil || rep.Sale.Sold != 2 || rep.Returned != 0 {
				t.Fatalf("close: %+v, %v; want 2 sold, none returned", rep, err)
			}
		})
	}
}

// Redis loses the sale in the middle of it, while buyers race and the
// consumer persists: flushed, or killed and restarted empty.
func TestSeckillRedisLostMidSale(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		for _, fault := range []string{"flush", "restart"} {
			t.Run(db.Name+"/"+fault, func(t *testing.T) {
				testRedisLostMidSale(t, db, fault)
			})
		}
	}
}

func testRedisLostMidSale(t *testing.T, db testenv.DB, fault string) {
	const units, perUser, crowd = 30, 2, 40
	const buying = 1500 * time.Millisecond // how long buyers keep trying
	ctx := context.Background()
	s := openLossSale(t, db, seckill.Config{Tick: 20 * time.Millisecond, ClaimIdle: 300 * time.Millisecond}, units, perUser, crowd)
	run(t, s.engine)
	var mu sync.Mutex
	acked := map[string]testkit.Buyer{}
	var redisErrs, afterLoss int
	lost := false
	third := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	until := time.Now().Add(buying)
	for i, b := range s.buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for try := 0; time.Now().Before(until); try++ {
				// Buyers come and go, each a try every 10-50 ms.
				time.Sleep(time.Duration(10+(i*7+try*13)%40) * time.Millisecond)
				bctx, cancel := context.WithTimeout(ctx, time.Second)
				oid, err := s.buy(bctx, b)
				cancel()
				mu.Lock()
				switch {
				case err == nil:
					acked[oid] = b
					if lost {
						afterLoss++
					}
				case errors.Is(err, seckill.ErrSoldOut), errors.Is(err, seckill.ErrLimit):
				default:
					redisErrs++ // Redis down, or the sale being loaded
				}
				n := len(acked)
				mu.Unlock()
				if n >= units/3 {
					once.Do(func() { close(third) })
				}
			}
		}()
	}
	select {
	case <-third:
	case <-time.After(buying):
		t.Fatal("the buyers never got a third of the units")
	}
	switch fault {
	case "flush":
		s.srv.Flush()
	case "restart":
		s.srv.Restart()
	}
	mu.Lock()
	lost = true
	mu.Unlock()
	wg.Wait()
	t.Logf("%d buys acknowledged after the loss, %d answered with an error", afterLoss, redisErrs)
	created := s.settle(t, acked)
	s.checkLimits(t, created)
	checkReconciled(t, s.engine, "after the loss")
	rep, err := s.engine.Close(ctx, s.sale.sale.ID)
	if err != nil {
		t.Fatalf("close: %v", err)
	}
	if rep.Sale.Sold != len(created) {
		t.Errorf("closed with %d sold, buyers told %d created", rep.Sale.Sold, len(created))
	}
}

// Redis is killed right after a buy was decided (the Lua script ran and
// answered the buyer) and before the consumer persisted it, then restarts
// empty. TestSeckillRedisLostMidSale loses Redis at a random moment of a
// crowd, so whether some buy was caught between its decision and its
// write is luck; here one surely is:
//
//   - unread: no consumer has read the buy's stream entry, which dies with
//     Redis. Its buyer is told failed, "lost when Redis restarted", and may
//     buy again.
//   - read: a consumer holds the entry, its write held up by a lock on the
//     sale's row. When the lock goes, either the write comes first (the
//     order is created, and the rebuilt sale counts it and its buyer) or
//     the rebuild does (the write, of the old epoch, is refused as lost).
//
// Either way the sale is rebuilt from the database, the buyer's answer is
// what the database holds, the sale then sells out to exactly its stock,
// and no user has two orders.
func TestSeckillRedisKilledBeforePersist(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		for _, held := range []string{"unread", "read"} {
			t.Run(db.Name+"/"+held, func(t *testing.T) {
				testRedisKilledBeforePersist(t, db, held == "read")
			})
		}
	}
}

func testRedisKilledBeforePersist(t *testing.T, db testenv.DB, read bool) {
	const units, crowd = 3, 5
	ctx := context.Background()
	s := openLossSale(t, db, seckill.Config{Tick: 20 * time.Millisecond, SoldOutFor: time.Millisecond}, units, 1, crowd)
	k := fmt.Sprintf("{seckill:%d}:", s.sale.sale.SKUID)
	first := s.buyers[0]
	var release func()
	if read {
		release = holdSale(t, s.db, s.sale.sale.ID)
		run(t, s.engine)
	}
	oid, err := s.buy(ctx, first)
	if err != nil {
		t.Fatalf("the first buy: %v", err)
	}
	if read {
		waitFor(t, "the consumer to read the buy", func() (bool, string) {
			p, err := s.rdb.XPending(ctx, k+"stream", "persist").Result()
			return err == nil && p.Count == 1, fmt.Sprint(p, err)
		})
	}
	if n := countRows(t, s.db.Store, "tb_seckill_order", oid); n != 0 {
		t.Fatalf("the buy was persisted before Redis died")
	}
	s.srv.Kill()
	s.srv.Restart()
	if read {
		release()
	} else {
		run(t, s.engine)
	}
	waitFor(t, "the sale to be rebuilt in Redis", func() (bool, string) {
		st, err := s.engine.State(ctx, s.sale.sale.SKUID)
		return err == nil && st.Epoch == 2, fmt.Sprintf("%+v, %v", st, err)
	})
	acked := map[string]testkit.Buyer{oid: first}
	created := s.settle(t, acked)
	got, err := s.engine.Outcome(ctx, first.UserID, oid)
	switch {
	case err != nil:
		t.Fatalf("outcome of the first buy: %v", err)
	case !read && (got.Status != seckill.Failed || got.Reason != models.RefusedLost):
		t.Errorf("outcome of the unread buy: %+v; want failed, %q", got, models.RefusedLost)
	case got.Status == seckill.Failed && got.Reason != models.RefusedLost:
		t.Errorf("outcome of the read buy: %+v; want created, or failed %q", got, models.RefusedLost)
	}
	t.Logf("the first buy: %+v", got)

	// Everyone buys, the first buyer again: the rebuilt sale knows what the
	// database holds.
	for i, b := range s.buyers {
		time.Sleep(2 * time.Millisecond) // past SoldOutFor: Redis decides
		oid, err := s.buy(ctx, b)
		switch {
		case err == nil:
			acked[oid] = b
		case i == 0 && len(created) == 1 && errors.Is(err, seckill.ErrLimit):
		case errors.Is(err, seckill.ErrSoldOut) && len(acked) > units-len(created):
		default:
			t.Errorf("buyer %d after the rebuild: %q, %v", i, oid, err)
		}
	}
	created = s.settle(t, acked)
	if len(created) != units {
		t.Errorf("%d orders created, want the sale's %d units", len(created), units)
	}
	s.checkLimits(t, created)
	checkReconciled(t, s.engine, "after the rebuild")
	rep, err := s.engine.Close(ctx, s.sale.sale.ID)
	if err != nil || rep.Sale.Sold != units {
		t.Fatalf("close: %+v, %v; want %d sold", rep, err, units)
	}
}
