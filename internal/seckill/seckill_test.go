package seckill_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// sale is one flash sale under test.
type sale struct {
	db     testenv.DB
	rdb    *redis.Client
	engine *seckill.Engine
	sale   *models.Sale
	before *testkit.Snapshot
	buyers []testkit.Buyer
}

// openSale makes a SKU of skuStock, buyers, an engine on a private Redis,
// and opens a live sale of saleStock units.
func openSale(t *testing.T, db testenv.DB, cfg seckill.Config, skuStock, saleStock, buyers int) *sale {
	t.Helper()
	ctx := context.Background()
	rdb, _ := testenv.Redis(t)
	cfg.Redis, cfg.DB = rdb, db.Store.Sales
	if cfg.DB == nil || cfg.Redis == nil {
		t.Fatal("no database or Redis")
	}
	e, err := seckill.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := testkit.CreateBenchSKUs(ctx, db.Store, "sk", 1, skuStock, decimal.RequireFromString("99.00"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := testkit.CreateBuyers(ctx, db.Store, fmt.Sprintf("sk%d", time.Now().UnixNano()%1e9), testenv.Password, buyers)
	if err != nil {
		t.Fatal(err)
	}
	before, err := testkit.TakeSnapshot(ctx, db.Store)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Open(ctx, models.SaleInput{SKUID: ids[0], Stock: saleStock, Price: decimal.RequireFromString("1.99"),
		PerUser: 1, Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return &sale{db: db, rdb: rdb, engine: e, sale: s, before: before, buyers: bs}
}

// buy buys for b until the answer is not "busy", as a shopper's retry
// would.
func (s *sale) buy(ctx context.Context, b testkit.Buyer) (string, error) {
	for {
		oid, err := s.engine.Buy(ctx, s.sale.SKUID, b.UserID, b.AddressID)
		if !errors.Is(err, models.ErrBusy) {
			return oid, err
		}
	}
}

// run starts the engine's workers for the test's lifetime.
func run(t *testing.T, e *seckill.Engine) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// closeAndCheck closes the sale and checks every invariant against what
// the buyers were told.
func (s *sale) closeAndCheck(t *testing.T, placed []string) *seckill.CloseReport {
	t.Helper()
	ctx := context.Background()
	rep, err := s.engine.Close(ctx, s.sale.ID)
	if err != nil {
		t.Fatalf("close: %v", err)
	}
	if rep.Sale.Sold != len(placed) || rep.RedisSold != len(placed) {
		t.Errorf("sold: database %d, Redis %d, buyers told %d", rep.Sale.Sold, rep.RedisSold, len(placed))
	}
	if want := s.sale.Stock - len(placed); rep.ClosedNow && rep.Returned != want {
		t.Errorf("returned %d units, want %d", rep.Returned, want)
	}
	bad, err := testkit.CheckInvariants(ctx, s.db.Store, s.before, testkit.Outcome{Placed: placed})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range bad {
		t.Errorf("invariant: %s", v)
	}
	if m, err := s.db.Store.Ledger.LedgerMismatches(ctx); err != nil || len(m) > 0 {
		t.Errorf("ledger mismatches %v, %v", m, err)
	}
	return rep
}

// 1,000 buyers for 100 units: exactly 100 orders, no user twice, stock
// never below 0, and the unsold units back at close. The Lua strategy runs
// on every database; the comparison strategies, whose difference is all in
// Redis, on the first only (the lock's crowd takes seconds).
func TestSeckillCrowd(t *testing.T) {
	for i, db := range testenv.Databases(t) {
		strategies := []seckill.Strategy{seckill.StrategyLua, seckill.StrategyWatch, seckill.StrategyLock}
		if i > 0 {
			strategies = strategies[:1]
		}
		for _, strategy := range strategies {
			t.Run(db.Name+"/"+string(strategy), func(t *testing.T) {
				const units, crowd = 100, 1000
				s := openSale(t, db, seckill.Config{Strategy: strategy, Tick: 50 * time.Millisecond}, 300, units, crowd)
				run(t, s.engine)
				ctx := context.Background()
				var minStock atomic.Int64
				minStock.Store(units)
				stop := make(chan struct{})
				watched := make(chan struct{})
				go func() {
					defer close(watched)
					for {
						select {
						case <-stop:
							return
						default:
						}
						if st, err := s.engine.State(ctx, s.sale.SKUID); err == nil && int64(st.Stock) < minStock.Load() {
							minStock.Store(int64(st.Stock))
						}
					}
				}()
				var mu sync.Mutex
				var placed []string
				refused := map[error]int{}
				var wg sync.WaitGroup
				for _, b := range s.buyers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						oid, err := s.buy(ctx, b)
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							refused[err]++
							return
						}
						placed = append(placed, oid)
					}()
				}
				wg.Wait()
				close(stop)
				<-watched
				if len(placed) != units {
					t.Errorf("%d buys succeeded, want %d (refused: %v)", len(placed), units, refused)
				}
				for err := range refused {
					if !errors.Is(err, seckill.ErrSoldOut) {
						t.Errorf("refused with %v, want only sold out", err)
					}
				}
				if m := minStock.Load(); m < 0 {
					t.Errorf("Redis stock went down to %d", m)
				}
				st, err := s.engine.State(ctx, s.sale.SKUID)
				if err != nil || st.Stock != 0 || st.Sold != units {
					t.Errorf("Redis after: %+v, %v; want stock 0, sold %d", st, err, units)
				}
				s.closeAndCheck(t, placed)
				orders, err := db.Store.Sales.SaleOrders(ctx, s.sale.ID)
				if err != nil {
					t.Fatal(err)
				}
				users := map[int64]bool{}
				for _, o := range orders {
					if users[o.UserID] {
						t.Errorf("user %d has two orders", o.UserID)
					}
					users[o.UserID] = true
				}
			})
		}
	}
}

// One user firing 50 buys at once gets exactly one order.
func TestSeckillOneUserBurst(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		for _, strategy := range []seckill.Strategy{seckill.StrategyLua, seckill.StrategyWatch, seckill.StrategyLock} {
			t.Run(db.Name+"/"+string(strategy), func(t *testing.T) {
				s := openSale(t, db, seckill.Config{Strategy: strategy}, 10, 10, 1)
				var ok, limited atomic.Int32
				var wg sync.WaitGroup
				for range 50 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						_, err := s.buy(context.Background(), s.buyers[0])
						switch {
						case err == nil:
							ok.Add(1)
						case errors.Is(err, seckill.ErrLimit):
							limited.Add(1)
						default:
							t.Errorf("buy: %v", err)
						}
					}()
				}
				wg.Wait()
				if ok.Load() != 1 || limited.Load() != 49 {
					t.Errorf("got %d bought and %d refused for the limit, want 1 and 49", ok.Load(), limited.Load())
				}
			})
		}
	}
}

