package main

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// A flash-sale order paid from the sale's result area on the development
// gateway, and a shopper's cancel of an unpaid order that gives its stock
// back, as a person sees them.
func TestBrowserPayments(t *testing.T) {
	b := startBrowserShop(t)
	ctx := context.Background()
	orders := order.New(b.store, order.Config{})

	t.Run("a flash-sale order paid on the development gateway", func(t *testing.T) {
		u := testenv.CreateUser(t, b.store, "flashpay01")
		testenv.CreateAddress(t, b.store, u.ID)
		staff := b.tab(t)
		b.login(t, staff, "boss01", "boss-pass-123")
		b.openSale(t, staff, demoXiaomi512, 2, "2999.00", "")

		tab := b.tab(t)
		b.login(t, tab, "flashpay01", testenv.Password)
		b.openSeckill(t, tab, demoXiaomi512)
		b.do(t, tab, chromedp.Click(`[data-testid="seckill-buy"]`),
			waitText(`[data-testid="seckill-message"]`, "订单已生成，请尽快支付"), chromedp.WaitVisible(`[data-testid="seckill-pay"]`))
		b.check(t, "the result's pay button", b.text(t, tab, `[data-testid="seckill-pay"]`), "去支付")
		b.shot(t, tab, "seckill-pay")
		b.do(t, tab, chromedp.Click(`[data-testid="seckill-pay"]`), chromedp.WaitVisible(`[data-testid="dev-gateway"]`))
		b.check(t, "gateway amount, freight included", b.text(t, tab, `[data-testid="dev-pay"]`), "支付 ¥3009.00")
		b.do(t, tab, chromedp.Click(`[data-testid="dev-pay"]`), chromedp.WaitVisible(`[data-testid="payment-outcome"][data-outcome="paid"]`))
		id := b.text(t, tab, `[data-testid="payment-result"] [data-testid="order-id"]`)
		b.shot(t, tab, "seckill-paid")
		b.do(t, tab, b.open("/orders/detail/"+id+"/", `[data-testid="order-detail"]`))
		b.check(t, "the sale order after paying", b.text(t, tab, `[data-testid="order-status"]`), "待发货")
		b.check(t, "its line", b.text(t, tab, `[data-testid="order-total"]`), "¥3009.00")

		// A reload of the sale no longer offers to pay it.
		b.openSeckill(t, tab, demoXiaomi512)
		if n := b.count(t, tab, `[data-testid="seckill-pay"]:not([hidden])`); n != 0 {
			t.Errorf("the sale page still offers to pay a paid order")
		}
		o, err := orders.OrderOf(ctx, u.ID, id)
		if err != nil || o.Status != models.StatusUnsend {
			t.Errorf("the order in the database: %v, %v; want status %d", o, err, models.StatusUnsend)
		}
	})

	t.Run("a shopper cancels an unpaid order and the stock comes back", func(t *testing.T) {
		u := testenv.CreateUser(t, b.store, "canceler01")
		addr := testenv.CreateAddress(t, b.store, u.ID)
		sku := strconv.Itoa(demoWatchPink)
		before, err := b.store.Catalog.SKUByID(ctx, demoWatchPink)
		if err != nil {
			t.Fatal(err)
		}
		placed, err := orders.PlaceOrder(ctx, order.PlaceRequest{UserID: u.ID, AddressID: addr.ID, PayMethod: models.PayOnline,
			Items: []order.Item{{SKUID: demoWatchPink, Count: 2}}})
		if err != nil {
			t.Fatal(err)
		}
		tab := b.tab(t)
		b.login(t, tab, "canceler01", testenv.Password)
		b.do(t, tab, b.open("/detail/"+sku+"/", `[data-testid="detail"]`))
		b.check(t, "stock shown after the order", b.text(t, tab, `[data-testid="stock-state"]`), "仅剩 "+strconv.Itoa(before.Stock-2)+" 件")

		b.do(t, tab, b.open("/orders/detail/"+placed.OrderID+"/", `[data-testid="cancel"]`))
		b.check(t, "status before the cancel", b.text(t, tab, `[data-testid="order-status"]`), "待支付")
		b.do(t, tab, chromedp.Click(`[data-testid="cancel"]`), chromedp.WaitVisible(`[data-testid="timeline-entry"][data-what="canceled"]`))
		b.check(t, "status after the cancel", b.text(t, tab, `[data-testid="order-status"]`), "已取消")
		b.shot(t, tab, "order-canceled")
		if n := b.count(t, tab, `[data-testid="cancel"], [data-testid="pay"]`); n != 0 {
			t.Errorf("a canceled order still offers %d buttons to pay or cancel", n)
		}

		b.do(t, tab, b.open("/detail/"+sku+"/", `[data-testid="detail"]`))
		b.check(t, "stock shown after the cancel", b.text(t, tab, `[data-testid="stock-state"]`), "仅剩 "+strconv.Itoa(before.Stock)+" 件")
		after, err := b.store.Catalog.SKUByID(ctx, demoWatchPink)
		if err != nil {
			t.Fatal(err)
		}
		if after.Stock != before.Stock || after.Sales != before.Sales {
			t.Errorf("after the cancel: stock %d, sales %d; want %d, %d as before the order", after.Stock, after.Sales, before.Stock, before.Sales)
		}
	})
}
