package seckill_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// persistCall is one call the consumer made to PersistSeckillOrders.
type persistCall struct {
	Orders []string
	Err    error
}

// recordingDB is the real store, with a record of every batch the
// consumer asked it to persist and what it answered.
type recordingDB struct {
	*models.Sales
	mu    sync.Mutex
	calls []persistCall
}

func (d *recordingDB) PersistSeckillOrders(ctx context.Context, batch []models.SeckillOrder) (models.PersistResult, error) {
	res, err := d.Sales.PersistSeckillOrders(ctx, batch)
	ids := make([]string, len(batch))
	for i, o := range batch {
		ids[i] = o.OrderID
	}
	d.mu.Lock()
	d.calls = append(d.calls, persistCall{Orders: ids, Err: err})
	d.mu.Unlock()
	return res, err
}

func (d *recordingDB) persistCalls() []persistCall {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.calls)
}

// redisKinds are the Redis servers a test can run on: the in-process one
// always, the real one when TEST_REDIS_URL is set.
func redisKinds() []string {
	kinds := []string{"miniredis"}
	if os.Getenv("TEST_REDIS_URL") != "" {
		kinds = append(kinds, "redis")
	}
	return kinds
}

// newRedis returns a client on an empty Redis of the kind, private to the
// test.
func newRedis(t *testing.T, kind string) *redis.Client {
	t.Helper()
	if kind == "redis" {
		rdb, _ := testenv.Redis(t)
		return rdb
	}
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// waitFor polls cond until it holds, failing the test if it never does.
// The bound is a timeout for a hung consumer, not a timing assertion.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for range 3000 {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gave up waiting for %s; last seen: %s", what, last)
}

