package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// TestBrowserAdminDashboardAndSales: the dashboard shows its charts and
// its two tables whole (nothing cut off on the right) at 1366 and 390
// pixels; the flash-sale admin has the sidebar, picks the SKU by name and
// labels a sale by its time.
func TestBrowserAdminDashboardAndSales(t *testing.T) {
	b := startBrowserShop(t)
	ctx := context.Background()
	buyer := testenv.CreateUser(t, b.store, "dashbuyer")
	addr := testenv.CreateAddress(t, b.store, buyer.ID)
	orders := order.New(b.store, order.Config{})
	for _, sku := range []int64{demoIPhone, demoEdifier, demoWatch} {
		if _, err := orders.PlaceOrder(ctx, order.PlaceRequest{UserID: buyer.ID, AddressID: addr.ID, PayMethod: models.PayCash,
			Items: []order.Item{{SKUID: sku, Count: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	tab := b.tab(t)
	console := watchConsole(t, b, tab)
	b.login(t, tab, "boss01", "boss-pass-123")
	for _, w := range []struct{ width, height int64 }{{1366, 900}, {390, 844}} {
		b.do(t, tab, chromedp.EmulateViewport(w.width, w.height), b.open("/admin/", `[data-testid="chart-orders"]`))
		b.noSideScroll(t, tab, "dashboard")
		if n := b.count(t, tab, `[data-testid="chart-orders"] [data-testid="chart-bar"]`); n != models.ChartDays {
			t.Errorf("at %d: %d columns in the orders chart, want %d", w.width, n, models.ChartDays)
		}
		var clipped []string
		b.do(t, tab, chromedp.Evaluate(`[...document.querySelectorAll(".dash-tables > section")].filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.querySelector("h2").textContent + " " + e.scrollWidth + ">" + e.clientWidth)`, &clipped))
		if len(clipped) > 0 {
			t.Errorf("at %d: dashboard tables cut off on the right: %v", w.width, clipped)
		}
		var amountShown bool
		b.do(t, tab, chromedp.Evaluate(`(() => { const e = document.querySelector('[data-testid="order-amount"]'); const r = e.getBoundingClientRect(); return r.width > 0 && r.right <= window.innerWidth; })()`, &amountShown))
		if !amountShown {
			t.Errorf("at %d: the recent orders' amount is not in view", w.width)
		}
		b.shot(t, tab, fmt.Sprintf("admin-dashboard-%d", w.width))
	}

	b.do(t, tab, chromedp.EmulateViewport(1366, 900), b.open("/admin/seckill/", `[data-testid="sale-sku"]`))
	if n := b.count(t, tab, `[data-testid="admin-nav"]`); n != 1 {
		t.Errorf("the flash-sale admin has %d admin sidebars, want 1", n)
	}
	var picked string
	b.do(t, tab, chromedp.SendKeys(`[data-testid="sale-sku-filter"]`, "M230 蓝牙音箱 象牙白"), chromedp.Value(`[data-testid="sale-sku"]`, &picked))
	b.check(t, "SKU picked by typing its name", picked, fmt.Sprint(demoEdifier))
	b.do(t, tab, chromedp.SendKeys(`[data-testid="sale-stock"]`, "3"), chromedp.SendKeys(`[data-testid="sale-price-input"]`, "99.00"),
		chromedp.SetValue(`[data-testid="sale-start"]`, "2099-01-01T10:00"), chromedp.SetValue(`[data-testid="sale-end"]`, "2099-01-01T11:00"),
		chromedp.Click(`[data-testid="sale-submit"]`), chromedp.WaitVisible(`[data-testid="seckill-notice"]`))
	b.check(t, "a sale of 2099", b.text(t, tab, `[data-testid="sale-state"]`), "未开始")
	b.shot(t, tab, "admin-seckill-upcoming")
	b.do(t, tab, chromedp.EmulateViewport(390, 844), b.open("/admin/seckill/", `[data-testid="sale-sku"]`))
	b.noSideScroll(t, tab, "flash-sale admin")
	console.check(t, b, tab, "admin")

	// In English, at a phone's width.
	b.do(t, tab, chromedp.Navigate(b.base+"/lang/?to=en&next=/admin/"), chromedp.WaitVisible(`[data-testid="chart-orders"]`))
	b.check(t, "chart title in English", b.text(t, tab, `#chart-orders-title`), fmt.Sprintf("Orders a day, last %d days", models.ChartDays))
	b.noSideScroll(t, tab, "dashboard in English")
	b.shot(t, tab, "admin-dashboard-390-en")
	b.do(t, tab, b.open("/admin/seckill/", `[data-testid="sale-state"]`))
	b.check(t, "an upcoming sale in English", b.text(t, tab, `[data-testid="sale-state"]`), "Upcoming")
	b.noSideScroll(t, tab, "flash-sale admin in English")
	console.check(t, b, tab, "admin in English")
}
