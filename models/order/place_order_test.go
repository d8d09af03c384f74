package order_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

func TestPlaceOrderOneBuyer(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			uid, addr := db.Buyer()
			_, otherAddr := db.Buyer()
			spu := db.SPU("phone")
			spu2 := db.SPU("case")
			phone := db.SKU(spu, "phone red", "1999.90", 100)
			phone2 := db.SKU(spu, "phone blue", "2000.00", 100)
			caseSKU := db.SKU(spu2, "case", "0.05", 10)
			gone := db.SKU(spu2, "withdrawn", "1.00", 5)
			db.Exec("UPDATE tb_sku SET is_launched = ? WHERE id = ?", false, gone)
			deleted := db.Insert("tb_address", "create_time, update_time, user_id, title, receiver, province, city, district, place, mobile, tel, email, is_deleted",
				time.Now().UTC(), time.Now().UTC(), uid, "", "李四", "省", "市", "区", "路", "13900000000", "", "", true)

			for _, st := range strategies {
				o := newOrders(t, db.Store, order.Config{Strategy: st})
				tests := []struct {
					name    string
					req     order.PlaceRequest
					wantErr error
					// for a placed order
					wantStatus int
					wantCount  int
					wantAmount string
				}{
					{name: "cash on delivery", req: order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayCash, Items: []order.Item{{SKUID: phone, Count: 2}}},
						wantStatus: models.StatusUnsend, wantCount: 2, wantAmount: "4009.80"},
					{name: "online, several SKUs in any order", req: order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayOnline,
						Items: []order.Item{{SKUID: caseSKU, Count: 1}, {SKUID: phone2, Count: 1}, {SKUID: phone, Count: 1}}},
						wantStatus: models.StatusUnpaid, wantCount: 3, wantAmount: "4009.95"},
					{name: "pay method 3", req: order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 3, Items: []order.Item{{SKUID: phone, Count: 1}}}, wantErr: models.ErrInvalid},
					{name: "count 0", req: order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: phone, Count: 0}}}, wantErr: models.ErrInvalid},
					{name: "nothing selected", req: order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1}, wantErr: models.ErrEmptySelect},
					{name: "someone else's address", req: order.PlaceRequest{UserID: uid, AddressID: otherAddr, PayMethod: 1, Items: []order.Item{{SKUID: phone, Count: 1}}}, wantErr: models.ErrNotFound},
					{name: "deleted address", req: order.PlaceRequest{UserID: uid, AddressID: deleted, PayMethod: 1, Items: []order.Item{{SKUID: phone, Count: 1}}}, wantErr: models.ErrNotFound},
					{name: "withdrawn SKU", req: order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: phone, Count: 1}, {SKUID: gone, Count: 1}}}, wantErr: models.ErrNotLaunched},
					{name: "unknown SKU", req: order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: 999999, Count: 1}}}, wantErr: models.ErrNotLaunched},
					{name: "short stock", req: order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: phone, Count: 1}, {SKUID: caseSKU, Count: 11}}}, wantErr: models.ErrOutOfStock},
					{name: "token too long", req: order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Token: string(make([]byte, 65)), Items: []order.Item{{SKUID: phone, Count: 1}}}, wantErr: models.ErrInvalid},
				}
				for _, tc := range tests {
					t.Run(string(st)+"/"+tc.name, func(t *testing.T) {
						before := db.Snapshot()
						ordersBefore := db.Orders()
						got, err := o.PlaceOrder(ctx, tc.req)
						if tc.wantErr != nil {
							if !errors.Is(err, tc.wantErr) {
								t.Fatalf("PlaceOrder error = %v, want %v", err, tc.wantErr)
							}
							if n := db.Orders(); n != ordersBefore {
								t.Errorf("orders %d -> %d after a refused commit", ordersBefore, n)
							}
							db.CheckInvariants(before, testkit.Outcome{})
							return
						}
						if err != nil {
							t.Fatalf("PlaceOrder: %v", err)
						}
						if got.Status != tc.wantStatus || got.TotalCount != tc.wantCount || got.TotalAmount.StringFixed(2) != tc.wantAmount || !got.Freight.Equal(decimal.RequireFromString("10")) {
							t.Errorf("order status %d, count %d, amount %s, freight %s; want %d, %d, %s, 10.00",
								got.Status, got.TotalCount, got.TotalAmount.StringFixed(2), got.Freight, tc.wantStatus, tc.wantCount, tc.wantAmount)
						}
						stored, err := o.OrderOf(ctx, uid, got.OrderID)
						if err != nil {
							t.Fatal(err)
						}
						if stored.TotalCount != got.TotalCount || !stored.TotalAmount.Equal(got.TotalAmount) || len(stored.Lines) != len(tc.req.Items) {
							t.Errorf("stored order %+v differs from the answer %+v", stored, got)
						}
						db.CheckInvariants(before, testkit.Outcome{Placed: []string{got.OrderID}})
					})
				}
			}
		})
	}
}

