package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// ledgerSKU adds a launched SKU of spu through CreateSKU, so that its
// first stock is in the ledger.
func (d *shopDB) ledgerSKU(spu int64, name string, price string, stock int) int64 {
	d.t.Helper()
	k, err := d.Store.CreateSKU(context.Background(), models.SKUInput{Name: name, SPUID: spu, CategoryID: 1,
		Price: decimal.RequireFromString(price), Stock: stock, Launched: true, LowStockThreshold: 5})
	if err != nil {
		d.t.Fatal(err)
	}
	return k.ID
}

// ledgerHolds fails the test if a SKU's stock is not the sum of its
// ledger deltas.
func (d *shopDB) ledgerHolds() {
	d.t.Helper()
	bad, err := d.Store.LedgerMismatches(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	if len(bad) > 0 {
		d.t.Errorf("stock != sum of ledger deltas for (sku: sum) %v", bad)
	}
}

func (d *shopDB) staff() int64 {
	d.t.Helper()
	u, err := d.Store.CreateUser(context.Background(), models.NewUser{Username: fmt.Sprintf("staff%d", users.Add(1)),
		Password: testenv.Password, Mobile: testenv.RandomMobile(), IsStaff: true})
	if err != nil {
		d.t.Fatal(err)
	}
	return u.ID
}

func (d *shopDB) ledger(f models.LedgerFilter) []models.LedgerRow {
	d.t.Helper()
	rows, _, err := d.Store.Ledger(context.Background(), f, 1)
	if err != nil {
		d.t.Fatal(err)
	}
	return rows
}

// Every strategy writes one sale entry per order line, with the buyer,
// the order and the stock right after the sale.
func TestLedgerSaleEntries(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.buyer()
			spu := db.spu("ledger")
			for _, st := range strategies {
				db.run(t, string(st), func(t *testing.T, db *shopDB) {
					a, b := db.ledgerSKU(spu, "a", "1.00", 10), db.ledgerSKU(spu, "b", "2.00", 20)
					o := newOrders(t, db.Store, models.OrdersConfig{Strategy: st})
					order, err := o.PlaceOrder(context.Background(), models.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayCash,
						Items: []models.Item{{SKUID: b, Count: 3}, {SKUID: a, Count: 2}}})
					if err != nil {
						t.Fatal(err)
					}
					for _, tc := range []struct {
						sku          int64
						delta, after int
					}{{a, -2, 8}, {b, -3, 17}} {
						rows := db.ledger(models.LedgerFilter{SKUID: tc.sku, Reason: models.ReasonSale})
						if len(rows) != 1 {
							t.Fatalf("sku %d: %d sale entries, want 1", tc.sku, len(rows))
						}
						e := rows[0]
						if e.Delta != tc.delta || e.StockAfter != tc.after || e.UserID == nil || *e.UserID != uid || e.OrderID == nil || *e.OrderID != order.OrderID {
							t.Errorf("sku %d: entry %+v, want delta %d, after %d, user %d, order %s", tc.sku, e.LedgerEntry, tc.delta, tc.after, uid, order.OrderID)
						}
					}
					db.ledgerHolds()
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
				uid, addr := db.buyer()
				buyers = append(buyers, [2]int64{uid, addr})
			}
			staff := db.staff()
			spu := db.spu("busy")
			for _, st := range strategies {
				db.run(t, string(st), func(t *testing.T, db *shopDB) {
					hot, other := db.ledgerSKU(spu, "hot", "5.00", 60), db.ledgerSKU(spu, "other", "7.00", 40)
					o := newOrders(t, db.Store, models.OrdersConfig{Strategy: st})
					before := db.snapshot()
					ctx := context.Background()

					var mu sync.Mutex
					var seen models.Outcome
					var placed []string
					adjusted := 0
					var wg sync.WaitGroup
					start := make(chan struct{})
					for i := range 80 {
						wg.Go(func() {
							<-start
							b := buyers[i%len(buyers)]
							items := []models.Item{{SKUID: hot, Count: 1 + i%2}}
							if i%3 == 0 {
								items = append(items, models.Item{SKUID: other, Count: 1})
							}
							got, err := o.PlaceOrder(ctx, models.PlaceRequest{UserID: b[0], AddressID: b[1], PayMethod: models.PayOnline, Items: items})
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
							default:
								t.Errorf("buyer %d: %v", i, err)
							}
						})
					}
					for i := range 20 {
						wg.Go(func() {
							<-start
							delta := []int{5, -2, 3, -1}[i%4]
							_, err := db.Store.AdjustStock(ctx, models.Adjustment{SKUID: hot, Delta: delta, StaffID: staff, Note: "recount"})
							mu.Lock()
							defer mu.Unlock()
							switch {
							case err == nil:
								adjusted += delta
							case errors.Is(err, models.ErrOutOfStock) && delta < 0:
							default:
								t.Errorf("adjust %d: %v", delta, err)
							}
						})
					}
					close(start)
					wg.Wait()
					// Cancel some orders, two staff at once each.
					for _, id := range placed[:min(len(placed), 5)] {
						for range 2 {
							wg.Go(func() {
								if err := db.Store.CancelOrder(ctx, id, &staff, ""); err != nil && !errors.Is(err, models.ErrWrongStatus) {
									t.Errorf("cancel %s: %v", id, err)
								}
							})
						}
					}
					wg.Wait()

					db.checkInvariants(before, seen)
					db.ledgerHolds()
					var adj int
					for _, r := range db.ledger(models.LedgerFilter{SKUID: hot, Reason: models.ReasonAdjust}) {
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

// Two staff cancel the same order at the same moment: the stock and the
// sales come back exactly once, with one cancel entry per line.
func TestCancelOrderConcurrentTwice(t *testing.T) {
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.buyer()
			staff := db.staff()
			spu := db.spu("cancel")
			a, b := db.ledgerSKU(spu, "a", "1.00", 10), db.ledgerSKU(spu, "b", "1.00", 10)
			o := models.NewOrders(db.Store, models.StrategyConditional)
			for round := range 5 {
				order, err := o.PlaceOrder(context.Background(), models.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayOnline,
					Items: []models.Item{{SKUID: a, Count: 2}, {SKUID: b, Count: 1}}})
				if err != nil {
					t.Fatal(err)
				}
				spuSales := db.int("SELECT sales FROM tb_spu WHERE id = ?", spu)
				errs := make([]error, 4)
				var wg sync.WaitGroup
				for i := range errs {
					wg.Go(func() { errs[i] = db.Store.CancelOrder(context.Background(), order.OrderID, &staff, "") })
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
				if got := []counters{db.skuNow(a), db.skuNow(b)}; !cmp.Equal(got, []counters{{10, 0}, {10, 0}}, cmp.AllowUnexported(counters{})) {
					t.Errorf("round %d: skus now %+v, want stock 10 and sales 0 each", round, got)
				}
				if got := db.int("SELECT sales FROM tb_spu WHERE id = ?", spu); got != spuSales-3 {
					t.Errorf("round %d: spu sales %d, want %d", round, got, spuSales-3)
				}
				if got := db.int("SELECT COUNT(*) FROM tb_stock_ledger WHERE reason = 'cancel' AND order_id = ?", order.OrderID); got != 2 {
					t.Errorf("round %d: %d cancel entries, want 2", round, got)
				}
			}
			db.ledgerHolds()
		})
	}
}

func TestCancelOrderAndStatusMoves(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.buyer()
			sku := db.ledgerSKU(db.spu("moves"), "m", "3.00", 100)
			o := models.NewOrders(db.Store, models.StrategyOptimistic)
			place := func(pay int) string {
				t.Helper()
				got, err := o.PlaceOrder(ctx, models.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: pay, Items: []models.Item{{SKUID: sku, Count: 1}}})
				if err != nil {
					t.Fatal(err)
				}
				return got.OrderID
			}
			status := func(id string) int { return db.int("SELECT status FROM tb_order_info WHERE order_id = ?", id) }
			tests := []struct {
				name    string
				pay     int
				before  []func(string) error
				move    func(string) error
				wantErr error
				want    int
			}{
				{"cancel unpaid", models.PayOnline, nil, func(id string) error { return db.Store.CancelOrder(ctx, id, nil, "") }, nil, models.StatusCanceled},
				{"cancel unsent", models.PayCash, nil, func(id string) error { return db.Store.CancelOrder(ctx, id, nil, "") }, nil, models.StatusCanceled},
				{"cancel shipped", models.PayCash, []func(string) error{func(id string) error { return db.Store.ShipOrder(ctx, id) }},
					func(id string) error { return db.Store.CancelOrder(ctx, id, nil, "") }, models.ErrWrongStatus, models.StatusUnreceived},
				{"ship unsent", models.PayCash, nil, func(id string) error { return db.Store.ShipOrder(ctx, id) }, nil, models.StatusUnreceived},
				{"ship unpaid", models.PayOnline, nil, func(id string) error { return db.Store.ShipOrder(ctx, id) }, models.ErrWrongStatus, models.StatusUnpaid},
				{"complete shipped", models.PayCash, []func(string) error{func(id string) error { return db.Store.ShipOrder(ctx, id) }},
					func(id string) error { return db.Store.CompleteOrder(ctx, id) }, nil, models.StatusFinished},
				{"complete unsent", models.PayCash, nil, func(id string) error { return db.Store.CompleteOrder(ctx, id) }, models.ErrWrongStatus, models.StatusUnsend},
				{"ship twice", models.PayCash, []func(string) error{func(id string) error { return db.Store.ShipOrder(ctx, id) }},
					func(id string) error { return db.Store.ShipOrder(ctx, id) }, models.ErrWrongStatus, models.StatusUnreceived},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					id := place(tc.pay)
					for _, f := range tc.before {
						if err := f(id); err != nil {
							t.Fatal(err)
						}
					}
					stock := db.skuNow(sku).stock
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
					if got := db.skuNow(sku).stock; got != wantStock {
						t.Errorf("stock %d, want %d", got, wantStock)
					}
				})
			}
			for _, f := range []func(string) error{
				func(id string) error { return db.Store.CancelOrder(ctx, id, nil, "") },
				func(id string) error { return db.Store.ShipOrder(ctx, id) },
			} {
				if err := f("nope"); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("unknown order: %v, want ErrNotFound", err)
				}
			}
			db.ledgerHolds()
		})
	}
}

