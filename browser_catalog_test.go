package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// Demo SKUs added after the first catalog (models/demo.go demoLater).
const (
	demoK70Black128 = 32 // 小米 Redmi K70 128GB 黑色, ¥2499.00, stock 60
	demoK70White256 = 35 // 小米 Redmi K70 256GB 白色, ¥2799.00, stock 22
)

// inView reports whether the element matching sel is wholly inside the
// viewport, without scrolling.
func (b *browserShop) inView(t *testing.T, ctx context.Context, sel string) bool {
	t.Helper()
	var ok bool
	b.do(t, ctx, chromedp.Evaluate(fmt.Sprintf(`(() => {
		const r = document.querySelector(%q).getBoundingClientRect();
		return r.width > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;
	})()`, sel), &ok))
	return ok
}

// follow clicks a link and waits for the page it opens.
func (b *browserShop) follow(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(sel)); err != nil {
		b.shot(t, ctx, "failure-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("follow %s: %v", sel, err)
	}
}

// pageProblems starts recording the tab's uncaught exceptions and console
// errors; the returned func reports them so far.
func pageProblems(ctx context.Context) func() []string {
	var mu sync.Mutex
	var out []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			out = append(out, "exception: "+e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				out = append(out, "console.error")
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError {
				out = append(out, "log: "+e.Entry.Text+" "+e.Entry.URL)
			}
		}
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), out...)
	}
}

// brokenImages counts the images that finished loading without a picture.
func (b *browserShop) brokenImages(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var broken []string
	b.do(t, ctx, chromedp.Evaluate(`Array.from(document.images).filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)`, &broken))
	if len(broken) > 0 {
		t.Errorf("%s: broken images %q", name, broken)
	}
}

func (b *browserShop) value(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var v string
	b.do(t, ctx, chromedp.Value(sel, &v))
	return v
}