func TestPlaceOrderOutOfStockNamesTheSKU(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			spu := db.SPU("s")
			a := db.SKU(spu, "plenty", "1.00", 50)
			b := db.SKU(spu, "scarce", "1.00", 2)
			for _, st := range strategies {
				o := newOrders(t, db.Store, order.Config{Strategy: st})
				_, err := o.PlaceOrder(context.Background(), order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1,
					Items: []order.Item{{SKUID: a, Count: 1}, {SKUID: b, Count: 3}}})
				var se *models.StockError
				if !errors.As(err, &se) || !errors.Is(err, models.ErrOutOfStock) {
					t.Fatalf("%s: error %v, want a *StockError", st, err)
				}
				want := models.StockError{SKUID: b, Name: "scarce", Wanted: 3, Left: 2}
				if diff := cmp.Diff(want, *se); diff != "" {
					t.Errorf("%s: StockError (-want +got):\n%s", st, diff)
				}
				if got := db.SKUNow(a); got != (counters{Stock: 50, Sales: 0}) {
					t.Errorf("%s: the SKU that had stock changed to %+v", st, got)
				}
			}
		})
	}
}

// The SPU's sales are added per SPU, atomically, once for all its SKUs.
func TestPlaceOrderSPUSales(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			p1, p2 := db.SPU("one"), db.SPU("two")
			a, b, c := db.SKU(p1, "a", "1.00", 10), db.SKU(p1, "b", "2.00", 10), db.SKU(p2, "c", "3.00", 10)
			db.Exec("UPDATE tb_spu SET sales = 7 WHERE id = ?", p1)
			for _, st := range strategies {
				o := newOrders(t, db.Store, order.Config{Strategy: st})
				_, err := o.PlaceOrder(context.Background(), order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 2,
					Items: []order.Item{{SKUID: c, Count: 1}, {SKUID: b, Count: 2}, {SKUID: a, Count: 1}}})
				if err != nil {
					t.Fatalf("%s: %v", st, err)
				}
			}
			n := len(strategies)
			if got, want := db.Int("SELECT sales FROM tb_spu WHERE id = ?", p1), 7+3*n; got != want {
				t.Errorf("spu one sales %d, want %d", got, want)
			}
			if got, want := db.Int("SELECT sales FROM tb_spu WHERE id = ?", p2), n; got != want {
				t.Errorf("spu two sales %d, want %d", got, want)
			}
		})
	}
}

