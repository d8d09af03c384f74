package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// End-to-end tests: the real server on the embedded default (a SQLite
// file, the in-process Redis, the demo catalog) on a free port, driven by
// Debian's Chromium, headless, through chromedp. They check what a person
// sees: texts, counts and totals. Screenshots of the key pages go to
// test-output/screenshots/.
//
// Without Chromium they skip, unless SHOP_REQUIRE_BROWSER is set (CI sets
// it), in which case they fail.

// Demo SKUs (models/demo.go), by id.
const (
	demoIPhone     = 1  // Apple iPhone 15 128GB 黑色, ¥5999.00, stock 120
	demoIPhonePink = 3  // Apple iPhone 15 128GB 粉色, ¥5999.00, stock 3
	demoMate60     = 5  // 华为 HUAWEI Mate 60 Pro 12GB+256GB 雅川青, ¥6499.00, stock 45
	demoEdifier    = 22 // 漫步者 EDIFIER M230 象牙白, ¥399.00
	demoXiaomi     = 8  // 小米 Xiaomi 14 12GB+256GB 白色, ¥3999.00, stock 150
	demoXiaomi512  = 9  // 小米 Xiaomi 14 16GB+512GB 黑色, ¥4599.00, stock 60
	demoWatch      = 27 // Apple Watch Series 9 午夜色, ¥3199.00, stock 55
	demoWatchStar  = 28 // Apple Watch Series 9 星光色, ¥3199.00, stock 38
	demoWatchPink  = 29 // Apple Watch Series 9 粉色, ¥3199.00, stock 5
)

func chromiumPath() string {
	for _, name := range []string{"chromium", "chromium-browser", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserShop is the running shop and one headless browser.
type browserShop struct {
	base    string
	store   *models.Store // the same SQLite file, for fixtures and checks
	browser context.Context
	shots   string
}

func startBrowserShop(t *testing.T) *browserShop {
	t.Helper()
	chrome := chromiumPath()
	if chrome == "" {
		if os.Getenv("SHOP_REQUIRE_BROWSER") != "" {
			t.Fatal("SHOP_REQUIRE_BROWSER is set but Chromium is not installed (apt-get install chromium)")
		}
		t.Skip("browser tests skipped: Chromium is not installed (apt-get install chromium to run them)")
	}
	dir := t.TempDir()
	dbURL := "sqlite:///" + filepath.Join(dir, "shop.db")
	getenv := env(map[string]string{"DATABASE_URL": dbURL, "SHOP_DATA_DIR": dir, "SHOP_LOG_LEVEL": "warn"})
	var out lockedBuffer
	ctx, cancel := context.WithCancel(context.Background())
	if err := run(ctx, []string{"createsuperuser", "--username", "boss01", "--password", "boss-pass-123"}, getenv, &out, &out); err != nil {
		t.Fatalf("createsuperuser: %v\n%s", err, out.String())
	}
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"runserver", addr}, getenv, &out, &out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("runserver: %v", err)
		}
		if t.Failed() {
			t.Logf("server output:\n%s", out.String())
		}
	})
	base := "http://" + addr
	for i := 0; ; i++ {
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			break
		}
		if i == 200 {
			t.Fatalf("the server did not start:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	st, err := models.Open(context.Background(), dbURL, models.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	if err := chromedp.Run(browser); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	t.Cleanup(func() { cancelBrowser(); cancelAlloc() })
	shots := filepath.Join("test-output", "screenshots")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	return &browserShop{base: base, store: st, browser: browser, shots: shots}
}

// tab opens a tab with no cookies (the flows run one after the other), in
// Chinese, that accepts confirm() dialogs. Every step must finish within
// the tab's timeout.
func (b *browserShop) tab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.browser)
	// A bound on the whole tab, not on a step: the longest tests walk many
	// pages, and under -race beside the other packages' tests a minute
	// was not always enough.
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	chromedp.ListenTarget(ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go chromedp.Run(ctx, page.HandleJavaScriptDialog(true))
		}
	})
	b.do(t, ctx, network.ClearBrowserCookies(), chromedp.Navigate(b.base+"/lang/?to=zh&next=/"), chromedp.WaitVisible(`[data-testid="user-links"]`))
	return ctx
}

func (b *browserShop) do(t *testing.T, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		var url string
		_ = chromedp.Run(ctx, chromedp.Location(&url))
		b.shot(t, ctx, "failure-"+strings.ReplaceAll(t.Name(), "/", "-"))
		t.Fatalf("on %s: %v", url, err)
	}
}

// shot writes a full-page PNG screenshot.
func (b *browserShop) shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
	}
}

func (b *browserShop) open(path, waitFor string) chromedp.Tasks {
	return chromedp.Tasks{chromedp.Navigate(b.base + path), chromedp.WaitVisible(waitFor)}
}

// text is the trimmed text of the first element matching sel.
func (b *browserShop) text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	var s string
	b.do(t, ctx, chromedp.WaitReady(sel), chromedp.Text(sel, &s))
	return strings.TrimSpace(s)
}

// count is how many elements match sel now.
func (b *browserShop) count(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	var n int
	b.do(t, ctx, chromedp.Evaluate(fmt.Sprintf("document.querySelectorAll(%q).length", sel), &n))
	return n
}