// On a phone (390x844): the category menu opens on a tap; the flash sale
// is reachable from the home page; on the product page the buy bar is on
// screen without scrolling, choosing 256GB then 白色 lands on that SKU,
// the gallery's thumbnails switch the picture, the stepper counts within
// the stock from the mouse and the keyboard, and 立即购买 reaches the
// settlement page with that one line selected, the cart's other line left
// unselected.
func TestBrowserCatalogOnPhone(t *testing.T) {
	b := startBrowserShop(t)
	ctx := context.Background()
	u := testenv.CreateUser(t, b.store, "phone001")
	testenv.CreateAddress(t, b.store, u.ID)
	now := time.Now()
	if _, err := b.store.Sales.OpenSale(ctx, models.SaleInput{SKUID: demoXiaomi512, Stock: 5, Price: decimal.RequireFromString("3999.00"),
		Start: now.Add(-time.Minute), End: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}

	tab := b.tab(t)
	problems := pageProblems(tab)
	b.do(t, tab, cdplog.Enable(), chromedp.EmulateViewport(390, 844))
	b.login(t, tab, "phone001", testenv.Password)
	b.addToCart(t, tab, demoEdifier)

	// Home: the menu's second and third levels on a tap; the sale zone.
	b.do(t, tab, b.open("/", `[data-testid="category-menu"]`))
	b.noSideScroll(t, tab, "home")
	b.brokenImages(t, tab, "home")
	b.do(t, tab, chromedp.Click(`[data-testid="menu-l1"]`), chromedp.WaitVisible(`[data-testid="menu-panel"]`))
	b.check(t, "menu second level", b.text(t, tab, `[data-testid="menu-item"][open] [data-testid="menu-l2"]`), "手机通讯")
	b.noSideScroll(t, tab, "home with the menu open")
	b.shot(t, tab, "home-menu-phone")
	b.follow(t, tab, `[data-testid="menu-item"][open] [data-testid="menu-l3"]`)
	b.check(t, "third-level list", b.text(t, tab, `[data-testid="breadcrumbs"] [aria-current="page"]`), "手机")
	b.do(t, tab, b.open("/", `[data-testid="sale-zone"]`))
	b.follow(t, tab, `[data-testid="sale-card"][data-sku-id="`+strconv.Itoa(demoXiaomi512)+`"] [data-testid="sale-link"]`)
	b.check(t, "sale reached from home", b.text(t, tab, `[data-testid="sku-name"]`), "小米 Xiaomi 14 16GB+512GB 黑色")

	// The product page.
	b.do(t, tab, b.open("/detail/"+strconv.Itoa(demoK70Black128)+"/", `[data-testid="buy-now"]`))
	if !b.inView(t, tab, `[data-testid="buy-now"]`) || !b.inView(t, tab, `[data-testid="add-to-cart"]`) {
		t.Error("the buy bar is not on screen without scrolling")
	}
	b.noSideScroll(t, tab, "product page")
	b.brokenImages(t, tab, "product page")
	b.do(t, tab, chromedp.Click(`[data-testid="add-to-cart"]`), waitText(`[data-testid="cart-message"]`, "已加入购物车"))
	if !b.inView(t, tab, `[data-testid="cart-message"]`) {
		t.Error("the add-to-cart answer is not on screen")
	}
	b.shot(t, tab, "detail-phone")
	b.follow(t, tab, `[data-testid="spec-option"][data-value="256GB"]`)
	b.check(t, "after 256GB", b.text(t, tab, `[data-testid="sku-name"]`), "小米 Redmi K70 256GB 黑色")
	b.follow(t, tab, `[data-testid="spec-option"][data-value="白色"]`)
	var loc string
	b.do(t, tab, chromedp.Location(&loc))
	if want := "/detail/" + strconv.Itoa(demoK70White256) + "/"; !strings.HasSuffix(loc, want) {
		t.Errorf("after 256GB and 白色 the page is %s, want %s", loc, want)
	}
	b.check(t, "chosen SKU", b.text(t, tab, `[data-testid="sku-name"]`), "小米 Redmi K70 256GB 白色")
	b.check(t, "its price", b.text(t, tab, `[data-testid="detail"] [data-testid="price"]`), "¥2799.00")
	if !b.inView(t, tab, `[data-testid="buy-now"]`) {
		t.Error("the buy bar is not on screen on the chosen SKU's page")
	}

	var src string
	b.do(t, tab, chromedp.Evaluate(`document.querySelectorAll('[data-testid="gallery-thumb"]')[1].click()`, nil),
		chromedp.AttributeValue(`[data-testid="gallery-main"]`, "src", &src, nil))
	if !strings.HasSuffix(src, "redmik70-detail.svg") {
		t.Errorf("after the second thumbnail the picture is %s, want redmik70-detail.svg", src)
	}

	// Stepper: −, +, and the keyboard.
	b.check(t, "starting quantity", b.value(t, tab, `[data-testid="quantity"]`), "1")
	var minusDisabled bool
	b.do(t, tab, chromedp.Evaluate(`document.querySelector('[data-testid="qty-minus"]').disabled`, &minusDisabled))
	if !minusDisabled {
		t.Error("− is enabled at 1")
	}
	b.do(t, tab, chromedp.Click(`[data-testid="qty-plus"]`), chromedp.Click(`[data-testid="qty-plus"]`), chromedp.Click(`[data-testid="qty-minus"]`))
	b.check(t, "quantity after + + −", b.value(t, tab, `[data-testid="quantity"]`), "2")
	b.do(t, tab, chromedp.Focus(`[data-testid="qty-plus"]`), chromedp.KeyEvent("\r"))
	b.check(t, "quantity after Enter on +", b.value(t, tab, `[data-testid="quantity"]`), "3")

	// 立即购买: settlement with that one line.
	b.do(t, tab, chromedp.Click(`[data-testid="buy-now"]`))
	b.do(t, tab, chromedp.WaitVisible(`[data-testid="settlement-page"]`))
	if n := b.count(t, tab, `[data-testid="order-line"]`); n != 1 {
		t.Fatalf("settlement shows %d lines, want 1", n)
	}
	b.check(t, "settlement line", b.text(t, tab, `[data-testid="line-name"]`), "小米 Redmi K70 256GB 白色")
	b.check(t, "settlement count", b.text(t, tab, `[data-testid="total-count"]`), "共 3 件")
	b.check(t, "settlement payable", b.text(t, tab, `[data-testid="payable"]`), "¥8407.00")
	b.shot(t, tab, "buy-now-settlement-phone")
	b.do(t, tab, b.open("/carts/", `[data-testid="cart-line"]`))
	if n := b.count(t, tab, `[data-testid="cart-line"]`); n != 3 {
		t.Errorf("the cart holds %d lines after 立即购买, want 3 (the earlier lines stay)", n)
	}

	// The catalog's pages on a desktop and a phone: nothing scrolls
	// sideways, no picture is broken.
	for _, size := range [][2]int64{{1366, 900}, {390, 844}} {
		b.do(t, tab, chromedp.EmulateViewport(size[0], size[1]))
		for _, p := range []struct{ path, wait string }{
			{"/", `[data-testid="category-menu"]`},
			{"/list/1/1/?sort=-price", `[data-testid="sku-grid"]`},
			{"/detail/" + strconv.Itoa(demoK70White256) + "/", `[data-testid="gallery"]`},
			{"/detail/" + strconv.Itoa(demoXiaomi512) + "/", `[data-testid="sale-banner"]`},
			{"/search/?q=", `[data-testid="popular"]`},
			{"/search/?q=nothing-like-this", `[data-testid="popular"]`},
		} {
			name := fmt.Sprintf("%s at %dpx", p.path, size[0])
			b.do(t, tab, b.open(p.path, p.wait))
			b.noSideScroll(t, tab, name)
			b.brokenImages(t, tab, name)
		}
	}
	// A mouse opens the menu's panel on hover.
	b.do(t, tab, chromedp.EmulateViewport(1366, 900), b.open("/", `[data-testid="category-menu"]`),
		chromedp.ScrollIntoView(`[data-testid="menu-l1"]`))
	var x, y float64
	b.do(t, tab, chromedp.Evaluate(`(() => { const r = document.querySelector('[data-testid="menu-l1"]').getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()[0]`, &x),
		chromedp.Evaluate(`(() => { const r = document.querySelector('[data-testid="menu-l1"]').getBoundingClientRect(); return r.y + r.height / 2; })()`, &y),
		chromedp.MouseEvent(input.MouseMoved, x, y), chromedp.WaitVisible(`[data-testid="menu-panel"]`))
	b.shot(t, tab, "home-menu-desktop")
	if got := problems(); len(got) > 0 {
		t.Errorf("errors in the pages: %q", got)
	}
}