func TestPlaceOrderIdempotentToken(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			uid, addr := db.Buyer()
			other, otherAddr := db.Buyer()
			sku := db.SKU(db.SPU("s"), "s", "5.00", 1000)
			for _, st := range strategies {
				o := newOrders(t, db.Store, order.Config{Strategy: st})
				req := order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Token: "tok-" + string(st), Items: []order.Item{{SKUID: sku, Count: 2}}}

				before := db.Snapshot()
				first, err := o.PlaceOrder(ctx, req)
				if err != nil {
					t.Fatalf("%s: first commit: %v", st, err)
				}
				// The replay finds the cart emptied by the first commit.
				replay := req
				replay.Items = nil
				again, err := o.PlaceOrder(ctx, replay)
				if err != nil {
					t.Fatalf("%s: replay: %v", st, err)
				}
				if again.OrderID != first.OrderID || len(again.Lines) != 1 {
					t.Errorf("%s: replay answered order %s with %d lines, want %s with 1", st, again.OrderID, len(again.Lines), first.OrderID)
				}
				// Another user's same token is another order.
				theirs, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: other, AddressID: otherAddr, PayMethod: 1, Token: req.Token, Items: req.Items})
				if err != nil {
					t.Fatalf("%s: other user's commit: %v", st, err)
				}
				db.CheckInvariants(before, testkit.Outcome{Placed: []string{first.OrderID, again.OrderID, theirs.OrderID}, Replays: true})

				// Concurrent double (octuple) post.
				before = db.Snapshot()
				req.Token = "concurrent-" + string(st)
				ids := make([]string, 8)
				errs := make([]error, 8)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range ids {
					wg.Go(func() {
						<-start
						o, err := o.PlaceOrder(ctx, req)
						if err == nil {
							ids[i] = o.OrderID
						}
						errs[i] = err
					})
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Fatalf("%s: post %d: %v", st, i, err)
					}
					if ids[i] != ids[0] {
						t.Errorf("%s: post %d got order %s, post 0 got %s", st, i, ids[i], ids[0])
					}
				}
				db.CheckInvariants(before, testkit.Outcome{Placed: ids, Replays: true})
			}
		})
	}
}

func TestPlaceOrderIDsUnique(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			uid, addr := db.Buyer()
			sku := db.SKU(db.SPU("s"), "s", "1.00", 1000)
			req := order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: sku, Count: 1}}}

			t.Run("one user, many at once", func(t *testing.T) {
				before := db.Snapshot()
				o := newOrders(t, db.Store, order.Config{})
				const n = 30
				ids := make([]string, n)
				var wg sync.WaitGroup
				var mu sync.Mutex
				var failed []error
				for i := range n {
					wg.Go(func() {
						got, err := o.PlaceOrder(ctx, req)
						if err != nil {
							mu.Lock()
							failed = append(failed, err)
							mu.Unlock()
							return
						}
						ids[i] = got.OrderID
					})
				}
				wg.Wait()
				if len(failed) > 0 {
					t.Fatalf("%d of %d commits failed, first: %v", len(failed), n, failed[0])
				}
				seen := map[string]bool{}
				for _, id := range ids {
					if seen[id] {
						t.Errorf("order id %s given twice", id)
					}
					seen[id] = true
				}
				db.CheckInvariants(before, testkit.Outcome{Placed: ids})
			})

			// The primary key is the final guard: a colliding id is
			// replaced, the first order is left alone.
			t.Run("colliding id", func(t *testing.T) {
				before := db.Snapshot()
				var mu sync.Mutex
				calls := 0
				o := newOrders(t, db.Store, order.Config{OrderID: func(uid int64, now time.Time) string {
					mu.Lock()
					defer mu.Unlock()
					calls++
					if calls <= 3 {
						return "collide"
					}
					return fmt.Sprintf("collide-%d", calls)
				}})
				first, err := o.PlaceOrder(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				second, err := o.PlaceOrder(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if first.OrderID != "collide" || second.OrderID != "collide-4" {
					t.Errorf("order ids %s and %s, want collide and collide-4", first.OrderID, second.OrderID)
				}
				db.CheckInvariants(before, testkit.Outcome{Placed: []string{first.OrderID, second.OrderID}})
			})
		})
	}
}