// Unpaid online orders past the time are canceled with their stock
// returned; cash orders, paid orders and newer ones stay.
func TestCancelExpireUnpaid(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.buyer()
			sku := db.ledgerSKU(db.spu("expiry"), "e", "3.00", 100)
			o := models.NewOrders(db.Store, models.StrategyConditional)
			place := func(pay int, age time.Duration) string {
				got, err := o.PlaceOrder(ctx, models.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: pay, Items: []models.Item{{SKUID: sku, Count: 2}}})
				if err != nil {
					t.Fatal(err)
				}
				db.exec("UPDATE tb_order_info SET create_time = ? WHERE order_id = ?", time.Now().UTC().Add(-age), got.OrderID)
				return got.OrderID
			}
			old1, old2 := place(models.PayOnline, time.Hour), place(models.PayOnline, 31*time.Minute)
			fresh := place(models.PayOnline, time.Minute)
			cash := place(models.PayCash, time.Hour)
			n, err := db.Store.ExpireUnpaid(ctx, 30*time.Minute)
			if err != nil || n != 2 {
				t.Fatalf("ExpireUnpaid = %d, %v; want 2", n, err)
			}
			want := map[string]int{old1: models.StatusCanceled, old2: models.StatusCanceled, fresh: models.StatusUnpaid, cash: models.StatusUnsend}
			for id, st := range want {
				if got := db.int("SELECT status FROM tb_order_info WHERE order_id = ?", id); got != st {
					t.Errorf("order %s status %d, want %d", id, got, st)
				}
			}
			if got := db.skuNow(sku); got != (counters{96, 4}) {
				t.Errorf("sku %+v, want stock 96 sales 4", got)
			}
			if n, err := db.Store.ExpireUnpaid(ctx, 30*time.Minute); err != nil || n != 0 {
				t.Errorf("second ExpireUnpaid = %d, %v; want 0", n, err)
			}
			db.ledgerHolds()
		})
	}
}