// countRows counts a table's rows whose order_id is one of ids (flash-sale
// order ids are digits only, so they are quoted inline).
func countRows(t *testing.T, st *models.Store, table string, ids ...string) int {
	t.Helper()
	db, err := st.SQL()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	q := fmt.Sprintf("SELECT COUNT(*) FROM %s WHERE order_id IN ('%s')", table, strings.Join(ids, "','"))
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// A batch in which the database refuses one order for good (its delivery
// address is gone, so tb_order_info's foreign key refuses it, which the
// store reports as models.ErrNotFound): the consumer splits the batch, the
// other orders are persisted once, the refused one is marked failed, its
// unit goes back on sale and its buyer is uncounted, so the buyer can buy
// again; nothing stays pending and Redis and the database agree.
//
// The Lua strategy runs on every database and Redis; the comparison
// strategies, whose buy decision after the failure is made in Go, on the
// first database.
func TestSeckillPermanentRefusal(t *testing.T) {
	for i, db := range testenv.Databases(t) {
		strategies := []seckill.Strategy{seckill.StrategyLua, seckill.StrategyWatch, seckill.StrategyLock}
		if i > 0 {
			strategies = strategies[:1]
		}
		for _, kind := range redisKinds() {
			for _, strategy := range strategies {
				t.Run(db.Name+"/"+kind+"/"+string(strategy), func(t *testing.T) {
					testPermanentRefusal(t, db, kind, strategy)
				})
			}
		}
	}
}

// refusal is a sale whose buyers have all bought before any consumer
// runs, so that the consumer's first read is one batch of every order; the
// victim bought for an address deleted since, so the database refuses that
// order for good (tb_order_info.address_id's foreign key).
type refusal struct {
	*sale
	rec    *recordingDB
	oids   []string // each buyer's order, in buying order
	victim int
	k      string // the sale's key prefix
}

// newRefusal opens a sale of saleStock units of a SKU of skuStock, with an
// engine of cfg on Redis of the kind (the database through a recordingDB),
// and has crowd buyers buy one unit each.
func newRefusal(t *testing.T, db testenv.DB, kind string, cfg seckill.Config, skuStock, saleStock, crowd, victim int) *refusal {
	t.Helper()
	ctx := context.Background()
	rdb := newRedis(t, kind)
	rec := &recordingDB{Sales: db.Store.Sales}
	cfg.Redis, cfg.DB = rdb, rec
	e, err := seckill.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := testkit.CreateBenchSKUs(ctx, db.Store, "refuse", 1, skuStock, decimal.RequireFromString("99.00"))
	if err != nil {
		t.Fatal(err)
	}
	buyers, err := testkit.CreateBuyers(ctx, db.Store, fmt.Sprintf("rf%d", time.Now().UnixNano()%1e9), testenv.Password, crowd)
	if err != nil {
		t.Fatal(err)
	}
	doomed := testenv.CreateAddress(t, db.Store, buyers[victim].UserID)
	before, err := testkit.TakeSnapshot(ctx, db.Store)
	if err != nil {
		t.Fatal(err)
	}
	sl, err := e.Open(ctx, models.SaleInput{SKUID: ids[0], Stock: saleStock, Price: decimal.RequireFromString("1.99"),
		PerUser: 1, Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// A failed run must not leave an open sale for the next one's
	// reconciliation to find.
	t.Cleanup(func() { db.Store.Sales.CloseSale(context.Background(), sl.ID) })
	r := &refusal{sale: &sale{db: db, rdb: rdb, engine: e, sale: sl, before: before, buyers: buyers},
		rec: rec, victim: victim, k: fmt.Sprintf("{seckill:%d}:", sl.SKUID)}
	for i, b := range buyers {
		if i == victim {
			b.AddressID = doomed.ID
		}
		oid, err := r.buy(ctx, b)
		if err != nil {
			t.Fatalf("buy %d: %v", i, err)
		}
		r.oids = append(r.oids, oid)
	}
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.Exec(fmt.Sprintf("DELETE FROM tb_address WHERE id = %d", doomed.ID)); err != nil {
		t.Fatal(err)
	}
	if st, err := e.State(ctx, sl.SKUID); err != nil || st.Stock != saleStock-crowd || st.Sold != crowd {
		t.Fatalf("Redis after %d buys: %+v, %v; want stock %d, sold %d", crowd, st, err, saleStock-crowd, crowd)
	}
	return r
}

// pending counts the stream's entries delivered and not acknowledged.
func (r *refusal) pending(t *testing.T) int64 {
	t.Helper()
	p, err := r.rdb.XPending(context.Background(), r.k+"stream", "persist").Result()
	if err != nil {
		t.Fatalf("XPENDING: %v", err)
	}
	return p.Count
}

// settled holds once the consumer has created and failed so many orders
// and acknowledged everything it read.
func (r *refusal) settled(t *testing.T, created, failed int) func() (bool, string) {
	return func() (bool, string) {
		st, n := r.engine.Stats(), r.pending(t)
		return st.Created == created && st.Failed == failed && n == 0, fmt.Sprintf("%+v, %d pending", st, n)
	}
}

func testPermanentRefusal(t *testing.T, db testenv.DB, kind string, strategy seckill.Strategy) {
	const skuStock, saleStock, crowd, victim = 50, 10, 5, 2
	ctx := context.Background()
	// No claiming of stale entries during the test: the refused entry must
	// be acknowledged by the failure itself, not picked up again later.
	r := newRefusal(t, db, kind, seckill.Config{Strategy: strategy, Tick: 20 * time.Millisecond, ClaimIdle: time.Hour},
		skuStock, saleStock, crowd, victim)
	e, rdb, rec, k, sl, buyers, oids := r.engine, r.rdb, r.rec, r.k, r.sale.sale, r.buyers, r.oids
	refused := oids[victim]
	kept := slices.Delete(slices.Clone(oids), victim, victim+1)
	uid := func(i int) string { return fmt.Sprint(buyers[i].UserID) }

	run(t, e)
	waitFor(t, "the batch to be persisted", r.settled(t, crowd-1, 1))

	// The batch was refused whole, then written one order at a time: the
	// refused order alone failed.
	calls := rec.persistCalls()
	wantCalls := []persistCall{{Orders: oids, Err: models.ErrNotFound}}
	for _, oid := range oids {
		c := persistCall{Orders: []string{oid}}
		if oid == refused {
			c.Err = models.ErrNotFound
		}
		wantCalls = append(wantCalls, c)
	}
	checkCalls(t, calls, wantCalls)
	if st := e.Stats(); st.Created != crowd-1 || st.Skipped != 0 || st.Failed != 1 {
		t.Errorf("stats %+v, want %d created, 0 skipped, 1 failed", st, crowd-1)
	}

	// The others are in the database once each; the refused one not at all.
	if n := countRows(t, db.Store, "tb_order_info", kept...); n != len(kept) {
		t.Errorf("%d tb_order_info rows for the %d kept orders", n, len(kept))
	}
	if n := countRows(t, db.Store, "tb_order_goods", kept...); n != len(kept) {
		t.Errorf("%d tb_order_goods rows for the %d kept orders", n, len(kept))
	}
	for _, table := range []string{"tb_order_info", "tb_order_goods", "tb_seckill_order"} {
		if n := countRows(t, db.Store, table, refused); n != 0 {
			t.Errorf("%d %s rows for the refused order", n, table)
		}
	}
	checkSaleOrders(t, db.Store, sl.ID, kept)

	// What the result endpoint tells each buyer.
	for i, oid := range oids {
		want := seckill.Created
		if oid == refused {
			want = seckill.Failed
		}
		if got, err := e.Result(ctx, buyers[i].UserID, oid); err != nil || got != want {
			t.Errorf("result of buyer %d's order: %q, %v; want %q", i, got, err, want)
		}
	}

	// Redis: the unit is back on sale, the buyer uncounted (HINCRBY -1
	// leaves "0"), the order still recorded as the buyer's and marked failed
	// with the database's reason.
	if st, err := e.State(ctx, sl.SKUID); err != nil || st.Stock != saleStock-crowd+1 || st.Sold != crowd-1 || st.Total != saleStock {
		t.Errorf("Redis after the refusal: %+v, %v; want stock %d, sold %d, total %d", st, err, saleStock-crowd+1, crowd-1, saleStock)
	}
	wantBuyers := map[string]string{}
	wantOrders := map[string]string{}
	for i := range buyers {
		wantBuyers[uid(i)] = "1"
		wantOrders[oids[i]] = uid(i)
	}
	wantBuyers[uid(victim)] = "0"
	checkHash(t, rdb, k+"buyers", wantBuyers)
	checkHash(t, rdb, k+"orders", wantOrders)
	failed, err := rdb.HGetAll(ctx, k+"failed").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || !strings.Contains(failed[refused], models.ErrNotFound.Error()) {
		t.Errorf("failed orders %v, want only %s, for a missing row", failed, refused)
	}
	checkReconciled(t, e, "after the refusal")

	// The buyer can buy again, and that order is persisted.
	again, err := r.buy(ctx, buyers[victim])
	if err != nil {
		t.Fatalf("buy again after the refusal: %v", err)
	}
	if st, err := e.State(ctx, sl.SKUID); err != nil || st.Stock != saleStock-crowd || st.Sold != crowd {
		t.Errorf("Redis after buying again: %+v, %v; want stock %d, sold %d", st, err, saleStock-crowd, crowd)
	}
	if _, err := r.buy(ctx, buyers[victim]); !errors.Is(err, seckill.ErrLimit) {
		t.Errorf("a third buy: got %v, want ErrLimit", err)
	}
	waitFor(t, "the second order to be persisted", r.settled(t, crowd, 1))
	checkCalls(t, rec.persistCalls(), append(wantCalls, persistCall{Orders: []string{again}}))
	if got, err := e.Result(ctx, buyers[victim].UserID, again); err != nil || got != seckill.Created {
		t.Errorf("result of the second order: %q, %v; want created", got, err)
	}
	if got, err := e.Result(ctx, buyers[victim].UserID, refused); err != nil || got != seckill.Failed {
		t.Errorf("result of the refused order after buying again: %q, %v; want failed", got, err)
	}
	wantBuyers[uid(victim)] = "1"
	wantOrders[again] = uid(victim)
	checkHash(t, rdb, k+"buyers", wantBuyers)
	checkHash(t, rdb, k+"orders", wantOrders)
	placed := append(slices.Clone(kept), again)
	checkSaleOrders(t, db.Store, sl.ID, placed)
	checkReconciled(t, e, "after buying again")

	// Closing returns exactly the unsold units: the refused one among them.
	rep := r.closeAndCheck(t, placed)
	if !rep.ClosedNow || rep.Returned != saleStock-crowd {
		t.Errorf("close: %+v, want closed now with %d units returned", rep, saleStock-crowd)
	}
	sku, err := db.Store.Catalog.SKUByID(ctx, sl.SKUID)
	if err != nil {
		t.Fatal(err)
	}
	if sku.Stock != skuStock-crowd || sku.Sales != crowd {
		t.Errorf("sku after close: stock %d, sales %d; want %d and %d", sku.Stock, sku.Sales, skuStock-crowd, crowd)
	}
	if n := r.pending(t); n != 0 {
		t.Errorf("%d entries pending after close", n)
	}
	for i, oid := range oids {
		if oid == refused {
			continue
		}
		if got, err := e.Result(ctx, buyers[i].UserID, oid); err != nil || got != seckill.Created {
			t.Errorf("result of buyer %d's order after close: %q, %v; want created", i, got, err)
		}
	}
}

// checkCalls compares the consumer's PersistSeckillOrders calls with want,
// errors by errors.Is.
func checkCalls(t *testing.T, got, want []persistCall) {
	t.Helper()
	norm := func(cs []persistCall) []persistCall {
		out := slices.Clone(cs)
		for i, c := range out {
			if errors.Is(c.Err, models.ErrNotFound) {
				out[i].Err = models.ErrNotFound
			}
		}
		return out
	}
	if diff := cmp.Diff(norm(want), norm(got), cmp.Comparer(func(a, b error) bool { return a == b })); diff != "" {
		t.Errorf("PersistSeckillOrders calls (-want +got):\n%s", diff)
	}
}

// checkSaleOrders checks that the sale's orders are exactly want.
func checkSaleOrders(t *testing.T, st *models.Store, saleID int64, want []string) {
	t.Helper()
	rows, err := st.Sales.SaleOrders(context.Background(), saleID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.OrderID)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(got))); diff != "" {
		t.Errorf("the sale's orders (-want +got):\n%s", diff)
	}
}

func checkHash(t *testing.T, rdb *redis.Client, key string, want map[string]string) {
	t.Helper()
	got, err := rdb.HGetAll(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", key, diff)
	}
}

func checkReconciled(t *testing.T, e *seckill.Engine, when string) {
	t.Helper()
	rep, err := e.Reconcile(context.Background(), false)
	if err != nil {
		t.Fatalf("reconcile %s: %v", when, err)
	}
	if rep.Sales != 1 || len(rep.Diffs) != 0 {
		t.Errorf("reconcile %s: %d sales, differences %v; want 1 sale, none", when, rep.Sales, rep.Diffs)
	}
}

// A flash-sale order the database refused still reads "failed" after its
// sale closes: the result endpoint answers queued, created or failed, and
// a closed sale's keys stay a day so that buyers can still read their
// results (closedTTL).
// (Result once looked only at the live sales, and answered 404 here.)
func TestSeckillFailedResultAfterClose(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		for _, kind := range redisKinds() {
			t.Run(db.Name+"/"+kind, func(t *testing.T) {
				ctx := context.Background()
				r := newRefusal(t, db, kind, seckill.Config{Tick: 20 * time.Millisecond, ClaimIdle: time.Hour}, 10, 4, 2, 1)
				run(t, r.engine)
				waitFor(t, "the batch to be persisted", r.settled(t, 1, 1))
				uid, refused := r.buyers[1].UserID, r.oids[1]
				if got, err := r.engine.Result(ctx, uid, refused); err != nil || got != seckill.Failed {
					t.Fatalf("result of the refused order while the sale is open: %q, %v; want failed", got, err)
				}
				r.closeAndCheck(t, r.oids[:1])
				if got, err := r.engine.Result(ctx, uid, refused); err != nil || got != seckill.Failed {
					t.Errorf("result of the refused order after close: %q, %v; want failed", got, err)
				}
			})
		}
	}
}

