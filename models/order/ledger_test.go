package order_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

// Every strategy writes one sale entry per order line, with the buyer,
// the order and the stock right after the sale.
func TestLedgerSaleEntries(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			spu := db.SPU("ledger")
			for _, st := range strategies {
				db.Run(t, string(st), func(t *testing.T, db *shopDB) {
					a, b := db.LedgerSKU(spu, "a", "1.00", 10), db.LedgerSKU(spu, "b", "2.00", 20)
					o := newOrders(t, db.Store, order.Config{Strategy: st})
					ord, err := o.PlaceOrder(context.Background(), order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayCash,
						Items: []order.Item{{SKUID: b, Count: 3}, {SKUID: a, Count: 2}}})
					if err != nil {
						t.Fatal(err)
					}
					for _, tc := range []struct {
						sku          int64
						delta, after int
					}{{a, -2, 8}, {b, -3, 17}} {
						rows := db.Ledger(models.LedgerFilter{SKUID: tc.sku, Reason: models.ReasonSale})
						if len(rows) != 1 {
							t.Fatalf("sku %d: %d sale entries, want 1", tc.sku, len(rows))
						}
						e := rows[0]
						if e.Delta != tc.delta || e.StockAfter != tc.after || e.UserID == nil || *e.UserID != uid || e.OrderID == nil || *e.OrderID != ord.OrderID {
							t.Errorf("sku %d: entry %+v, want delta %d, after %d, user %d, order %s", tc.sku, e.LedgerEntry, tc.delta, tc.after, uid, ord.OrderID)
						}
					}
					db.LedgerHolds()
				})
			}
		})
	}
}

// Staff adjust the stock while many buyers check out the same SKUs with
// every strategy, and orders get canceled: no sale is lost, the ledger
// adds up to the stock, and the order invariants hold.
func TestAdminAdjustStockConcurrentWithCheckouts(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			var buyers [][2]int64
			for range 4 {
				uid, addr := db.Buyer()
				buyers = append(buyers, [2]int64{uid, addr})
			}
			staff := db.Staff()
			spu := db.SPU("busy")
			for _, st := range strategies {
				db.Run(t, string(st), func(t *testing.T, db *shopDB) {
					hot, other := db.LedgerSKU(spu, "hot", "5.00", 60), db.LedgerSKU(spu, "other", "7.00", 40)
					o := newOrders(t, db.Store, order.Config{Strategy: st})
					before := db.Snapshot()
					ctx := context.Background()

					var mu sync.Mutex
					var seen testkit.Outcome
					var placed []string
					adjusted := 0
					var wg sync.WaitGroup
					start := make(chan struct{})
					for i := range 80 {
						wg.Go(func() {
							<-start
							b := buyers[i%len(buyers)]
							items := []order.Item{{SKUID: hot, Count: 1 + i%2}}
							if i%3 == 0 {
								items = append(items, order.Item{SKUID: other, Count: 1})
							}
							got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: b[0], AddressID: b[1], PayMethod: models.PayOnline, Items: items})
							mu.Lock()
							defer mu.Unlock()
							switch {
							case err == nil:
								seen.Placed = append(seen.Placed, got.OrderID)
								placed = append(placed, got.OrderID)
							case errors.Is(err, models.ErrOutOfStock):
								short := map[int64]int{}
								for _, it := range items {
									short[it.SKUID] = it.Count
								}
								seen.Short = append(seen.Short, short)
							case errors.Is(err, models.ErrBusy):
								// Out of time on an overloaded machine: a 503,
								// with no order behind it (the invariants check
								// that none exists).
							default:
								t.Errorf("buyer %d: %v", i, err)
							}
						})
					}
					for i := range 20 {
						wg.Go(func() {
							<-start
							delta := []int{5, -2, 3, -1}[i%4]
							_, err := db.Store.Admin.AdjustStock(ctx, models.Adjustment{SKUID: hot, Delta: delta, StaffID: staff, Note: "recount"})
							mu.Lock()
							defer mu.Unlock()
							switch {
							case err == nil:
								adjusted += delta
							case errors.Is(err, models.ErrOutOfStock) && delta < 0:
							case errors.Is(err, models.ErrBusy): // not applied: the ledger check holds it to that
							default:
								t.Errorf("adjust %d: %v", delta, err)
							}
						})
					}
					close(start)
					wg.Wait()
					if len(placed) == 0 {
						t.Fatal("no order was placed")
					}
					// Cancel some orders, two staff at once each.
					for _, id := range placed[:min(len(placed), 5)] {
						for range 2 {
							wg.Go(func() {
								if err := o.CancelOrder(ctx, id, &staff, ""); err != nil && !errors.Is(err, models.ErrWrongStatus) {
									t.Errorf("cancel %s: %v", id, err)
								}
							})
						}
					}
					wg.Wait()

					db.CheckInvariants(before, seen)
					db.LedgerHolds()
					var adj int
					for _, r := range db.Ledger(models.LedgerFilter{SKUID: hot, Reason: models.ReasonAdjust}) {
						adj += r.Delta
					}
					if adj != adjusted {
						t.Errorf("ledger adjustments add up to %d, the adjustments that succeeded to %d", adj, adjusted)
					}
				})
			}
		})
	}
}
