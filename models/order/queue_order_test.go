package order_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

// waitFor polls until cond holds; the queue tests use it to know that
// their buyers are waiting in the queue.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for i := 0; !cond(); i++ {
		if i > 10_000 {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type placed struct {
	order *models.Order
	err   error
}

// placeAsync starts a commit and returns where its answer will arrive.
func placeAsync(ctx context.Context, o *order.Orders, req order.PlaceRequest) <-chan placed {
	ch := make(chan placed, 1)
	go func() {
		got, err := o.PlaceOrder(ctx, req)
		ch <- placed{got, err}
	}()
	return ch
}

// startWorker runs the queue worker until the returned stop is called.
func startWorker(t *testing.T, o *order.Orders) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

func TestQueueOrders(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			spu := db.SPU("q")
			buy := func(sku int64, n int) order.PlaceRequest {
				return order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: sku, Count: n}}}
			}

			db.Run(t, "full queue is busy", func(t *testing.T, db *shopDB) {
				sku := db.SKU(spu, "q", "1.00", 10)
				o := order.New(db.Store, order.Config{Strategy: order.StrategyQueue, QueueSize: 2})
				a, b := placeAsync(context.Background(), o, buy(sku, 1)), placeAsync(context.Background(), o, buy(sku, 1))
				waitFor(t, "two waiting commits", func() bool { return o.Waiting() == 2 })
				if _, err := o.PlaceOrder(context.Background(), buy(sku, 1)); !errors.Is(err, models.ErrBusy) {
					t.Errorf("third commit on a full queue: %v, want ErrBusy", err)
				}
				startWorker(t, o)
				for _, ch := range []<-chan placed{a, b} {
					if r := <-ch; r.err != nil {
						t.Errorf("waiting commit: %v", r.err)
					}
				}
				if got := db.SKUNow(sku); got != (counters{Stock: 8, Sales: 2}) {
					t.Errorf("sku now %+v, want stock 8 sales 2", got)
				}
			})

			db.Run(t, "a buyer gone before the worker is skipped", func(t *testing.T, db *shopDB) {
				sku := db.SKU(spu, "q", "1.00", 10)
				o := order.New(db.Store, order.Config{Strategy: order.StrategyQueue})
				ctx, cancel := context.WithCancel(context.Background())
				gone := placeAsync(ctx, o, buy(sku, 3))
				waitFor(t, "the waiting commit", func() bool { return o.Waiting() == 1 })
				cancel()
				if r := <-gone; !errors.Is(r.err, models.ErrBusy) {
					t.Errorf("abandoned commit: %v, want ErrBusy", r.err)
				}
				startWorker(t, o)
				// The queue is first in, first out: once this one is
				// answered, the worker has been past the gone one.
				if _, err := o.PlaceOrder(context.Background(), buy(sku, 1)); err != nil {
					t.Fatal(err)
				}
				if got := db.SKUNow(sku); got != (counters{Stock: 9, Sales: 1}) || db.Int("SELECT COUNT(*) FROM tb_order_goods WHERE sku_id = ?", sku) != 1 {
					t.Errorf("sku now %+v, want only the second order (stock 9 sales 1)", got)
				}
			})

			db.Run(t, "stopping answers the waiting", func(t *testing.T, db *shopDB) {
				sku := db.SKU(spu, "q", "1.00", 10)
				o := order.New(db.Store, order.Config{Strategy: order.StrategyQueue})
				a, b := placeAsync(context.Background(), o, buy(sku, 1)), placeAsync(context.Background(), o, buy(sku, 1))
				waitFor(t, "two waiting commits", func() bool { return o.Waiting() == 2 })
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				if err := o.Run(ctx); err != nil {
					t.Fatalf("Run: %v", err)
				}
				for _, ch := range []<-chan placed{a, b} {
					if r := <-ch; !errors.Is(r.err, models.ErrBusy) {
						t.Errorf("commit waiting at stop: %v, want ErrBusy", r.err)
					}
				}
				if _, err := o.PlaceOrder(context.Background(), buy(sku, 1)); !errors.Is(err, models.ErrBusy) {
					t.Errorf("commit after stop: %v, want ErrBusy", err)
				}
				if err := o.Run(context.Background()); err == nil {
					t.Errorf("second Run: no error")
				}
				if got := db.SKUNow(sku); got != (counters{Stock: 10, Sales: 0}) {
					t.Errorf("sku now %+v, want untouched", got)
				}
			})

			// One batch, one transaction: a short stock and a database
			// fault roll back their own savepoints only.
			db.Run(t, "batch", func(t *testing.T, db *shopDB) {
				sku := db.SKU(spu, "q", "2.00", 5)
				cursed := db.SKU(spu, "cursed", "1.00", 5)
				failLinesOf(db, cursed)
				o := order.New(db.Store, order.Config{Strategy: order.StrategyQueue})
				before := db.Snapshot()
				reqs := []order.PlaceRequest{buy(sku, 3), buy(cursed, 1), buy(sku, 3), buy(sku, 2)}
				var answers []<-chan placed
				for i, r := range reqs {
					answers = append(answers, placeAsync(context.Background(), o, r))
					waitFor(t, fmt.Sprintf("commit %d waiting", i), func() bool { return o.Waiting() == i+1 })
				}
				startWorker(t, o)
				var seen testkit.Outcome
				for i, ch := range answers {
					r := <-ch
					switch i {
					case 0, 3:
						if r.err != nil {
							t.Errorf("commit %d: %v", i, r.err)
							continue
						}
						seen.Placed = append(seen.Placed, r.order.OrderID)
					case 1:
						if r.err == nil || errors.Is(r.err, models.ErrBusy) {
							t.Errorf("commit %d with the fault: %v, want the database's error", i, r.err)
						}
					case 2:
						if !errors.Is(r.err, models.ErrOutOfStock) {
							t.Errorf("commit %d: %v, want ErrOutOfStock", i, r.err)
						}
						seen.Short = append(seen.Short, map[int64]int{sku: 3})
					}
				}
				if got := db.SKUNow(sku); got != (counters{Stock: 0, Sales: 5}) {
					t.Errorf("sku now %+v, want stock 0 sales 5", got)
				}
				if got := db.SKUNow(cursed); got != (counters{Stock: 5, Sales: 0}) {
					t.Errorf("faulty sku now %+v, want untouched", got)
				}
				db.CheckInvariants(before, seen)
			})
		})
	}
}