// A database failure in the middle of the commit leaves nothing behind: a
// trigger refuses the order line of one SKU, after the header is written.
func TestPlaceOrderFaultLeavesNothing(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			spu := db.SPU("s")
			fine := db.SKU(spu, "fine", "1.00", 10)
			cursed := db.SKU(spu, "cursed", "1.00", 10)
			failLinesOf(db, cursed)
			for _, st := range strategies {
				o := newOrders(t, db.Store, order.Config{Strategy: st})
				before := db.Snapshot()
				_, err := o.PlaceOrder(context.Background(), order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Token: "t-" + string(st),
					Items: []order.Item{{SKUID: fine, Count: 2}, {SKUID: cursed, Count: 1}}})
				if err == nil {
					t.Fatalf("%s: the commit succeeded despite the fault", st)
				}
				if db.Orders() != 0 || db.Lines() != 0 {
					t.Errorf("%s: %d orders and %d lines left after the fault", st, db.Orders(), db.Lines())
				}
				for _, id := range []int64{fine, cursed} {
					if got := db.SKUNow(id); got != (counters{Stock: 10, Sales: 0}) {
						t.Errorf("%s: sku %d now %+v, want stock 10 sales 0", st, id, got)
					}
				}
				if got := db.Int("SELECT sales FROM tb_spu WHERE id = ?", spu); got != 0 {
					t.Errorf("%s: spu sales %d, want 0", st, got)
				}
				db.CheckInvariants(before, testkit.Outcome{})
			}
			// Without the fault the same token still works.
			o := newOrders(t, db.Store, order.Config{})
			if _, err := o.PlaceOrder(context.Background(), order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Token: "t-optimistic",
				Items: []order.Item{{SKUID: fine, Count: 2}}}); err != nil {
				t.Errorf("commit after the fault: %v", err)
			}
		})
	}
}

func TestOrderPages(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			uid, addr := db.Buyer()
			other, _ := db.Buyer()
			sku := db.SKU(db.SPU("s"), "thing", "3.00", 100)
			o := newOrders(t, db.Store, order.Config{})
			page, err := o.UserOrders(ctx, uid, 1, 5)
			if err != nil || len(page.Orders) != 0 || page.Pages != 1 {
				t.Fatalf("page 1 without orders: %+v, %v; want empty, 1 page", page, err)
			}
			if _, err := o.UserOrders(ctx, uid, 2, 5); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("page 2 without orders: %v, want ErrNotFound", err)
			}
			var ids []string
			for i := range 7 {
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: sku, Count: i + 1}}})
				if err != nil {
					t.Fatal(err)
				}
				ids = append([]string{got.OrderID}, ids...)
			}
			p1, err := o.UserOrders(ctx, uid, 1, 5)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := o.UserOrders(ctx, uid, 2, 5)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range append(p1.Orders, p2.Orders...) {
				got = append(got, o.OrderID)
				if len(o.Lines) != 1 || p1.SKUs[sku].Name != "thing" {
					t.Errorf("order %s: %d lines, sku name %q", o.OrderID, len(o.Lines), p1.SKUs[sku].Name)
				}
			}
			if diff := cmp.Diff(ids, got); diff != "" || p1.Pages != 2 || p1.Total != 7 {
				t.Errorf("orders newest first (-want +got):\n%s\npages %d total %d, want 2 and 7", diff, p1.Pages, p1.Total)
			}
			if _, err := o.UserOrders(ctx, uid, 3, 5); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("page 3 of 2: %v, want ErrNotFound", err)
			}
			if _, err := o.OrderOf(ctx, other, ids[0]); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("another user's order: %v, want ErrNotFound", err)
			}
		})
	}
}

// A commit that cannot get its rows before the deadline gives up with
// ErrBusy and leaves nothing behind: it never hangs.
func TestPlaceOrderBusyUntilDeadline(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			sku := db.SKU(db.SPU("s"), "held", "1.00", 10)
			for _, st := range []order.Strategy{order.StrategyOptimistic, order.StrategyConditional, order.StrategyPessimistic} {
				// Another writer holds the SKU row (on SQLite, the database).
				blocker, err := db.SQL.BeginTx(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := blocker.Exec(db.Query("UPDATE tb_sku SET caption = 'held' WHERE id = ?"), sku); err != nil {
					t.Fatal(err)
				}
				o := newOrders(t, db.Store, order.Config{Strategy: st})
				ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
				_, err = o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: 1, Items: []order.Item{{SKUID: sku, Count: 1}}})
				cancel()
				if err := blocker.Rollback(); err != nil {
					t.Fatal(err)
				}
				if !errors.Is(err, models.ErrBusy) {
					t.Errorf("%s: commit against a held row: %v, want ErrBusy", st, err)
				}
				if n := db.Orders(); n != 0 {
					t.Errorf("%s: %d orders after the busy commit", st, n)
				}
				if got := db.SKUNow(sku); got != (counters{Stock: 10, Sales: 0}) {
					t.Errorf("%s: sku now %+v, want untouched", st, got)
				}
			}
		})
	}
}