// waitText waits until the first element matching sel shows want (on the
// current page: after a form post, wait for the new page's element first).
func waitText(sel, want string) chromedp.Action {
	var ok bool
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.offsetParent !== null && e.textContent.includes(%q); })()`, sel, want),
		&ok, chromedp.WithPollingInterval(50*time.Millisecond))
}

func (b *browserShop) check(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s: the page shows %q, want %q", what, got, want)
	}
}

// noSideScroll checks that the page fits a narrow screen: nothing makes
// the whole page scroll sideways (wide tables scroll inside themselves).
func (b *browserShop) noSideScroll(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var widths []int
	b.do(t, ctx, chromedp.Evaluate(`[document.documentElement.scrollWidth, window.innerWidth]`, &widths))
	if widths[0] > widths[1] {
		t.Errorf("%s at %dpx: the page is %dpx wide and scrolls sideways", name, widths[1], widths[0])
	}
}

// login logs in with the keyboard alone: type, Tab, type, Enter.
func (b *browserShop) login(t *testing.T, ctx context.Context, username, password string) {
	t.Helper()
	b.do(t, ctx, b.open("/login/", `#f-username`),
		chromedp.Focus(`#f-username`), chromedp.KeyEvent(username), chromedp.KeyEvent("\t"), chromedp.KeyEvent(password), chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(`[data-testid="hello"]`))
	b.check(t, "greeting after login", b.text(t, ctx, `[data-testid="hello"]`), "欢迎您，"+username)
}

// addToCart adds count of a SKU from its page.
func (b *browserShop) addToCart(t *testing.T, ctx context.Context, sku int64) {
	t.Helper()
	b.do(t, ctx, b.open("/detail/"+strconv.FormatInt(sku, 10)+"/", `[data-testid="add-to-cart"]`),
		chromedp.Click(`[data-testid="add-to-cart"]`), waitText(`[data-testid="cart-message"]`, "已加入购物车"))
}

// openSale opens a flash sale from the staff page, with the form's
// default limit of one a user; start is a datetime-local value in UTC+8,
// or "" for now.
func (b *browserShop) openSale(t *testing.T, ctx context.Context, sku int64, stock int, price, start string) {
	t.Helper()
	b.do(t, ctx, b.open("/admin/seckill/", `[data-testid="sale-submit"]`),
		chromedp.SetValue(`[data-testid="sale-sku"]`, strconv.FormatInt(sku, 10)),
		chromedp.SendKeys(`[data-testid="sale-stock"]`, strconv.Itoa(stock)),
		chromedp.SendKeys(`[data-testid="sale-price-input"]`, price),
		chromedp.SetValue(`[data-testid="sale-start"]`, start),
		chromedp.Click(`[data-testid="sale-submit"]`), chromedp.WaitVisible(`[data-testid="seckill-notice"]`))
	b.check(t, "staff notice", b.text(t, ctx, `[data-testid="seckill-notice"]`), "秒杀已发起。")
}

// closeSale closes an open flash sale from the staff page.
func (b *browserShop) closeSale(t *testing.T, ctx context.Context, saleID int64) {
	t.Helper()
	b.do(t, ctx, b.open("/admin/seckill/", `[data-testid="sales"]`),
		chromedp.Click(fmt.Sprintf(`[data-testid="sale"][data-sale-id="%d"] [data-testid="sale-close"]`, saleID)),
		chromedp.WaitVisible(`[data-testid="seckill-notice"]`))
	b.check(t, "staff notice", b.text(t, ctx, `[data-testid="seckill-notice"]`), "秒杀已结束，未售出的库存已退回。")
}

// openSeckill opens a SKU's flash-sale page and waits until its script
// has run once (the countdown shows a time).
func (b *browserShop) openSeckill(t *testing.T, ctx context.Context, sku int64) {
	t.Helper()
	var ok bool
	b.do(t, ctx, b.open("/seckill/"+strconv.FormatInt(sku, 10)+"/", `[data-testid="seckill"]`),
		chromedp.Poll(`document.querySelector('[data-testid="countdown"]').textContent !== "--:--:--"`, &ok,
			chromedp.WithPollingInterval(50*time.Millisecond)))
}

// buyButton is what the flash sale's buy button says and whether it can
// be pressed.
func (b *browserShop) buyButton(t *testing.T, ctx context.Context) (string, bool) {
	t.Helper()
	var st struct {
		Text     string `json:"text"`
		Disabled bool   `json:"disabled"`
	}
	b.do(t, ctx, chromedp.WaitReady(`[data-testid="seckill-buy"]`), chromedp.Evaluate(
		`(() => { const e = document.querySelector('[data-testid="seckill-buy"]'); return {text: e.textContent.trim(), disabled: e.disabled}; })()`, &st))
	return st.Text, !st.Disabled
}

func (b *browserShop) checkBuyButton(t *testing.T, ctx context.Context, what, wantText string, wantEnabled bool) {
	t.Helper()
	text, enabled := b.buyButton(t, ctx)
	if text != wantText || enabled != wantEnabled {
		t.Errorf("%s: the buy button says %q, enabled %v; want %q, enabled %v", what, text, enabled, wantText, wantEnabled)
	}
}

