package order_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

func TestParseStrategy(t *testing.T) {
	tests := []struct {
		in      string
		want    order.Strategy
		wantErr bool
	}{
		{"", order.StrategyOptimistic, false},
		{"optimistic", order.StrategyOptimistic, false},
		{"conditional", order.StrategyConditional, false},
		{"pessimistic", order.StrategyPessimistic, false},
		{"queue", order.StrategyQueue, false},
		{"Optimistic", "", true},
		{"celery", "", true},
	}
	for _, tc := range tests {
		got, err := order.ParseStrategy(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseStrategy(%q) = %q, %v; want %q, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil && !errors.Is(err, models.ErrInvalid) {
			t.Errorf("ParseStrategy(%q) error %v is not ErrInvalid", tc.in, err)
		}
	}
}

// attempt is one buyer's order in a concurrent run.
type attempt struct {
	req order.PlaceRequest
	id  string
	err error
}

// buyAll places every request at once and returns what each buyer was told,
// as an Outcome for CheckInvariants. Errors other than short stock fail the
// test.
func buyAll(t *testing.T, o *order.Orders, reqs []order.PlaceRequest) (testkit.Outcome, []attempt) {
	t.Helper()
	out := make([]attempt, len(reqs))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, r := range reqs {
		wg.Go(func() {
			<-start
			got, err := o.PlaceOrder(context.Background(), r)
			out[i] = attempt{req: r, err: err}
			if err == nil {
				out[i].id = got.OrderID
			}
		})
	}
	close(start)
	wg.Wait()
	var seen testkit.Outcome
	for _, a := range out {
		switch {
		case a.err == nil:
			seen.Placed = append(seen.Placed, a.id)
		case errors.Is(a.err, models.ErrOutOfStock):
			wanted := map[int64]int{}
			for _, it := range a.req.Items {
				wanted[it.SKUID] += it.Count
			}
			seen.Short = append(seen.Short, wanted)
		default:
			t.Errorf("unexpected error: %v", a.err)
		}
	}
	return seen, out
}

// The seed's example: stock 10, buyers of 5 each, all at once.
func TestStrategySeedExample(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			spu := db.SPU("sku 16")
			for _, st := range strategies {
				for _, buyers := range []int{2, 3} {
					sku := db.SKU(spu, "sku", "10.00", 10)
					o := newOrders(t, db.Store, order.Config{Strategy: st})
					reqs := make([]order.PlaceRequest, buyers)
					for i := range reqs {
						reqs[i] = order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: sku, Count: 5}}}
					}
					before := db.Snapshot()
					seen, _ := buyAll(t, o, reqs)
					if len(seen.Placed) != 2 || len(seen.Short) != buyers-2 {
						t.Errorf("%s, %d buyers: %d orders and %d refusals, want 2 and %d", st, buyers, len(seen.Placed), len(seen.Short), buyers-2)
					}
					if got := db.SKUNow(sku); got != (counters{Stock: 0, Sales: 10}) {
						t.Errorf("%s, %d buyers: sku now %+v, want stock 0 sales 10", st, buyers, got)
					}
					db.CheckInvariants(before, seen)
				}
			}
		})
	}
}

// 200 buyers of one unit against a stock of 100: exactly 100 are sold.
func TestStrategyHotSKU(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			var buyers [][2]int64
			for range 4 {
				uid, addr := db.Buyer()
				buyers = append(buyers, [2]int64{uid, addr})
			}
			spu := db.SPU("hot")
			for _, st := range strategies {
				db.Run(t, string(st), func(t *testing.T, db *shopDB) {
					sku := db.SKU(spu, "hot", "99.00", 100)
					o := newOrders(t, db.Store, order.Config{Strategy: st})
					reqs := make([]order.PlaceRequest, 200)
					for i := range reqs {
						b := buyers[i%len(buyers)]
						reqs[i] = order.PlaceRequest{UserID: b[0], AddressID: b[1], PayMethod: 2, Items: []order.Item{{SKUID: sku, Count: 1}}}
					}
					before := db.Snapshot()
					seen, _ := buyAll(t, o, reqs)
					if len(seen.Placed) != 100 || len(seen.Short) != 100 {
						t.Errorf("%d orders and %d refusals, want 100 and 100", len(seen.Placed), len(seen.Short))
					}
					if got := db.SKUNow(sku); got != (counters{Stock: 0, Sales: 100}) {
						t.Errorf("sku now %+v, want stock 0 sales 100", got)
					}
					db.CheckInvariants(before, seen)
				})
			}
		})
	}
}

// Buyers of random subsets of five SKUs, listed in random order, against
// limited stock: every invariant holds, nobody is refused while stock was
// left, and nothing deadlocks.
func TestStrategyRandomOrders(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			var buyers [][2]int64
			for range 4 {
				uid, addr := db.Buyer()
				buyers = append(buyers, [2]int64{uid, addr})
			}
			spus := []int64{db.SPU("a"), db.SPU("b"), db.SPU("c")}
			for _, st := range strategies {
				db.Run(t, string(st), func(t *testing.T, db *shopDB) {
					rng := rand.New(rand.NewPCG(1, uint64(len(st))))
					var skus []int64
					for i := range 5 {
						skus = append(skus, db.SKU(spus[i%len(spus)], "r", []string{"1.10", "2.20", "3.30", "4.40", "5.55"}[i], 8+rng.IntN(10)))
					}
					o := newOrders(t, db.Store, order.Config{Strategy: st})
					reqs := make([]order.PlaceRequest, 50)
					for i := range reqs {
						b := buyers[i%len(buyers)]
						var items []order.Item
						for _, k := range rng.Perm(len(skus))[:1+rng.IntN(len(skus))] {
							items = append(items, order.Item{SKUID: skus[k], Count: 1 + rng.IntN(3)})
						}
						reqs[i] = order.PlaceRequest{UserID: b[0], AddressID: b[1], PayMethod: 1 + rng.IntN(2), Items: items}
					}
					before := db.Snapshot()
					seen, _ := buyAll(t, o, reqs)
					if len(seen.Placed) == 0 {
						t.Errorf("no order placed")
					}
					db.CheckInvariants(before, seen)
				})
			}
		})
	}
}

// BenchmarkStrategyHotSKU: 200 buyers at once on one SKU, one unit each;
// reports orders/s for every strategy and database. Run it without -race:
//
//	go test -run '^$' -bench StrategyHotSKU ./models/order/
func BenchmarkStrategyHotSKU(b *testing.B) {
	for _, db := range orderDBs(b) {
		uid, addr := db.Buyer()
		spu := db.SPU("bench")
		for _, st := range strategies {
			b.Run(db.Name+"/"+string(st), func(b *testing.B) {
				sku := db.SKU(spu, "bench", "1.00", 1_000_000_000)
				o := newOrders(b, db.Store, order.Config{Strategy: st})
				req := order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: sku, Count: 1}}}
				b.SetParallelism(max(1, 200/runtime.GOMAXPROCS(0)))
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := o.PlaceOrder(context.Background(), req); err != nil {
							b.Error(err)
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
			})
		}
	}
}
