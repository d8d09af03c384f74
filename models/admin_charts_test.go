package models_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// The dashboard's charts count each order on its own day, leave canceled
// and out-of-window orders out, and sum units per category.
func TestAdminCharts(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			now := time.Now().UTC()
			db.Exec("INSERT INTO tb_goods_category (id, create_time, update_time, name, parent_id) VALUES (2, ?, ?, 'Audio', NULL)", now, now)
			spu := db.SPU("Charted")
			phone := db.LedgerSKU(spu, "Phone", "1.00", 100)
			k, err := db.Store.Admin.CreateSKU(ctx, models.SKUInput{Name: "Speaker", SPUID: spu, CategoryID: 2,
				Price: decimal.RequireFromString("2.00"), Stock: 100, Launched: true, LowStockThreshold: 5})
			if err != nil {
				t.Fatal(err)
			}
			speaker := k.ID
			uid, addr := db.Buyer()
			o := order.New(db.Store, order.Config{})
			place := func(sku int64, n int) string {
				t.Helper()
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayCash,
					Items: []order.Item{{SKUID: sku, Count: n}}})
				if err != nil {
					t.Fatal(err)
				}
				return got.OrderID
			}
			day := 24 * time.Hour
			place(phone, 2)
			place(speaker, 3)
			if err := o.CancelOrder(ctx, place(phone, 1), nil, ""); err != nil {
				t.Fatal(err)
			}
			db.Exec("UPDATE tb_order_info SET create_time = ? WHERE order_id = ?", now.Add(-2*day), place(phone, 4))
			db.Exec("UPDATE tb_order_info SET create_time = ? WHERE order_id = ?", now.Add(-40*day), place(speaker, 5))
			early := testenv.CreateUser(t, db.Store, "early01")
			db.Exec("UPDATE tb_users SET date_joined = ? WHERE id = ?", now.Add(-5*day), early.ID)

			// The window's last day is now ± 12 hours.
			from := now.Add(-29*day - 12*time.Hour)
			c, err := db.Store.Admin.Charts(ctx, from, models.ChartDays)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.Days) != models.ChartDays || !c.Days[0].Start.Equal(from) {
				t.Fatalf("%d days from %v, want %d from %v", len(c.Days), c.Days[0].Start, models.ChartDays, from)
			}
			type fig struct {
				Day      int
				Orders   int64
				Revenue  string
				NewUsers int64
			}
			var got []fig
			for i, d := range c.Days {
				if d.Orders != 0 || d.NewUsers != 0 || !d.Revenue.IsZero() {
					got = append(got, fig{i, d.Orders, d.Revenue.StringFixed(2), d.NewUsers})
				}
			}
			// Freight is 10.00 an order.
			want := []fig{
				{24, 0, "0.00", 1},
				{27, 1, "14.00", 0},
				{29, 2, "28.00", 1},
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("days (-want +got):\n%s", diff)
			}
			wantCats := []models.CategoryUnits{{CategoryID: 1, Name: "Orders", Units: 6}, {CategoryID: 2, Name: "Audio", Units: 3}}
			if diff := cmp.Diff(wantCats, c.Categories); diff != "" {
				t.Errorf("categories (-want +got):\n%s", diff)
			}
		})
	}
}
