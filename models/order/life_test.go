package order_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// Two staff cancel the same order at the same moment: the stock and the
// sales come back exactly once, with one cancel entry per line.
func TestCancelOrderConcurrentTwice(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			staff := db.Staff()
			spu := db.SPU("cancel")
			a, b := db.LedgerSKU(spu, "a", "1.00", 10), db.LedgerSKU(spu, "b", "1.00", 10)
			o := order.New(db.Store, order.Config{Strategy: order.StrategyConditional})
			for round := range 5 {
				ord, err := o.PlaceOrder(context.Background(), order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayOnline,
					Items: []order.Item{{SKUID: a, Count: 2}, {SKUID: b, Count: 1}}})
				if err != nil {
					t.Fatal(err)
				}
				spuSales := db.Int("SELECT sales FROM tb_spu WHERE id = ?", spu)
				errs := make([]error, 4)
				var wg sync.WaitGroup
				for i := range errs {
					wg.Go(func() { errs[i] = o.CancelOrder(context.Background(), ord.OrderID, &staff, "") })
				}
				wg.Wait()
				ok := 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case !errors.Is(err, models.ErrWrongStatus):
						t.Errorf("round %d: cancel: %v", round, err)
					}
				}
				if ok != 1 {
					t.Errorf("round %d: %d cancels succeeded, want 1", round, ok)
				}
				if got := []counters{db.SKUNow(a), db.SKUNow(b)}; !cmp.Equal(got, []counters{{Stock: 10, Sales: 0}, {Stock: 10, Sales: 0}}) {
					t.Errorf("round %d: skus now %+v, want stock 10 and sales 0 each", round, got)
				}
				if got := db.Int("SELECT sales FROM tb_spu WHERE id = ?", spu); got != spuSales-3 {
					t.Errorf("round %d: spu sales %d, want %d", round, got, spuSales-3)
				}
				if got := db.Int("SELECT COUNT(*) FROM tb_stock_ledger WHERE reason = 'cancel' AND order_id = ?", ord.OrderID); got != 2 {
					t.Errorf("round %d: %d cancel entries, want 2", round, got)
				}
			}
			db.LedgerHolds()
		})
	}
}

func TestCancelOrderAndStatusMoves(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			sku := db.LedgerSKU(db.SPU("moves"), "m", "3.00", 100)
			o := order.New(db.Store, order.Config{Strategy: order.StrategyOptimistic})
			place := func(pay int) string {
				t.Helper()
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: pay, Items: []order.Item{{SKUID: sku, Count: 1}}})
				if err != nil {
					t.Fatal(err)
				}
				return got.OrderID
			}
			status := func(id string) int { return db.Int("SELECT status FROM tb_order_info WHERE order_id = ?", id) }
			tests := []struct {
				name    string
				pay     int
				before  []func(string) error
				move    func(string) error
				wantErr error
				want    int
			}{
				{"cancel unpaid", models.PayOnline, nil, func(id string) error { return o.CancelOrder(ctx, id, nil, "") }, nil, models.StatusCanceled},
				{"cancel unsent", models.PayCash, nil, func(id string) error { return o.CancelOrder(ctx, id, nil, "") }, nil, models.StatusCanceled},
				{"cancel shipped", models.PayCash, []func(string) error{func(id string) error { return o.ShipOrder(ctx, id, nil) }},
					func(id string) error { return o.CancelOrder(ctx, id, nil, "") }, models.ErrWrongStatus, models.StatusUnreceived},
				{"ship unsent", models.PayCash, nil, func(id string) error { return o.ShipOrder(ctx, id, nil) }, nil, models.StatusUnreceived},
				{"ship unpaid", models.PayOnline, nil, func(id string) error { return o.ShipOrder(ctx, id, nil) }, models.ErrWrongStatus, models.StatusUnpaid},
				{"complete shipped", models.PayCash, []func(string) error{func(id string) error { return o.ShipOrder(ctx, id, nil) }},
					func(id string) error { return o.CompleteOrder(ctx, id, nil) }, nil, models.StatusFinished},
				{"complete unsent", models.PayCash, nil, func(id string) error { return o.CompleteOrder(ctx, id, nil) }, models.ErrWrongStatus, models.StatusUnsend},
				{"ship twice", models.PayCash, []func(string) error{func(id string) error { return o.ShipOrder(ctx, id, nil) }},
					func(id string) error { return o.ShipOrder(ctx, id, nil) }, models.ErrWrongStatus, models.StatusUnreceived},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					id := place(tc.pay)
					for _, f := range tc.before {
						if err := f(id); err != nil {
							t.Fatal(err)
						}
					}
					stock := db.SKUNow(sku).Stock
					err := tc.move(id)
					if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
						t.Errorf("got error %v, want %v", err, tc.wantErr)
					}
					if got := status(id); got != tc.want {
						t.Errorf("status %d, want %d", got, tc.want)
					}
					wantStock := stock
					if tc.want == models.StatusCanceled {
						wantStock++
					}
					if got := db.SKUNow(sku).Stock; got != wantStock {
						t.Errorf("stock %d, want %d", got, wantStock)
					}
				})
			}
			for _, f := range []func(string) error{
				func(id string) error { return o.CancelOrder(ctx, id, nil, "") },
				func(id string) error { return o.ShipOrder(ctx, id, nil) },
			} {
				if err := f("nope"); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("unknown order: %v, want ErrNotFound", err)
				}
			}
			db.LedgerHolds()
		})
	}
}

// Unpaid online orders past the time are canceled with their stock
// returned; cash orders, paid orders and newer ones stay.
func TestCancelExpireUnpaid(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			sku := db.LedgerSKU(db.SPU("expiry"), "e", "3.00", 100)
			o := order.New(db.Store, order.Config{Strategy: order.StrategyConditional})
			place := func(pay int, age time.Duration) string {
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: pay, Items: []order.Item{{SKUID: sku, Count: 2}}})
				if err != nil {
					t.Fatal(err)
				}
				db.Exec("UPDATE tb_order_info SET create_time = ? WHERE order_id = ?", time.Now().UTC().Add(-age), got.OrderID)
				return got.OrderID
			}
			old1, old2 := place(models.PayOnline, time.Hour), place(models.PayOnline, 31*time.Minute)
			fresh := place(models.PayOnline, time.Minute)
			cash := place(models.PayCash, time.Hour)
			n, err := o.ExpireUnpaid(ctx, 30*time.Minute)
			if err != nil || n != 2 {
				t.Fatalf("ExpireUnpaid = %d, %v; want 2", n, err)
			}
			want := map[string]int{old1: models.StatusCanceled, old2: models.StatusCanceled, fresh: models.StatusUnpaid, cash: models.StatusUnsend}
			for id, st := range want {
				if got := db.Int("SELECT status FROM tb_order_info WHERE order_id = ?", id); got != st {
					t.Errorf("order %s status %d, want %d", id, got, st)
				}
			}
			if got := db.SKUNow(sku); got != (counters{Stock: 96, Sales: 4}) {
				t.Errorf("sku %+v, want stock 96 sales 4", got)
			}
			if n, err := o.ExpireUnpaid(ctx, 30*time.Minute); err != nil || n != 0 {
				t.Errorf("second ExpireUnpaid = %d, %v; want 0", n, err)
			}
			db.LedgerHolds()
		})
	}
}
