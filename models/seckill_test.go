package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

func TestSeckillOpenSale(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			ids, err := testkit.CreateBenchSKUs(ctx, db.Store, "open", 1, 10, decimal.RequireFromString("5.00"))
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			ok := models.SaleInput{SKUID: ids[0], Stock: 4, Price: decimal.RequireFromString("1.00"), Start: now, End: now.Add(time.Hour)}
			with := func(f func(*models.SaleInput)) models.SaleInput { in := ok; f(&in); return in }
			cases := []struct {
				name string
				in   models.SaleInput
				want error
			}{
				{"no stock", with(func(in *models.SaleInput) { in.Stock = 0 }), models.ErrInvalid},
				{"negative price", with(func(in *models.SaleInput) { in.Price = decimal.RequireFromString("-1") }), models.ErrInvalid},
				{"fractions of a fen", with(func(in *models.SaleInput) { in.Price = decimal.RequireFromString("1.001") }), models.ErrInvalid},
				{"ends before it starts", with(func(in *models.SaleInput) { in.End = now.Add(-time.Minute) }), models.ErrInvalid},
				{"more than the stock", with(func(in *models.SaleInput) { in.Stock = 11 }), models.ErrOutOfStock},
				{"unknown sku", with(func(in *models.SaleInput) { in.SKUID = 999999 }), models.ErrNotLaunched},
				{"opens", ok, nil},
				{"a second open sale", ok, models.ErrDuplicate},
			}
			for _, tc := range cases {
				s, err := db.Store.Sales.OpenSale(ctx, tc.in)
				if !errors.Is(err, tc.want) {
					t.Errorf("%s: got %v, want %v", tc.name, err, tc.want)
				}
				if err == nil && (s.PerUser != 1 || s.Status != models.SaleOpen) {
					t.Errorf("%s: got %+v, want per user 1 and open", tc.name, s)
				}
			}
			k, err := db.Store.Catalog.SKUByID(ctx, ids[0])
			if err != nil || k.Stock != 6 {
				t.Errorf("stock after open: %d, %v; want 6", k.Stock, err)
			}
			if m, err := db.Store.Ledger.LedgerMismatches(ctx); err != nil || len(m) > 0 {
				t.Errorf("ledger: %v, %v", m, err)
			}
		})
	}
}

// Two closers racing close a sale once and give the unsold units back
// once; persisting is idempotent by order id, and a closed sale takes no
// more orders.
func TestSeckillCloseAndPersist(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			ids, err := testkit.CreateBenchSKUs(ctx, db.Store, "close", 1, 10, decimal.RequireFromString("5.00"))
			if err != nil {
				t.Fatal(err)
			}
			buyers, err := testkit.CreateBuyers(ctx, db.Store, "closers", testenv.Password, 3)
			if err != nil {
				t.Fatal(err)
			}
			s, err := db.Store.Sales.OpenSale(ctx, models.SaleInput{SKUID: ids[0], Stock: 8, Price: decimal.RequireFromString("1.50"),
				Start: time.Now(), End: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			var batch []models.SeckillOrder
			for i, b := range buyers {
				batch = append(batch, models.SeckillOrder{OrderID: fmt.Sprintf("2026010100000000000000%09d", i), SaleID: s.ID,
					UserID: b.UserID, AddressID: b.AddressID, Decided: time.Now()})
			}
			for i, want := range [][2]int{{3, 0}, {0, 3}} {
				res, err := db.Store.Sales.PersistSeckillOrders(ctx, batch)
				if err != nil || res.Created != want[0] || res.Skipped != want[1] {
					t.Errorf("persist #%d: %+v, %v; want created and skipped %v", i+1, res, err, want)
				}
			}
			var closed atomic.Int32
			var wg sync.WaitGroup
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					got, now, err := db.Store.Sales.CloseSale(ctx, s.ID)
					if err != nil {
						t.Errorf("close: %v", err)
						return
					}
					if now {
						closed.Add(1)
					}
					if got.Sold != 3 && now {
						t.Errorf("sold %d, want 3", got.Sold)
					}
				}()
			}
			wg.Wait()
			if closed.Load() != 1 {
				t.Errorf("%d closers closed it, want 1", closed.Load())
			}
			k, err := db.Store.Catalog.SKUByID(ctx, ids[0])
			if err != nil || k.Stock != 7 || k.Sales != 3 {
				t.Errorf("sku: stock %d sales %d, %v; want 7 and 3", k.Stock, k.Sales, err)
			}
			late := batch[0]
			late.OrderID = "20260101000000000000000999999999"
			if _, err := db.Store.Sales.PersistSeckillOrders(ctx, []models.SeckillOrder{late}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("persist into a closed sale: got %v, want ErrNotFound", err)
			}
			if _, _, err := db.Store.Sales.CloseSale(ctx, 424242); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("close an unknown sale: got %v, want ErrNotFound", err)
			}
			if m, err := db.Store.Ledger.LedgerMismatches(ctx); err != nil || len(m) > 0 {
				t.Errorf("ledger: %v, %v", m, err)
			}
		})
	}
}

