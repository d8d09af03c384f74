package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

// The flash sale's page states the freight before the buy, and after a
// buy a reload shows the buyer's result (queued, then created) with the
// button disabled, never enabled again; a buy the database refused is
// shown as failed, with why.
func TestSeckillPageAfterABuy(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			shop := testenv.NewShop(t, db)
			skus, err := testkit.CreateBenchSKUs(ctx, db.Store, "page", 1, 50, decimal.RequireFromString("10.00"))
			if err != nil {
				t.Fatal(err)
			}
			sku := skus[0]
			sale, err := shop.Handlers.Seckill.Open(ctx, models.SaleInput{SKUID: sku, Stock: 5, Price: decimal.RequireFromString("1.50"),
				PerUser: 1, Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			buyer := testenv.CreateUser(t, db.Store, "pagebuyer")
			addr := testenv.CreateAddress(t, db.Store, buyer.ID)
			c := shop.NewClient(t)
			c.Login(t, buyer.Username, testenv.Password)
			path := fmt.Sprintf("/seckill/%d/", sku)

			page := func(want, notWant []string) {
				t.Helper()
				res := c.Get(path)
				if res.Status != http.StatusOK {
					t.Fatalf("GET %s: status %d", path, res.Status)
				}
				for _, w := range want {
					if !strings.Contains(res.Body, w) {
						t.Errorf("GET %s: body lacks %q", path, w)
					}
				}
				for _, w := range notWant {
					if strings.Contains(res.Body, w) {
						t.Errorf("GET %s: body has %q", path, w)
					}
				}
			}
			page([]string{`data-testid="seckill-freight">¥10.00<`, `data-testid="seckill-payable">应付 ¥11.50（含运费 ¥10.00）<`,
				`data-bought="false"`, `data-testid="seckill-buy">`},
				[]string{`data-testid="seckill-mine"`, `data-testid="seckill-buy" disabled`})

			if res := c.Do(http.MethodPost, path, map[string]any{"address_id": addr.ID}); res.Code(t) != 0 {
				t.Fatalf("buy: %s", res.Body)
			}
			// No consumer runs yet: the order is queued.
			page([]string{`data-testid="seckill-mine" data-status="queued"`, `data-bought="true"`, `data-mine="queued"`,
				`data-testid="seckill-buy" disabled>已抢购<`, `data-testid="seckill-pay" hidden`}, nil)

			workers, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); shop.Handlers.Seckill.Run(workers) }()
			t.Cleanup(func() { stop(); <-done })
			deadline := time.Now().Add(20 * time.Second)
			for {
				rec, err := db.Store.Sales.BuyerRecord(ctx, sale.ID, buyer.ID)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Created == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the order was not persisted in time")
				}
				time.Sleep(20 * time.Millisecond)
			}
			page([]string{`data-testid="seckill-mine" data-status="created"`, `data-bought="true"`,
				`data-testid="seckill-buy" disabled>已抢购<`, `data-testid="seckill-orders-link"`},
				[]string{`id="seckill-orders" class="seckill-orders" hidden`})

			// The result area offers to pay the order (pay.js: the payment
			// flow of every unpaid online order); once paid, it no longer does.
			rec, err := db.Store.Sales.BuyerRecord(ctx, sale.ID, buyer.ID)
			if err != nil || len(rec.Unpaid) != 1 {
				t.Fatalf("buyer record %+v, %v; want one unpaid order", rec, err)
			}
			id := rec.Unpaid[0]
			page([]string{`data-order-id="` + id + `"`, `data-testid="seckill-pay">去支付<`, `id="order-msg-` + id + `"`, `/static/js/pay.js`},
				[]string{`data-testid="seckill-pay" hidden`})
			amount, err := db.Store.Gorm().Raw("SELECT total_amount FROM tb_order_info WHERE order_id = ?", id).Rows()
			if err != nil {
				t.Fatal(err)
			}
			var total string
			for amount.Next() {
				if err := amount.Scan(&total); err != nil {
					t.Fatal(err)
				}
			}
			amount.Close()
			if _, err := shop.Handlers.Orders.RecordPayment(ctx, order.Payment{OrderID: id, TradeID: "T-sale", Amount: decimal.RequireFromString(total)}); err != nil {
				t.Fatal(err)
			}
			page([]string{`data-testid="seckill-pay" hidden`}, []string{`data-order-id="` + id + `"`})

			// A buy the database refused for good: failed, with why; the
			// button stays as the sale allows (this buyer bought nothing).
			other := testenv.CreateUser(t, db.Store, "pagebuyer2")
			testenv.CreateAddress(t, db.Store, other.ID)
			sqlDB, err := db.Store.SQL()
			if err != nil {
				t.Fatal(err)
			}
			q := "INSERT INTO tb_seckill_refusal (order_id, sale_id, user_id, reason, decided_time, create_time) VALUES (?, ?, ?, ?, ?, ?)"
			if db.Name == "postgres" {
				q = "INSERT INTO tb_seckill_refusal (order_id, sale_id, user_id, reason, decided_time, create_time) VALUES ($1, $2, $3, $4, $5, $6)"
			}
			now := time.Now().UTC()
			if _, err := sqlDB.Exec(q, "refused-1", sale.ID, other.ID, models.RefusedSoldOut, now, now); err != nil {
				t.Fatal(err)
			}
			c = shop.NewClient(t)
			c.Login(t, other.Username, testenv.Password)
			page([]string{`data-testid="seckill-mine" data-status="failed"`, "您的上一次抢购未成功：已抢光", `data-bought="false"`}, nil)
		})
	}
}