func TestSeckillRefusals(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	ctx := context.Background()
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	s := openSale(t, db, seckill.Config{Now: clock}, 10, 2, 3)
	if _, err := s.engine.Buy(ctx, s.sale.SKUID+1000, s.buyers[0].UserID, s.buyers[0].AddressID); !errors.Is(err, seckill.ErrNoSale) {
		t.Errorf("another sku: got %v, want ErrNoSale", err)
	}
	now.Store(s.sale.StartTime.Add(-time.Second).UnixNano())
	if _, err := s.engine.Buy(ctx, s.sale.SKUID, s.buyers[0].UserID, s.buyers[0].AddressID); !errors.Is(err, seckill.ErrNotStarted) {
		t.Errorf("before the start: got %v, want ErrNotStarted", err)
	}
	now.Store(time.Now().UnixNano())
	for i, want := range []error{nil, seckill.ErrLimit} {
		if _, err := s.engine.Buy(ctx, s.sale.SKUID, s.buyers[0].UserID, s.buyers[0].AddressID); !errors.Is(err, want) {
			t.Errorf("buy %d of user 0: got %v, want %v", i, err, want)
		}
	}
	if _, err := s.engine.Buy(ctx, s.sale.SKUID, s.buyers[1].UserID, s.buyers[1].AddressID); err != nil {
		t.Errorf("last unit: %v", err)
	}
	if _, err := s.engine.Buy(ctx, s.sale.SKUID, s.buyers[2].UserID, s.buyers[2].AddressID); !errors.Is(err, seckill.ErrSoldOut) {
		t.Errorf("after the last unit: got %v, want ErrSoldOut", err)
	}
	if !s.engine.SoldOut(s.sale.SKUID) {
		t.Error("SoldOut is false after Redis said sold out")
	}
	now.Store(s.sale.EndTime.Add(time.Second).UnixNano())
	if s.engine.SoldOut(s.sale.SKUID) {
		t.Error("the in-memory sold-out answer outlived SoldOutFor")
	}
	if _, err := s.engine.Buy(ctx, s.sale.SKUID, s.buyers[2].UserID, s.buyers[2].AddressID); !errors.Is(err, seckill.ErrEnded) {
		t.Errorf("after the end: got %v, want ErrEnded", err)
	}
}