// gatedDB holds the first PersistSeckillOrders call until gate closes: a
// consumer that has read a batch and is slow to write it.
type gatedDB struct {
	*models.Sales
	entered chan struct{}
	gate    chan struct{}
	once    sync.Once
}

func (d *gatedDB) PersistSeckillOrders(ctx context.Context, batch []models.SeckillOrder) (models.PersistResult, error) {
	first := false
	d.once.Do(func() { first = true })
	if first {
		close(d.entered)
		select {
		case <-d.gate:
		case <-ctx.Done():
			return models.PersistResult{}, ctx.Err()
		}
	}
	return d.Sales.PersistSeckillOrders(ctx, batch)
}

// A consumer that read a batch and was slow to write it while the sale
// closed (the closer claimed its entries, wrote them and closed the sale)
// leaves those orders alone when it finally writes: they are in the
// database, so none is marked failed and Redis still counts them sold.
// (PersistSeckillOrders once refused the closed sale before it skipped
// the orders already written, and Engine.write then marked each of them
// failed, put its unit back and uncounted its buyer.)
func TestSeckillLateWriteAfterClose(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			const units, crowd = 10, 3
			ctx := context.Background()
			s := openSale(t, db, seckill.Config{}, 20, units, crowd)
			var placed []string
			for _, b := range s.buyers {
				oid, err := s.buy(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				placed = append(placed, oid)
			}
			slow := &gatedDB{Sales: db.Store.Sales, entered: make(chan struct{}), gate: make(chan struct{})}
			// A tick of an hour keeps the consumer running after the sale
			// leaves the live set, as it runs until Run's next round.
			consumer, err := seckill.New(seckill.Config{Redis: s.rdb, DB: slow, Consumer: "slow", Tick: time.Hour, ClaimIdle: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			run(t, consumer)
			waitFor(t, "the consumer to read the batch", func() (bool, string) {
				select {
				case <-slow.entered:
					return true, ""
				default:
					return false, "not yet"
				}
			})
			s.closeAndCheck(t, placed)
			close(slow.gate)
			waitFor(t, "the slow consumer to finish its batch", func() (bool, string) {
				st := consumer.Stats()
				return st.Created+st.Skipped+st.Failed == crowd, fmt.Sprintf("%+v", st)
			})
			if st := consumer.Stats(); st.Failed != 0 {
				t.Errorf("the slow consumer: %+v; want no order failed (all %d are in the database)", st, crowd)
			}
			k := fmt.Sprintf("{seckill:%d}:", s.sale.SKUID)
			if failed, err := s.rdb.HGetAll(ctx, k+"failed").Result(); err != nil || len(failed) != 0 {
				t.Errorf("orders marked failed: %v, %v; want none", failed, err)
			}
			if st, err := s.engine.State(ctx, s.sale.SKUID); err != nil || st.Sold != crowd || st.Stock != units-crowd {
				t.Errorf("Redis for the closed sale: %+v, %v; want sold %d, stock %d", st, err, crowd, units-crowd)
			}
			checkSaleOrders(t, db.Store, s.sale.ID, placed)
		})
	}
}