// checkStaysEnded watches the flash sale's buy button for three ticks of
// seckill.js (250 ms each), and at least until the page's clock passes
// until, and fails if the button changed to anything but a disabled
// "已结束" meanwhile. The button must say so when it is called.
func (b *browserShop) checkStaysEnded(t *testing.T, ctx context.Context, what string, until time.Time) {
	t.Helper()
	b.checkBuyButton(t, ctx, what, "已结束", false)
	var done bool
	var changes []string
	b.do(t, ctx, chromedp.Evaluate(`(() => {
		const e = document.querySelector('[data-testid="seckill-buy"]');
		window.buyChanges = [];
		window.watchedFrom = performance.now();
		new MutationObserver(() => window.buyChanges.push(e.textContent.trim() + (e.disabled ? "" : " (enabled)")))
			.observe(e, {attributes: true, childList: true, characterData: true, subtree: true});
	})()`, nil),
		chromedp.Poll(fmt.Sprintf(`window.buyChanges.some(c => c !== "已结束") || (performance.now() - window.watchedFrom > 800 && Date.now() > %d)`, until.UnixMilli()),
			&done, chromedp.WithPollingInterval(50*time.Millisecond)),
		chromedp.Evaluate(`window.buyChanges`, &changes))
	for _, c := range changes {
		if c != "已结束" {
			t.Errorf("%s: the buy button changed to %q after the page showed the sale ended (all changes: %q)", what, c, changes)
			break
		}
	}
	b.checkBuyButton(t, ctx, what+", later", "已结束", false)
}