func TestAdminAdjustStockRefusals(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			staff := db.staff()
			sku := db.ledgerSKU(db.spu("adj"), "adj", "1.00", 3)
			tests := []struct {
				name  string
				a     models.Adjustment
				want  error
				stock int
			}{
				{"add", models.Adjustment{SKUID: sku, Delta: 7, StaffID: staff, Note: "delivery"}, nil, 10},
				{"take", models.Adjustment{SKUID: sku, Delta: -4, StaffID: staff, Note: "damaged"}, nil, 6},
				{"below zero", models.Adjustment{SKUID: sku, Delta: -7, StaffID: staff, Note: "x"}, models.ErrOutOfStock, 6},
				{"to zero", models.Adjustment{SKUID: sku, Delta: -6, StaffID: staff, Note: "lost"}, nil, 0},
				{"zero delta", models.Adjustment{SKUID: sku, Delta: 0, StaffID: staff, Note: "x"}, models.ErrInvalid, 0},
				{"no reason", models.Adjustment{SKUID: sku, Delta: 1, StaffID: staff, Note: "  "}, models.ErrInvalid, 0},
				{"unknown sku", models.Adjustment{SKUID: 999999, Delta: 1, StaffID: staff, Note: "x"}, models.ErrNotFound, 0},
			}
			for _, tc := range tests {
				e, err := db.Store.AdjustStock(ctx, tc.a)
				if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
				}
				if err == nil && (e.StockAfter != tc.stock || e.Reason != models.ReasonAdjust || *e.UserID != staff) {
					t.Errorf("%s: entry %+v, want stock after %d by %d", tc.name, e, tc.stock, staff)
				}
				if got := db.skuNow(sku).stock; got != tc.stock {
					t.Errorf("%s: stock %d, want %d", tc.name, got, tc.stock)
				}
			}
			rows := db.ledger(models.LedgerFilter{SKUID: sku})
			var got []string
			for _, r := range rows {
				got = append(got, fmt.Sprintf("%s %+d =%d %s %s", r.Reason, r.Delta, r.StockAfter, r.Username, r.Note))
			}
			u, err := db.Store.UserByID(ctx, staff)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{
				"adjust -6 =0 " + u.Username + " lost",
				"adjust -4 =6 " + u.Username + " damaged",
				"adjust +7 =10 " + u.Username + " delivery",
				"initial +3 =3  ",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ledger of sku %d (-want +got):\n%s", sku, diff)
			}
			db.ledgerHolds()
		})
	}
}

