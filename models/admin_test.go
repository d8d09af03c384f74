package models_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

func TestAdminAdjustStockRefusals(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			staff := db.Staff()
			sku := db.LedgerSKU(db.SPU("adj"), "adj", "1.00", 3)
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
				e, err := db.Store.Admin.AdjustStock(ctx, tc.a)
				if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
				}
				if err == nil && (e.StockAfter != tc.stock || e.Reason != models.ReasonAdjust || *e.UserID != staff) {
					t.Errorf("%s: entry %+v, want stock after %d by %d", tc.name, e, tc.stock, staff)
				}
				if got := db.SKUNow(sku).Stock; got != tc.stock {
					t.Errorf("%s: stock %d, want %d", tc.name, got, tc.stock)
				}
			}
			rows := db.Ledger(models.LedgerFilter{SKUID: sku})
			var got []string
			for _, r := range rows {
				got = append(got, fmt.Sprintf("%s %+d =%d %s %s", r.Reason, r.Delta, r.StockAfter, r.Username, r.Note))
			}
			u, err := db.Store.Accounts.UserByID(ctx, staff)
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
			db.LedgerHolds()
		})
	}
}

func TestAdminCatalogAndLists(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			p, err := db.Store.Admin.CreateSPU(ctx, models.SPUInput{Name: "Phone X", CategoryID: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Store.Admin.CreateSPU(ctx, models.SPUInput{Name: "", CategoryID: 1}); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("empty spu name: %v, want ErrInvalid", err)
			}
			if _, err := db.Store.Admin.CreateSPU(ctx, models.SPUInput{Name: "x", CategoryID: 99}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown category: %v, want ErrNotFound", err)
			}
			in := models.SKUInput{Name: "Phone X 64GB", Caption: "fast", SPUID: p.ID, CategoryID: 1, Price: decimal.RequireFromString("1999.50"),
				Image: "/static/img/logo.svg", LowStockThreshold: 0, Stock: 4, Launched: false}
			k, err := db.Store.Admin.CreateSKU(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := db.Store.Catalog.SKUByID(ctx, k.ID)
			if got.LowStockThreshold != 0 || got.Stock != 4 || got.IsLaunched || !got.Price.Equal(in.Price) {
				t.Errorf("created sku %+v, want threshold 0, stock 4, withdrawn, price 1999.50", got)
			}
			bad := in
			bad.Price = decimal.RequireFromString("1.234")
			if _, err := db.Store.Admin.CreateSKU(ctx, bad); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("price with 3 decimals: %v, want ErrInvalid", err)
			}
			bad = in
			bad.SPUID = 99999
			if _, err := db.Store.Admin.CreateSKU(ctx, bad); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown spu: %v, want ErrNotFound", err)
			}
			in.Name, in.LowStockThreshold, in.Stock = "Phone X 128GB", 10, 999
			if err := db.Store.Admin.UpdateSKU(ctx, k.ID, in); err != nil {
				t.Fatal(err)
			}
			if err := db.Store.Admin.SetLaunched(ctx, k.ID, true); err != nil {
				t.Fatal(err)
			}
			got, _ = db.Store.Catalog.SKUByID(ctx, k.ID)
			if got.Name != "Phone X 128GB" || got.Stock != 4 || !got.IsLaunched || got.LowStockThreshold != 10 {
				t.Errorf("edited sku %+v: want the new name, stock still 4, launched, threshold 10", got)
			}
			plenty := db.LedgerSKU(p.ID, "Plenty", "1.00", 100)

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
				skus, pg, err := db.Store.Admin.AdminSKUs(ctx, tc.f, 1)
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
			if _, _, err := db.Store.Admin.AdminSKUs(ctx, models.SKUFilter{}, 2); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("page 2 of 1: %v, want ErrNotFound", err)
			}
			spus, _, err := db.Store.Admin.AdminSPUs(ctx, "phone", 0, 1)
			if err != nil || len(spus) != 1 || spus[0].SKUCount != 2 {
				t.Errorf("AdminSPUs = %+v, %v; want Phone X with 2 skus", spus, err)
			}

			// Orders and the dashboard.
			uid, addr := db.Buyer()
			o := order.New(db.Store, order.Config{Strategy: order.StrategyOptimistic})
			var ids []string
			for i, pay := range []int{models.PayCash, models.PayOnline, models.PayCash} {
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: pay, Items: []order.Item{{SKUID: plenty, Count: i + 1}}})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, got.OrderID)
			}
			if err := o.CancelOrder(ctx, ids[2], nil, ""); err != nil {
				t.Fatal(err)
			}
			d, err := db.Store.Admin.Dashboard(ctx, time.Now().Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			// Orders of 1 and 2 units at 1.00, plus 10.00 freight each.
			if d.Orders != 3 || d.Canceled != 1 || d.Units != 3 || !d.Revenue.Equal(decimal.RequireFromString("23")) || d.LowCount != 1 || len(d.Recent) != 3 {
				t.Errorf("dashboard %+v: want 3 orders, 1 canceled, 3 units, revenue 23.00, 1 low sku, 3 recent", d)
			}
			buyer, _ := db.Store.Accounts.UserByID(ctx, uid)
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
				orders, names, _, err := db.Store.Admin.AdminOrders(ctx, tc.f, 1)
				if err != nil || len(orders) != tc.want {
					t.Errorf("%s: %d orders, %v; want %d", tc.name, len(orders), err, tc.want)
				}
				if len(orders) > 0 && names[uid] != buyer.Username {
					t.Errorf("%s: buyer name %q, want %q", tc.name, names[uid], buyer.Username)
				}
			}
			det, err := db.Store.Admin.AdminOrder(ctx, ids[0])
			if err != nil || det.Buyer != buyer.Username || len(det.Order.Lines) != 1 || det.SKUs[plenty].Name != "Plenty" {
				t.Errorf("AdminOrder = %+v, %v", det, err)
			}
			if _, err := db.Store.Admin.AdminOrder(ctx, "nope"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("AdminOrder(nope) = %v, want ErrNotFound", err)
			}
			if _, _, err := db.Store.Ledger.Ledger(ctx, models.LedgerFilter{Reason: "bogus"}, 1); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("ledger with a bogus reason: %v, want ErrInvalid", err)
			}
			db.LedgerHolds()
		})
	}
}