// recordMessages makes the page remember every text its status line
// shows, so a message replaced a moment later is still seen.
func recordMessages(sel string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => {
		const e = document.querySelector(%q);
		window.shownMessages = [];
		new MutationObserver(() => { if (e.textContent) window.shownMessages.push(e.textContent); })
			.observe(e, {childList: true, characterData: true, subtree: true});
	})()`, sel), nil)
}

func TestBrowser(t *testing.T) {
	b := startBrowserShop(t)
	ctx := context.Background()
	orders := order.New(b.store, order.Config{})

	t.Run("shopper registers, browses, searches, orders", func(t *testing.T) {
		tab := b.tab(t)
		b.do(t, tab, b.open("/register/", `#f-username`),
			chromedp.SendKeys(`#f-username`, "shopper01"), chromedp.SendKeys(`#f-password`, "shop-pass-123"),
			chromedp.SendKeys(`#f-password2`, "shop-pass-123"), chromedp.SendKeys(`#f-mobile`, "13912345678"),
			chromedp.Click(`#f-allow`), chromedp.Click(`[data-testid="register-submit"]`),
			chromedp.WaitVisible(`[data-testid="hello"]`), chromedp.WaitVisible(`[data-testid="sku-card"]`))
		b.check(t, "greeting", b.text(t, tab, `[data-testid="hello"]`), "欢迎您，shopper01")
		b.shot(t, tab, "home")

		b.do(t, tab, b.open("/list/1/1/", `[data-testid="sku-card"]`))
		if n := b.count(t, tab, `[data-testid="sku-card"]`); n < 2 {
			t.Errorf("the phones list shows %d products", n)
		}
		b.do(t, tab, b.open("/detail/1/", `[data-testid="detail"]`))
		b.check(t, "detail price", b.text(t, tab, `[data-testid="detail"] [data-testid="price"]`), "¥5999.00")
		b.shot(t, tab, "detail")
		b.addToCart(t, tab, demoIPhone)

		b.do(t, tab, chromedp.SendKeys(`[data-testid="search-input"]`, "AirPods\r"), chromedp.WaitVisible(`[data-testid="total"]`))
		if n := b.count(t, tab, `[data-testid="sku-card"]`); n != 1 {
			t.Fatalf("search AirPods shows %d products, want 1", n)
		}
		b.shot(t, tab, "search")
		b.do(t, tab, chromedp.Click(`[data-testid="sku-card"] a`), chromedp.WaitVisible(`[data-testid="add-to-cart"]`),
			chromedp.Click(`[data-testid="add-to-cart"]`), waitText(`[data-testid="cart-message"]`, "已加入购物车"))

		b.do(t, tab, b.open("/carts/", `[data-testid="cart-line"]`))
		if n := b.count(t, tab, `[data-testid="cart-line"]`); n != 2 {
			t.Fatalf("the cart shows %d lines, want 2", n)
		}
		b.do(t, tab, chromedp.Click(`[data-testid="cart-line"][data-sku-id="1"] [data-testid="line-plus"]`),
			waitText(`[data-testid="cart-total-amount"]`, "¥13897.00"))
		b.check(t, "cart count", b.text(t, tab, `[data-testid="cart-total-count"]`), "3")
		b.shot(t, tab, "cart")

		// The first address, then the settlement page.
		b.do(t, tab, b.open("/addresses/", `#f-receiver`),
			chromedp.SendKeys(`#f-receiver`, "张三"), chromedp.SendKeys(`#f-mobile`, "13800138000"),
			pickRegion(110000, 110100, 110108), chromedp.SendKeys(`#f-place`, "中关村大街 1 号"),
			chromedp.Click(`[data-testid="address-save"]`), chromedp.WaitVisible(`[data-testid="address"]`))
		b.do(t, tab, b.open("/orders/settlement/", `[data-testid="commit-order"]`))
		b.check(t, "settlement count", b.text(t, tab, `[data-testid="total-count"]`), "共 3 件")
		b.check(t, "settlement payable", b.text(t, tab, `[data-testid="payable"]`), "¥13907.00")
		b.shot(t, tab, "settlement")
		b.do(t, tab, chromedp.Click(`[data-testid="commit-order"]`), chromedp.WaitVisible(`[data-testid="order-success"]`))
		b.check(t, "paid amount", b.text(t, tab, `[data-testid="order-amount"]`), "¥13907.00")
		id := b.text(t, tab, `[data-testid="order-id"]`)
		b.shot(t, tab, "order-success")

		b.do(t, tab, chromedp.Click(`[data-testid="my-orders"]`), chromedp.WaitVisible(`[data-testid="order"]`))
		b.check(t, "my latest order", b.text(t, tab, `[data-testid="order-id"]`), id)
		b.check(t, "its total", b.text(t, tab, `[data-testid="order-total"]`), "¥13907.00")
		b.check(t, "its status", b.text(t, tab, `[data-testid="order-status"]`), "待发货")
		b.shot(t, tab, "my-orders")

		b.do(t, tab, chromedp.EmulateViewport(390, 844), b.open("/carts/", `[data-testid="cart-page"]`))
		b.noSideScroll(t, tab, "cart")
		b.shot(t, tab, "cart-phone")
	})

	t.Run("anonymous cart merged at login", func(t *testing.T) {
		testenv.CreateUser(t, b.store, "merger01")
		tab := b.tab(t)
		b.addToCart(t, tab, demoEdifier)
		b.do(t, tab, b.open("/carts/", `[data-testid="cart-line"]`))
		b.check(t, "anonymous cart", b.text(t, tab, `[data-testid="line-name"]`), "漫步者 EDIFIER M230 蓝牙音箱 象牙白")
		b.login(t, tab, "merger01", testenv.Password)
		b.do(t, tab, b.open("/carts/", `[data-testid="cart-line"]`))
		b.check(t, "cart after login", b.text(t, tab, `[data-testid="cart-line"][data-sku-id="22"] [data-testid="line-name"]`), "漫步者 EDIFIER M230 蓝牙音箱 象牙白")
		b.check(t, "cart badge", b.text(t, tab, `[data-testid="cart-count"]`), "1")
	})

	t.Run("out of stock at commit is shown", func(t *testing.T) {
		u := testenv.CreateUser(t, b.store, "late0001")
		testenv.CreateAddress(t, b.store, u.ID)
		tab := b.tab(t)
		b.login(t, tab, "late0001", testenv.Password)
		b.addToCart(t, tab, demoIPhonePink)
		b.do(t, tab, b.open("/carts/", `[data-testid="cart-line"]`), chromedp.Click(`[data-testid="line-plus"]`),
			waitText(`[data-testid="cart-total-count"]`, "2"))
		b.do(t, tab, b.open("/orders/settlement/", `[data-testid="commit-order"]`))
		// Someone else buys two of the three while this buyer looks at the page.
		other := testenv.CreateUser(t, b.store, "early001")
		addr := testenv.CreateAddress(t, b.store, other.ID)
		if _, err := orders.PlaceOrder(ctx, order.PlaceRequest{UserID: other.ID, AddressID: addr.ID, PayMethod: models.PayCash,
			Items: []order.Item{{SKUID: demoIPhonePink, Count: 2}}}); err != nil {
			t.Fatal(err)
		}
		b.do(t, tab, chromedp.Click(`[data-testid="commit-order"]`), waitText(`[data-testid="commit-error"]`, "库存不足"))
		b.check(t, "commit error", b.text(t, tab, `[data-testid="commit-error"]`), "商品「Apple iPhone 15 128GB 粉色」库存不足")
		b.shot(t, tab, "out-of-stock")
	})

	t.Run("shopper pays through the development gateway, staff see the payment", func(t *testing.T) {
		payer := testenv.CreateUser(t, b.store, "payer0001")
		addr := testenv.CreateAddress(t, b.store, payer.ID)
		placed, err := orders.PlaceOrder(ctx, order.PlaceRequest{UserID: payer.ID, AddressID: addr.ID, PayMethod: models.PayOnline,
			Items: []order.Item{{SKUID: demoEdifier, Count: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		tab := b.tab(t)
		b.login(t, tab, "payer0001", testenv.Password)
		b.do(t, tab, b.open("/orders/success/?order_id="+placed.OrderID, `[data-testid="pay"]`),
			chromedp.Click(`[data-testid="pay"]`), chromedp.WaitVisible(`[data-testid="dev-gateway"]`))
		b.check(t, "gateway amount", b.text(t, tab, `[data-testid="dev-pay"]`), "支付 ¥"+placed.TotalAmount.StringFixed(2))
		b.shot(t, tab, "dev-gateway")
		b.do(t, tab, chromedp.Click(`[data-testid="dev-pay"]`), chromedp.WaitVisible(`[data-testid="payment-outcome"][data-outcome="paid"]`))
		b.check(t, "paid order", b.text(t, tab, `[data-testid="payment-result"] [data-testid="order-id"]`), placed.OrderID)
		b.shot(t, tab, "payment-result")
		b.do(t, tab, chromedp.Click(`[data-testid="my-orders"]`), chromedp.WaitVisible(`[data-testid="order"]`))
		b.check(t, "status after paying", b.text(t, tab, `[data-testid="order-status"]`), "待发货")
		if n := b.count(t, tab, `[data-testid="order"] [data-testid="pay"]`); n != 0 {
			t.Errorf("a paid order still offers to pay")
		}

		staff := b.tab(t)
		b.login(t, staff, "boss01", "boss-pass-123")
		b.do(t, staff, b.open("/admin/orders/"+placed.OrderID+"/", `[data-testid="payment-applied"]`))
		b.shot(t, staff, "admin-order-paid")
		b.do(t, staff, chromedp.Click(`[data-testid="order-ship"]`), chromedp.WaitVisible(`[data-testid="flash"]`))
		b.check(t, "status after shipping", b.text(t, staff, `[data-testid="order-status"]`), "待收货")
		if n := b.count(t, staff, `[data-testid="order-event"]`); n != 2 {
			t.Errorf("%d order events shown, want 2 (paid, shipped)", n)
		}
	})

	t.Run("an online order from the cart to a review on the SKU page", func(t *testing.T) {
		u := testenv.CreateUser(t, b.store, "reviewer01")
		testenv.CreateAddress(t, b.store, u.ID)
		tab := b.tab(t)
		b.login(t, tab, "reviewer01", testenv.Password)
		b.addToCart(t, tab, demoMate60)
		b.do(t, tab, b.open("/orders/settlement/", `[data-testid="commit-order"]`),
			chromedp.Click(`[data-testid="pay-online"]`), chromedp.Click(`[data-testid="commit-order"]`),
			chromedp.WaitVisible(`[data-testid="order-success"]`))
		id := b.text(t, tab, `[data-testid="order-id"]`)
		b.do(t, tab, chromedp.Click(`[data-testid="pay"]`), chromedp.WaitVisible(`[data-testid="dev-pay"]`),
			chromedp.Click(`[data-testid="dev-pay"]`), chromedp.WaitVisible(`[data-testid="payment-outcome"][data-outcome="paid"]`))

		// From my orders to the detail page: paid, awaiting shipment.
		b.do(t, tab, b.open("/orders/info/1/", `[data-testid="order-detail-link"]`),
			chromedp.Click(`[data-testid="order"][data-order-id="`+id+`"] [data-testid="order-detail-link"]`),
			chromedp.WaitVisible(`[data-testid="timeline"]`))
		b.check(t, "detail status", b.text(t, tab, `[data-testid="order-status"]`), "待发货")
		b.check(t, "detail total", b.text(t, tab, `[data-testid="order-total"]`), "¥6509.00")
		b.check(t, "paid in the timeline", b.text(t, tab, `[data-testid="timeline-entry"][data-what="paid"] strong`), "支付成功")
		if n := b.count(t, tab, `[data-testid="payment-trade"]`); n != 1 {
			t.Errorf("the detail page shows %d payments, want 1", n)
		}
		b.shot(t, tab, "order-detail-paid")

		staff := b.tab(t)
		b.login(t, staff, "boss01", "boss-pass-123")
		b.do(t, staff, b.open("/admin/orders/"+id+"/", `[data-testid="order-ship"]`),
			chromedp.Click(`[data-testid="order-ship"]`), chromedp.WaitVisible(`[data-testid="flash"]`))
		b.check(t, "status after shipping", b.text(t, staff, `[data-testid="order-status"]`), "待收货")

		// Tabs share the browser's cookies: the shopper logs in again.
		tab = b.tab(t)
		b.login(t, tab, "reviewer01", testenv.Password)
		b.do(t, tab, b.open("/orders/detail/"+id+"/", `[data-testid="receive"]`),
			chromedp.Click(`[data-testid="receive"]`), chromedp.WaitVisible(`[data-testid="review"]`))
		b.check(t, "status after receipt", b.text(t, tab, `[data-testid="order-status"]`), "待评价")
		b.do(t, tab, chromedp.Click(`[data-testid="review"]`), chromedp.WaitVisible(`[data-testid="review-form"]`),
			chromedp.Click(`[data-testid="review-score-4"]`),
			chromedp.SendKeys(`[data-testid="review-comment"]`, "拍照很清楚，电池耐用"),
			chromedp.Click(`[data-testid="review-anonymous"]`))
		b.shot(t, tab, "review")
		b.do(t, tab, chromedp.Click(`[data-testid="review-submit"]`),
			chromedp.WaitVisible(`[data-testid="timeline-entry"][data-what="reviewed"]`))
		b.check(t, "status after the review", b.text(t, tab, `[data-testid="order-status"]`), "已完成")

		b.do(t, tab, b.open("/detail/"+strconv.Itoa(demoMate60)+"/", `[data-testid="sku-review"]`))
		b.check(t, "review on the SKU page", b.text(t, tab, `[data-testid="sku-review"] [data-testid="review-text"]`), "拍照很清楚，电池耐用")
		b.check(t, "anonymous reviewer", b.text(t, tab, `[data-testid="sku-review"] [data-testid="review-user"]`), "r***1")
		b.check(t, "stars", b.text(t, tab, `[data-testid="sku-review"] [data-testid="review-stars"]`), "★★★★☆")
		b.shot(t, tab, "sku-reviews")

		// The visit went into the browse history, shown in the user centre.
		var seen bool
		b.do(t, tab, chromedp.Poll(`fetch("/browse_histories/", {headers: {Accept: "application/json"}}).then(r => r.json()).then(b => b.skus.some(k => k.id === `+strconv.Itoa(demoMate60)+`))`,
			&seen, chromedp.WithPollingInterval(100*time.Millisecond)),
			b.open("/info/", `[data-testid="history-sku"]`))
		b.check(t, "history", b.text(t, tab, `[data-testid="history-sku"] [data-testid="history-name"]`), "华为 HUAWEI Mate 60 Pro 12GB+256GB 雅川青")
		b.shot(t, tab, "user-center")
	})

	t.Run("staff adjust stock, see the ledger, cancel an order", func(t *testing.T) {
		buyer := testenv.CreateUser(t, b.store, "buyer0001")
		addr := testenv.CreateAddress(t, b.store, buyer.ID)
		placed, err := orders.PlaceOrder(ctx, order.PlaceRequest{UserID: buyer.ID, AddressID: addr.ID, PayMethod: models.PayOnline,
			Items: []order.Item{{SKUID: demoEdifier, Count: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		tab := b.tab(t)
		b.login(t, tab, "boss01", "boss-pass-123")
		b.do(t, tab, b.open("/admin/", `[data-testid="stat-orders"]`))
		b.shot(t, tab, "admin-dashboard")
		sku := "/admin/skus/" + strconv.Itoa(demoEdifier) + "/"
		b.do(t, tab, b.open(sku, `[data-testid="stock-now"]`))
		before, _ := strconv.Atoi(b.text(t, tab, `[data-testid="stock-now"]`))
		b.do(t, tab, chromedp.SendKeys(`[data-testid="adjust-delta"]`, "5"), chromedp.SendKeys(`[data-testid="adjust-note"]`, "到货入库"),
			chromedp.Click(`[data-testid="adjust-submit"]`), chromedp.WaitVisible(`[data-testid="flash"]`))
		b.check(t, "flash", b.text(t, tab, `[data-testid="flash"]`), fmt.Sprintf("库存已调整，当前库存 %d", before+5))
		b.check(t, "stock", b.text(t, tab, `[data-testid="stock-now"]`), strconv.Itoa(before+5))
		b.check(t, "ledger delta", b.text(t, tab, `[data-testid="ledger-row"] [data-testid="ledger-delta"]`), "+5")
		b.check(t, "ledger after", b.text(t, tab, `[data-testid="ledger-row"] [data-testid="ledger-after"]`), strconv.Itoa(before+5))
		b.check(t, "ledger reason", b.text(t, tab, `[data-testid="ledger-row"] [data-testid="ledger-reason"]`), "人工调整")
		b.check(t, "ledger who", b.text(t, tab, `[data-testid="ledger-row"] [data-testid="ledger-who"]`), "boss01")
		b.shot(t, tab, "admin-sku")

		b.do(t, tab, b.open("/admin/orders/?status=1&user=buyer0001", `[data-testid="order-link"]`),
			chromedp.Click(`[data-testid="order-link"]`), chromedp.WaitVisible(`[data-testid="order-cancel"]`))
		b.check(t, "order id", b.text(t, tab, `[data-testid="order-detail"] h1, h1.page-title`), "订单 "+placed.OrderID)
		b.check(t, "order total", b.text(t, tab, `[data-testid="order-total"]`), "¥1207.00")
		b.do(t, tab, chromedp.Click(`[data-testid="order-cancel"]`), chromedp.WaitVisible(`[data-testid="flash"]`))
		b.check(t, "flash", b.text(t, tab, `[data-testid="flash"]`), "订单已取消，库存已退回")
		b.check(t, "status after cancel", b.text(t, tab, `[data-testid="order-status"]`), "已取消")
		if n := b.count(t, tab, `[data-testid="order-cancel"]`); n != 0 {
			t.Errorf("a canceled order still offers to cancel")
		}
		b.shot(t, tab, "admin-order-canceled")
		b.do(t, tab, b.open(sku, `[data-testid="stock-now"]`))
		b.check(t, "stock after the cancel", b.text(t, tab, `[data-testid="stock-now"]`), strconv.Itoa(before+8))
		b.check(t, "ledger reason", b.text(t, tab, `[data-testid="ledger-row"] [data-testid="ledger-reason"]`), "取消退回")

		b.do(t, tab, chromedp.EmulateViewport(390, 844), b.open("/admin/orders/", `[data-testid="order-table"]`))
		b.noSideScroll(t, tab, "admin orders")
		b.shot(t, tab, "admin-orders-phone")
	})

	t.Run("a shopper is refused the admin", func(t *testing.T) {
		testenv.CreateUser(t, b.store, "nosy0001")
		tab := b.tab(t)
		b.login(t, tab, "nosy0001", testenv.Password)
		b.do(t, tab, b.open("/admin/", `[data-testid="error-page"]`))
		b.check(t, "refusal", b.text(t, tab, `[data-testid="error-message"]`), "没有权限访问")
		b.check(t, "status", b.text(t, tab, `[data-testid="error-page"] h1`), "403")
		b.shot(t, tab, "admin-refused")
	})

	t.Run("flash sale: countdown, one buy a user, sold out, ended", func(t *testing.T) {
		u := testenv.CreateUser(t, b.store, "flash0001")
		testenv.CreateAddress(t, b.store, u.ID)
		const (
			buy     = `[data-testid="seckill-buy"]`
			message = `[data-testid="seckill-message"]`
			left    = `[data-testid="stock-left"]`
		)

		// Staff open two sales that are live now, one of a single unit, and
		// one that starts in two days.
		staff := b.tab(t)
		b.login(t, staff, "boss01", "boss-pass-123")
		b.openSale(t, staff, demoXiaomi, 2, "1999.00", "")
		b.openSale(t, staff, demoWatchPink, 1, "1999.00", "")
		later := time.Now().In(time.FixedZone("CST", 8*3600)).Add(48 * time.Hour).Format("2006-01-02T15:04")
		b.openSale(t, staff, demoWatch, 3, "2599.00", later)
		b.shot(t, staff, "admin-seckill")

		// Not started: a countdown to the start (two days less the minutes
		// the form dropped), the stock, and no buying.
		tab := b.tab(t)
		b.login(t, tab, "flash0001", testenv.Password)
		b.openSeckill(t, tab, demoWatch)
		b.check(t, "upcoming sale", b.text(t, tab, `[data-testid="sku-name"]`), "Apple Watch Series 9 GPS 45mm 午夜色铝金属表壳 运动型表带")
		b.check(t, "countdown label", b.text(t, tab, `#countdown-label`), "距开始")
		if cd := b.text(t, tab, `[data-testid="countdown"]`); !regexp.MustCompile(`^1d 23:\d\d:\d\d$`).MatchString(cd) {
			t.Errorf("countdown to a start two days away: the page shows %q", cd)
		}
		b.check(t, "stock before the start", b.text(t, tab, left), "3 / 3 件")
		b.checkBuyButton(t, tab, "before the start", "即将开始", false)
		b.shot(t, tab, "seckill-upcoming")

		// Live: the buy is queued, then created, as the page polls for it.
		b.openSeckill(t, tab, demoXiaomi)
		b.check(t, "live sale", b.text(t, tab, `[data-testid="sku-name"]`), "小米 Xiaomi 14 12GB+256GB 白色")
		b.check(t, "sale price", b.text(t, tab, `[data-testid="sale-price"]`), "¥1999.00")
		b.check(t, "countdown label", b.text(t, tab, `#countdown-label`), "距结束")
		b.check(t, "stock of a live sale", b.text(t, tab, left), "2 / 2 件")
		b.checkBuyButton(t, tab, "live sale", "立即抢购", true)
		b.do(t, tab, recordMessages(message), chromedp.Click(buy),
			waitText(message, "订单已生成，请尽快支付"), chromedp.WaitVisible(`[data-testid="seckill-orders-link"]`))
		var shown []string
		b.do(t, tab, chromedp.Evaluate(`window.shownMessages`, &shown))
		if diff := cmp.Diff([]string{"抢购成功，订单正在生成", "订单已生成，请尽快支付"}, shown); diff != "" {
			t.Errorf("messages after buying (-want +got):\n%s", diff)
		}
		b.check(t, "stock after the buy, before a reload", b.text(t, tab, left), "1 / 2 件")
		b.shot(t, tab, "seckill-bought")

		// The link shows once the order is in the database: it is unpaid,
		// at the sale price plus the usual freight.
		b.do(t, tab, chromedp.Click(`[data-testid="seckill-orders-link"]`), chromedp.WaitVisible(`[data-testid="order"]`))
		b.check(t, "flash-sale order", b.text(t, tab, `[data-testid="order"] [data-testid="line-name"]`), "小米 Xiaomi 14 12GB+256GB 白色")
		b.check(t, "its count", b.text(t, tab, `[data-testid="order-count"]`), "共 1 件")
		b.check(t, "its total, freight included", b.text(t, tab, `[data-testid="order-total"]`), "¥2009.00")
		b.check(t, "its status", b.text(t, tab, `[data-testid="order-status"]`), "待支付")
		b.shot(t, tab, "seckill-my-orders")

		// One a user: a reload shows the shopper's order, and the button
		// stays disabled (the server refuses a second buy anyway:
		// TestSeckillHTTP).
		b.openSeckill(t, tab, demoXiaomi)
		b.check(t, "stock after the buy", b.text(t, tab, left), "1 / 2 件")
		b.check(t, "the buyer's result after a reload", b.text(t, tab, `[data-testid="seckill-mine"]`), "您已抢到！订单已生成，请在“我的订单”中支付。")
		b.checkBuyButton(t, tab, "after the buy, reloaded", "已抢购", false)
		b.shot(t, tab, "seckill-limit")
		b.openSeckill(t, tab, demoXiaomi)
		b.check(t, "stock after the refusal", b.text(t, tab, left), "1 / 2 件")

		// Sold out: the shopper takes the single unit of the other sale.
		b.openSeckill(t, tab, demoWatchPink)
		b.check(t, "stock of a one-unit sale", b.text(t, tab, left), "1 / 1 件")
		b.do(t, tab, chromedp.Click(buy), waitText(message, "订单已生成，请尽快支付"))
		b.check(t, "stock when sold out, before a reload", b.text(t, tab, left), "0 / 1 件")
		b.checkBuyButton(t, tab, "sold out, before a reload", "已抢光", false)
		b.openSeckill(t, tab, demoWatchPink)
		b.check(t, "stock when sold out", b.text(t, tab, left), "0 / 1 件")
		b.checkBuyButton(t, tab, "sold out", "已抢光", false)
		b.shot(t, tab, "seckill-sold-out")

		// A sale that ends while its page is open. The staff form has
		// minutes only, so this one is opened through the Store.
		now := time.Now()
		if _, err := b.store.Sales.OpenSale(ctx, models.SaleInput{SKUID: demoWatchStar, Stock: 2, Price: decimal.RequireFromString("2599.00"),
			Start: now.Add(-time.Hour), End: now.Add(time.Second)}); err != nil {
			t.Fatal(err)
		}
		var ended bool
		b.openSeckill(t, tab, demoWatchStar)
		b.do(t, tab, chromedp.Poll(`document.querySelector('[data-testid="seckill-buy"]').textContent.trim() === "已结束"`, &ended,
			chromedp.WithPollingInterval(50*time.Millisecond)))
		b.checkBuyButton(t, tab, "when the sale ends", "已结束", false)
		b.check(t, "countdown at the end", b.text(t, tab, `[data-testid="countdown"]`), "00:00:00")
		b.openSeckill(t, tab, demoWatchStar)
		b.checkBuyButton(t, tab, "an ended sale", "已结束", false)
		b.shot(t, tab, "seckill-ended")
	})

	t.Run("flash sale: closed early by staff stays ended", func(t *testing.T) {
		u := testenv.CreateUser(t, b.store, "flash0002")
		testenv.CreateAddress(t, b.store, u.ID)
		const (
			buy     = `[data-testid="seckill-buy"]`
			message = `[data-testid="seckill-message"]`
			left    = `[data-testid="stock-left"]`
		)
		staff := b.tab(t)
		b.login(t, staff, "boss01", "boss-pass-123")
		b.openSale(t, staff, demoXiaomi512, 3, "3599.00", "")

		// A live sale: the shopper buys, and the page shows one unit less.
		tab := b.tab(t)
		b.login(t, tab, "flash0002", testenv.Password)
		b.openSeckill(t, tab, demoXiaomi512)
		b.check(t, "live sale", b.text(t, tab, `[data-testid="sku-name"]`), "小米 Xiaomi 14 16GB+512GB 黑色")
		b.check(t, "stock of a live sale", b.text(t, tab, left), "3 / 3 件")
		b.do(t, tab, chromedp.Click(buy), waitText(left, "2 / 3 件"), waitText(message, "订单已生成，请尽快支付"))
		if _, enabled := b.buyButton(t, tab); enabled {
			t.Errorf("after the buy: the buy button is enabled")
		}

		// Staff close it early, and close another sale before its start.
		// The staff form has minutes only, so that one is opened through
		// the Store. (Tabs share cookies: each flow logs in again.)
		live, err := b.store.Sales.LiveSale(ctx, demoXiaomi512)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now().Add(5 * time.Second)
		upcoming, err := b.store.Sales.OpenSale(ctx, models.SaleInput{SKUID: demoMate60, Stock: 2, Price: decimal.RequireFromString("5999.00"),
			Start: start, End: start.Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		staff = b.tab(t)
		b.login(t, staff, "boss01", "boss-pass-123")
		b.closeSale(t, staff, live.ID)
		b.closeSale(t, staff, upcoming.ID)

		// The pages say the sales ended, and keep saying so: the closed
		// upcoming one when its start passes, the closed live one although
		// the clock is inside its window.
		tab = b.tab(t)
		b.login(t, tab, "flash0002", testenv.Password)
		b.openSeckill(t, tab, demoMate60)
		b.check(t, "sale closed before its start", b.text(t, tab, `[data-testid="sku-name"]`), "华为 HUAWEI Mate 60 Pro 12GB+256GB 雅川青")
		b.check(t, "its stock", b.text(t, tab, left), "2 / 2 件")
		b.checkStaysEnded(t, tab, "a sale closed before its start, past its start", start.Add(500*time.Millisecond))
		b.check(t, "its countdown", b.text(t, tab, `[data-testid="countdown"]`), "00:00:00")

		b.openSeckill(t, tab, demoXiaomi512)
		b.check(t, "stock of the sale closed early", b.text(t, tab, left), "2 / 3 件")
		b.checkStaysEnded(t, tab, "a live sale closed early", time.Now())
		b.check(t, "its countdown", b.text(t, tab, `[data-testid="countdown"]`), "00:00:00")
		b.shot(t, tab, "seckill-closed-early")
	})

	if bad, err := b.store.Ledger.LedgerMismatches(ctx); err != nil || len(bad) > 0 {
		t.Errorf("stock != ledger for %v (%v)", bad, err)
	}
}