// crashingDB is the database of a consumer that dies during a batch: the
// first call to PersistSeckillOrders writes (or not) and then the
// consumer's context is canceled before it can acknowledge anything.
type crashingDB struct {
	*models.Sales
	commit bool
	kill   context.CancelFunc
	calls  atomic.Int32
}

func (c *crashingDB) PersistSeckillOrders(ctx context.Context, batch []models.SeckillOrder) (models.PersistResult, error) {
	if c.calls.Add(1) > 1 {
		<-ctx.Done()
		return models.PersistResult{}, ctx.Err()
	}
	if c.commit {
		if _, err := c.Sales.PersistSeckillOrders(ctx, batch); err != nil {
			return models.PersistResult{}, err
		}
	}
	c.kill()
	return models.PersistResult{}, errors.New("killed mid-batch")
}

// A consumer killed mid-batch, after the commit or before it, and another
// that takes over: no order lost, none written twice.
func TestSeckillConsumerCrash(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		for _, commit := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/committed=%v", db.Name, commit), func(t *testing.T) {
				ctx := context.Background()
				s := openSale(t, db, seckill.Config{}, 100, 50, 40)
				var placed []string
				for _, b := range s.buyers {
					oid, err := s.buy(ctx, b)
					if err != nil {
						t.Fatal(err)
					}
					placed = append(placed, oid)
				}
				dead, kill := context.WithCancel(ctx)
				crash := &crashingDB{Sales: db.Store.Sales, commit: commit, kill: kill}
				first, err := seckill.New(seckill.Config{Redis: s.rdb, DB: crash, Consumer: "first", Batch: 15, Tick: 20 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				first.Run(dead) // returns once killed
				second, err := seckill.New(seckill.Config{Redis: s.rdb, DB: db.Store.Sales, Consumer: "second",
					Batch: 15, Tick: 20 * time.Millisecond, ClaimIdle: 50 * time.Millisecond})
				if err != nil {
					t.Fatal(err)
				}
				run(t, second)
				for {
					st := second.Stats()
					if st.Created+st.Skipped >= len(placed) {
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				st := second.Stats()
				wantCreated := len(placed)
				if commit {
					wantCreated -= 15
				}
				if st.Created != wantCreated || st.Failed != 0 {
					t.Errorf("second consumer: %+v, want %d created, none failed", st, wantCreated)
				}
				for _, oid := range placed {
					got, err := second.Result(ctx, 0, oid)
					if err == nil || got != "" {
						t.Errorf("someone else's order %s: got %q, %v", oid, got, err)
					}
				}
				s.closeAndCheck(t, placed)
			})
		}
	}
}

// The sale closes exactly once, however many closers race, and gives back
// exactly the unsold units.
func TestSeckillCloseReturnsUnsold(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			s := openSale(t, db, seckill.Config{}, 500, 100, 37)
			run(t, s.engine)
			var placed []string
			for _, b := range s.buyers {
				oid, err := s.buy(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				placed = append(placed, oid)
			}
			var wg sync.WaitGroup
			var closedNow atomic.Int32
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					rep, err := s.engine.Close(ctx, s.sale.ID)
					switch {
					case errors.Is(err, seckill.ErrLocked):
					case err != nil:
						t.Errorf("close: %v", err)
					case rep.ClosedNow:
						closedNow.Add(1)
					}
				}()
			}
			wg.Wait()
			if closedNow.Load() != 1 {
				t.Errorf("%d closers closed the sale, want 1", closedNow.Load())
			}
			k, err := db.Store.Catalog.SKUByID(ctx, s.sale.SKUID)
			if err != nil {
				t.Fatal(err)
			}
			if want := 500 - len(placed); k.Stock != want || k.Sales != len(placed) {
				t.Errorf("sku after close: stock %d, sales %d; want %d and %d", k.Stock, k.Sales, want, len(placed))
			}
			rep := s.closeAndCheck(t, placed) // a closed sale: nothing more returns
			if rep.ClosedNow || rep.Returned != 0 {
				t.Errorf("closing again: %+v", rep)
			}
			for i, oid := range placed[:3] {
				if got, err := s.engine.Result(ctx, s.buyers[i].UserID, oid); err != nil || got != seckill.Created {
					t.Errorf("result of %s: %q, %v; want created", oid, got, err)
				}
			}
			if _, err := s.engine.Buy(ctx, s.sale.SKUID, s.buyers[0].UserID+1e6, 1); !errors.Is(err, seckill.ErrEnded) {
				t.Errorf("buy after close: got %v, want ErrEnded", err)
			}
		})
	}
}