func TestAdminCatalogAndLists(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			p, err := db.Store.CreateSPU(ctx, models.SPUInput{Name: "Phone X", CategoryID: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Store.CreateSPU(ctx, models.SPUInput{Name: "", CategoryID: 1}); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("empty spu name: %v, want ErrInvalid", err)
			}
			if _, err := db.Store.CreateSPU(ctx, models.SPUInput{Name: "x", CategoryID: 99}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown category: %v, want ErrNotFound", err)
			}
			in := models.SKUInput{Name: "Phone X 64GB", Caption: "fast", SPUID: p.ID, CategoryID: 1, Price: decimal.RequireFromString("1999.50"),
				Image: "/static/img/logo.svg", LowStockThreshold: 0, Stock: 4, Launched: false}
			k, err := db.Store.CreateSKU(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := db.Store.SKUByID(ctx, k.ID)
			if got.LowStockThreshold != 0 || got.Stock != 4 || got.IsLaunched || !got.Price.Equal(in.Price) {
				t.Errorf("created sku %+v, want threshold 0, stock 4, withdrawn, price 1999.50", got)
			}
			bad := in
			bad.Price = decimal.RequireFromString("1.234")
			if _, err := db.Store.CreateSKU(ctx, bad); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("price with 3 decimals: %v, want ErrInvalid", err)
			}
			bad = in
			bad.SPUID = 99999
			if _, err := db.Store.CreateSKU(ctx, bad); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown spu: %v, want ErrNotFound", err)
			}
			in.Name, in.LowStockThreshold, in.Stock = "Phone X 128GB", 10, 999
			if err := db.Store.UpdateSKU(ctx, k.ID, in); err != nil {
				t.Fatal(err)
			}
			if err := db.Store.SetLaunched(ctx, k.ID, true); err != nil {
				t.Fatal(err)
			}
			got, _ = db.Store.SKUByID(ctx, k.ID)
			if got.Name != "Phone X 128GB" || got.Stock != 4 || !got.IsLaunched || got.LowStockThreshold != 10 {
				t.Errorf("edited sku %+v: want the new name, stock still 4, launched, threshold 10", got)
			}
			plenty := db.ledgerSKU(p.ID, "Plenty", "1.00", 100)

			yes := true
			for _, tc := range []struct {
				name string
				f    models.SKUFilter
				want []int64
			}{
				{"query", models.SKUFilter{Query: "128gb"}, []int64{k.ID}},
				{"spu", models.SKUFilter{SPUID: p.ID}, []int64{k.ID, plenty}},
				{"low", models.SKUFilter{LowStock: true}, []int64{k.ID}},
				{"launched", models.SKUFilter{Launched: &yes, Query: "plenty"}, []int64{plenty}},
				{"wildcard is literal", models.SKUFilter{Query: "%"}, nil},
			} {
				skus, pg, err := db.Store.AdminSKUs(ctx, tc.f, 1)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				var ids []int64
				for _, s := range skus {
					ids = append(ids, s.ID)
				}
				if !cmp.Equal(ids, tc.want) || pg.Total != int64(len(tc.want)) {
					t.Errorf("%s: skus %v (total %d), want %v", tc.name, ids, pg.Total, tc.want)
				}
			}
			if _, _, err := db.Store.AdminSKUs(ctx, models.SKUFilter{}, 2); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("page 2 of 1: %v, want ErrNotFound", err)
			}
			spus, _, err := db.Store.AdminSPUs(ctx, "phone", 0, 1)
			if err != nil || len(spus) != 1 || spus[0].SKUCount != 2 {
				t.Errorf("AdminSPUs = %+v, %v; want Phone X with 2 skus", spus, err)
			}

			// Orders and the dashboard.
			uid, addr := db.buyer()
			o := models.NewOrders(db.Store, models.StrategyOptimistic)
			var ids []string
			for i, pay := range []int{models.PayCash, models.PayOnline, models.PayCash} {
				got, err := o.PlaceOrder(ctx, models.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: pay, Items: []models.Item{{SKUID: plenty, Count: i + 1}}})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, got.OrderID)
			}
			if err := db.Store.CancelOrder(ctx, ids[2], nil, ""); err != nil {
				t.Fatal(err)
			}
			d, err := db.Store.Dashboard(ctx, time.Now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			// Orders of 1 and 2 units at 1.00, plus 10.00 freight each.
			if d.Orders != 3 || d.Canceled != 1 || d.Units != 3 || !d.Revenue.Equal(decimal.RequireFromString("23")) || d.LowCount != 1 || len(d.Recent) != 3 {
				t.Errorf("dashboard %+v: want 3 orders, 1 canceled, 3 units, revenue 23.00, 1 low sku, 3 recent", d)
			}
			buyer, _ := db.Store.UserByID(ctx, uid)
			for _, tc := range []struct {
				name string
				f    models.OrderFilter
				want int
			}{
				{"all", models.OrderFilter{}, 3},
				{"unsent", models.OrderFilter{Status: models.StatusUnsend}, 1},
				{"canceled", models.OrderFilter{Status: models.StatusCanceled}, 1},
				{"buyer", models.OrderFilter{Username: buyer.Username}, 3},
				{"nobody", models.OrderFilter{Username: "nobody-here"}, 0},
				{"today", models.OrderFilter{From: time.Now().Add(-time.Hour), To: time.Now().Add(time.Hour)}, 3},
				{"yesterday", models.OrderFilter{To: time.Now().Add(-time.Hour)}, 0},
			} {
				orders, names, _, err := db.Store.AdminOrders(ctx, tc.f, 1)
				if err != nil || len(orders) != tc.want {
					t.Errorf("%s: %d orders, %v; want %d", tc.name, len(orders), err, tc.want)
				}
				if len(orders) > 0 && names[uid] != buyer.Username {
					t.Errorf("%s: buyer name %q, want %q", tc.name, names[uid], buyer.Username)
				}
			}
			det, err := db.Store.AdminOrder(ctx, ids[0])
			if err != nil || det.Buyer != buyer.Username || len(det.Order.Lines) != 1 || det.SKUs[plenty].Name != "Plenty" {
				t.Errorf("AdminOrder = %+v, %v", det, err)
			}
			if _, err := db.Store.AdminOrder(ctx, "nope"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("AdminOrder(nope) = %v, want ErrNotFound", err)
			}
			if _, _, err := db.Store.Ledger(ctx, models.LedgerFilter{Reason: "bogus"}, 1); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("ledger with a bogus reason: %v, want ErrInvalid", err)
			}
			db.ledgerHolds()
		})
	}
}