// TestAdjustStockCap: an adjustment cannot take the stock past MaxStock,
// decided by the conditional write itself, even by deltas that each fit.
func TestAdjustStockCap(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			staff := db.Staff()
			sku := db.LedgerSKU(db.SPU("cap"), "cap", "1.00", 10)
			adj := func(d int) error {
				_, err := db.Store.Admin.AdjustStock(ctx, models.Adjustment{SKUID: sku, Delta: d, StaffID: staff, Note: "cap"})
				return err
			}
			if err := adj(models.MaxStock - 20); err != nil {
				t.Fatal(err)
			}
			err := adj(11)
			var ce *models.StockCapError
			if !errors.As(err, &ce) || ce.Room != 10 || !errors.Is(err, models.ErrInvalid) {
				t.Errorf("past the cap: %v, want a StockCapError with room 10", err)
			}
			if err := adj(10); err != nil {
				t.Errorf("up to the cap: %v", err)
			}
			if got := db.SKUNow(sku).Stock; got != models.MaxStock {
				t.Errorf("stock %d, want %d", got, models.MaxStock)
			}
			if err := adj(models.MaxStock); !errors.As(err, &ce) || ce.Room != 0 {
				t.Errorf("a full delta at the cap: %v", err)
			}
		})
	}
}

func TestLocalImage(t *testing.T) {
	for p, want := range map[string]bool{
		"/static/img/sku/phone.svg": true,
		"/media/3f2a9c.png":         true,
		"":                          false,
		"/static/":                  false,
		"/\\evil.example/x.png":     false,
		"//evil.example/x.png":      false,
		"https://evil.example/x":    false,
		"/static/../admin/":         false,
		"/static/./x.png":           false,
		"/static//x.png":            false,
		"/static/x.png?a=1":         false,
		"/static/x%2F..png":         false,
		"/static/\tx.png":           false,
		"/static/x\\y.png":          false,
		"/media/x\u202Egnp.exe":     false,
		"/img/x.png":                false,
		"javascript:alert(1)":       false,
	} {
		if got := models.LocalImage(p); got != want {
			t.Errorf("LocalImage(%q) = %v, want %v", p, got, want)
		}
	}
}
