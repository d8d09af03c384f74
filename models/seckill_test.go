package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