// Reconciliation finds differences injected into Redis, repairs them,
// and then finds none.
func TestSeckillReconcile(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			s := openSale(t, db, seckill.Config{}, 100, 20, 8)
			run(t, s.engine)
			var placed []string
			for _, b := range s.buyers[:6] {
				oid, err := s.buy(ctx, b)
				if err != nil {
					t.Fatal(err)
				}
				placed = append(placed, oid)
			}
			for s.engine.Stats().Created < len(placed) {
				time.Sleep(10 * time.Millisecond)
			}
			rep, err := s.engine.Reconcile(ctx, false)
			if err != nil || len(rep.Diffs) != 0 {
				t.Fatalf("before any injection: %+v, %v", rep, err)
			}
			p := "{seckill:" + fmt.Sprint(s.sale.SKUID) + "}:"
			uid := fmt.Sprint(s.buyers[7].UserID)
			s.rdb.HIncrBy(ctx, p+"sale", "sold", 3)                              // three units sold too many
			s.rdb.HIncrBy(ctx, p+"sale", "stock", -2)                            // two units gone
			s.rdb.HDel(ctx, p+"buyers", fmt.Sprint(s.buyers[0].UserID))          // a buyer forgotten
			s.rdb.HSet(ctx, p+"orders", "20990101000000000000000100000000", uid) // an order with no trace
			rep, err = s.engine.Reconcile(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]int{}
			for _, d := range rep.Diffs {
				kinds[d.Kind]++
			}
			want := map[string]int{"sold": 1, "stock": 1, "buyer": 1, "lost": 1}
			for k, n := range want {
				if kinds[k] != n {
					t.Errorf("found %v, want %v:\n%v", kinds, want, rep.Diffs)
					break
				}
			}
			if rep, err = s.engine.Reconcile(ctx, true); err != nil || len(rep.Diffs) == 0 {
				t.Fatalf("repair: %+v, %v", rep, err)
			}
			if rep, err = s.engine.Reconcile(ctx, false); err != nil || len(rep.Diffs) != 0 {
				t.Errorf("after the repair: %v, %v", rep.Diffs, err)
			}
			st, _ := s.engine.State(ctx, s.sale.SKUID)
			if st.Sold != len(placed) || st.Stock != 20-len(placed) {
				t.Errorf("Redis after the repair: %+v", st)
			}
			s.closeAndCheck(t, placed)
		})
	}
}

// slowDB makes reconciliation wait, so that it outlives the lock's expiry.
type slowDB struct {
	*models.Sales
	entered chan struct{}
	release chan struct{}
}

func (d *slowDB) OpenSales(ctx context.Context) ([]models.Sale, error) {
	d.entered <- struct{}{}
	<-d.release
	return d.Sales.OpenSales(ctx)
}

// Only one reconciler runs at a time, even when its work outlives the
// lock's expiry: the owner extends it.
func TestSeckillMaintenanceLock(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	rdb, _ := testenv.Redis(t)
	slow := &slowDB{Sales: db.Store.Sales, entered: make(chan struct{}), release: make(chan struct{})}
	const expiry = 300 * time.Millisecond
	a, _ := seckill.New(seckill.Config{Redis: rdb, DB: slow, LockExpiry: expiry})
	b, _ := seckill.New(seckill.Config{Redis: rdb, DB: db.Store.Sales, LockExpiry: expiry})
	done := make(chan error)
	go func() {
		_, err := a.Reconcile(context.Background(), false)
		done <- err
	}()
	<-slow.entered
	time.Sleep(3 * expiry) // past the expiry: only extensions keep the lock
	if _, err := b.Reconcile(context.Background(), false); !errors.Is(err, seckill.ErrLocked) {
		t.Errorf("second reconciler while the first runs: got %v, want ErrLocked", err)
	}
	close(slow.release)
	if err := <-done; err != nil {
		t.Fatalf("first reconciler: %v", err)
	}
	if _, err := b.Reconcile(context.Background(), false); err != nil {
		t.Errorf("after the first one: %v", err)
	}
}