// seckillOrderID is a flash-sale order id of the user, decided at at, told
// apart by n.
func seckillOrderID(uid int64, at time.Time, n int) string {
	return fmt.Sprintf("%s%09d%08d", at.UTC().Format("20060102150405"), uid, n)
}

// openTestSale opens a sale of stock units, perUser each, with buyers.
func openTestSale(t *testing.T, db testenv.DB, label string, stock, perUser, buyers int) (*models.Sale, []testkit.Buyer) {
	t.Helper()
	ctx := context.Background()
	ids, err := testkit.CreateBenchSKUs(ctx, db.Store, label, 1, stock+10, decimal.RequireFromString("5.00"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := testkit.CreateBuyers(ctx, db.Store, fmt.Sprintf("%s%d", label, time.Now().UnixNano()%1e6), testenv.Password, buyers)
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.Store.Sales.OpenSale(ctx, models.SaleInput{SKUID: ids[0], Stock: stock, PerUser: perUser,
		Price: decimal.RequireFromString("1.00"), Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return s, bs
}

// Many persisters at once, with overlapping batches of more orders than
// the sale has units and buyers who want more than their limit: the
// database writes exactly the stock, no buyer above the limit, refuses
// and records every other order (once, for good), and the sale's sold is
// its orders. Closing it then checks and agrees.
func TestSeckillPersistRefusesBeyondLimits(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			const stock, perUser, buyers, each, workers = 25, 2, 20, 3, 8
			ctx := context.Background()
			s, bs := openTestSale(t, db, "limits", stock, perUser, buyers)
			now := time.Now()
			var all []models.SeckillOrder
			for n := range each {
				for _, b := range bs {
					all = append(all, models.SeckillOrder{OrderID: seckillOrderID(b.UserID, now, n), SaleID: s.ID,
						UserID: b.UserID, AddressID: b.AddressID, Decided: now})
				}
			}
			var mu sync.Mutex
			outcome := map[string]string{} // order -> "created" or the refusal's reason, as persisters saw it
			var wg sync.WaitGroup
			for w := range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Each worker persists every order, in its own
					// overlapping batches of 7, starting at its own place.
					for i := 0; i < len(all); i += 7 {
						var batch []models.SeckillOrder
						for j := i; j < min(i+7, len(all)); j++ {
							batch = append(batch, all[(j+w*11)%len(all)])
						}
						res, err := db.Store.Sales.PersistSeckillOrders(ctx, batch)
						if err != nil {
							t.Errorf("persist: %v", err)
							return
						}
						if got := res.Created + res.Skipped + len(res.Refused); got != len(batch) {
							t.Errorf("persist %d orders: %+v accounts for %d", len(batch), res, got)
						}
						mu.Lock()
						for _, r := range res.Refused {
							if was, ok := outcome[r.OrderID]; ok && was != r.Reason {
								t.Errorf("order %s: %s, then refused %s", r.OrderID, was, r.Reason)
							}
							outcome[r.OrderID] = r.Reason
						}
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			rows, err := db.Store.Sales.SaleOrders(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != stock {
				t.Errorf("%d orders written, want the stock, %d", len(rows), stock)
			}
			perBuyer := map[int64]int{}
			for _, r := range rows {
				perBuyer[r.UserID]++
				if why, ok := outcome[r.OrderID]; ok {
					t.Errorf("order %s written, and refused: %s", r.OrderID, why)
				}
			}
			for uid, n := range perBuyer {
				if n > perUser {
					t.Errorf("user %d has %d orders, limit %d", uid, n, perUser)
				}
			}
			if len(outcome) != len(all)-stock {
				t.Errorf("%d orders refused, want %d", len(outcome), len(all)-stock)
			}
			for _, o := range all {
				created, refused, err := db.Store.Sales.SeckillOutcome(ctx, o.UserID, o.OrderID)
				if err != nil || created == (refused != "") || (refused != "" && refused != outcome[o.OrderID]) {
					t.Errorf("outcome of %s: created %v, refused %q, %v; persisters said %q", o.OrderID, created, refused, err, outcome[o.OrderID])
				}
			}
			got, err := db.Store.Sales.Sale(ctx, s.ID)
			if err != nil || got.Sold != stock {
				t.Errorf("sale: sold %d, %v; want %d", got.Sold, err, stock)
			}
			closed, now2, err := db.Store.Sales.CloseSale(ctx, s.ID)
			if err != nil || !now2 || closed.Sold != stock {
				t.Errorf("close: %+v, %v, %v; want closed now with %d sold", closed, now2, err, stock)
			}
		})
	}
}

// The refusals one by one: a buyer's second unit over a limit of one, the
// unit after the last, and a buy of an earlier load into Redis (lost with
// it); a buy from before epochs were recorded (0) is judged on the limits
// alone. Refusals are kept: the same order persisted again is refused
// again, with the same reason, and never written. Then CHECK constraints
// refuse direct writes past either limit.
func TestSeckillPersistRefusals(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			s, bs := openTestSale(t, db, "refusals", 3, 1, 5)
			load := func(ctx context.Context, st *models.SaleState) (bool, error) { return true, nil }
			for range 2 {
				if ok, err := db.Store.Sales.LoadSale(ctx, s.ID, load); err != nil || !ok {
					t.Fatalf("load: %v, %v", ok, err)
				}
			}
			now := time.Now()
			order := func(b testkit.Buyer, n, epoch int) models.SeckillOrder {
				return models.SeckillOrder{OrderID: seckillOrderID(b.UserID, now, n), SaleID: s.ID, UserID: b.UserID,
					AddressID: b.AddressID, Decided: now, Epoch: epoch}
			}
			steps := []struct {
				name  string
				batch []models.SeckillOrder
				want  map[string]string // refused orders' reasons
				made  int
			}{
				{"one each", []models.SeckillOrder{order(bs[0], 0, 2), order(bs[1], 0, 0)}, nil, 2},
				{"a second unit", []models.SeckillOrder{order(bs[0], 1, 2)}, map[string]string{seckillOrderID(bs[0].UserID, now, 1): models.RefusedLimit}, 0},
				{"an earlier load", []models.SeckillOrder{order(bs[2], 0, 1)}, map[string]string{seckillOrderID(bs[2].UserID, now, 0): models.RefusedLost}, 0},
				{"the last unit, then none", []models.SeckillOrder{order(bs[3], 0, 2), order(bs[4], 0, 2)},
					map[string]string{seckillOrderID(bs[4].UserID, now, 0): models.RefusedSoldOut}, 1},
				{"all again", []models.SeckillOrder{order(bs[0], 1, 2), order(bs[2], 0, 1), order(bs[4], 0, 2)}, map[string]string{
					seckillOrderID(bs[0].UserID, now, 1): models.RefusedLimit,
					seckillOrderID(bs[2].UserID, now, 0): models.RefusedLost,
					seckillOrderID(bs[4].UserID, now, 0): models.RefusedSoldOut,
				}, 0},
			}
			for _, st := range steps {
				res, err := db.Store.Sales.PersistSeckillOrders(ctx, st.batch)
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				got := map[string]string{}
				for _, r := range res.Refused {
					got[r.OrderID] = r.Reason
				}
				if diff := cmp.Diff(st.want, got, cmpopts.EquateEmpty()); diff != "" || res.Created != st.made {
					t.Errorf("%s: created %d (want %d), refused (-want +got):\n%s", st.name, res.Created, st.made, diff)
				}
			}
			got, err := db.Store.Sales.Sale(ctx, s.ID)
			if err != nil || got.Sold != 3 || got.Loads != 2 || got.RebuiltAt == nil {
				t.Errorf("sale: %+v, %v; want 3 sold, 2 loads, rebuilt", got, err)
			}
			checkLimitsHeld(t, db, s.ID, 3)
		})
	}
}

// checkLimitsHeld checks that the database holds both limits against any
// writer: a direct UPDATE that would pass the stock or a buyer's limit is
// refused by a CHECK constraint, and the sale keeps its sold.
func checkLimitsHeld(t *testing.T, db testenv.DB, saleID int64, sold int) {
	t.Helper()
	ctx := context.Background()
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		fmt.Sprintf("UPDATE tb_seckill_sale SET sold = stock + 1 WHERE id = %d", saleID),
		fmt.Sprintf("UPDATE tb_seckill_sale SET sold = sold + 1 WHERE id = %d", saleID),
		fmt.Sprintf("UPDATE tb_seckill_buyer SET units = units + 1 WHERE sale_id = %d", saleID),
		fmt.Sprintf("UPDATE tb_seckill_buyer SET per_user = 0 WHERE sale_id = %d", saleID),
	} {
		if _, err := sqlDB.ExecContext(ctx, q); err == nil {
			t.Errorf("%s: no error, want a CHECK violation", q)
		}
	}
	got, err := db.Store.Sales.Sale(ctx, saleID)
	if err != nil || got.Sold != sold {
		t.Errorf("sale after the refused writes: sold %d, %v; want %d", got.Sold, err, sold)
	}
}
