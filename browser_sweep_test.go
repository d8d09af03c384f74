package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/web"
)

// The sweep's visitors.
const (
	anonymous = "anonymous"
	shopper   = "shopper"
	staff     = "staff"
)

// sweepPage is one page the sweep opens, and for whom.
type sweepPage struct {
	route  string // the router's pattern it stands for
	name   string // for messages and screenshots
	path   string
	status int      // what it answers the visitors in who; 0 means 200
	who    []string // the visitors who see it, in both languages at both widths
	// refused are the visitors who do not, and what they get instead:
	// "/login/" (redirected there) or "403". Checked once, in Chinese at
	// 1366 px: the page they see is swept anyway.
	refused map[string]string
}

// notPages are the GET routes that answer no HTML page of their own, and
// so are not swept; every other GET route must be in the sweep.
var notPages = map[string]string{
	"/static/*filepath":          "files",
	"/healthz":                   "health check",
	"/livez":                     "health check",
	"/readyz":                    "health check",
	"/media/:name":               "uploaded images",
	"/lang/":                     "redirects after setting the language",
	"/areas/":                    "JSON",
	"/areas/:id/":                "JSON",
	"/browse_histories/":         "JSON",
	"/carts/simple/":             "JSON",
	"/comments/:sku_id/":         "JSON",
	"/payment/:order_id/":        "JSON",
	"/seckill/result/:order_id/": "JSON",
}

// sweepWatch records what went wrong in a tab: console errors, uncaught
// exceptions, the browser's own error log, failed requests and answers of
// 400 or more.
type sweepWatch struct {
	mu       sync.Mutex
	urls     map[network.RequestID]string
	problems []sweepProblem
}

type sweepProblem struct{ url, what string }

func watchSweep(ctx context.Context) *sweepWatch {
	w := &sweepWatch{urls: map[network.RequestID]string{}}
	chromedp.ListenTarget(ctx, func(ev any) {
		w.mu.Lock()
		defer w.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				msg := "console.error"
				for _, a := range e.Args {
					msg += " " + string(a.Value) + a.Description
				}
				w.problems = append(w.problems, sweepProblem{what: msg})
			}
		case *runtime.EventExceptionThrown:
			msg := "uncaught exception: " + e.ExceptionDetails.Text
			if e.ExceptionDetails.Exception != nil {
				msg += " " + e.ExceptionDetails.Exception.Description
			}
			w.problems = append(w.problems, sweepProblem{url: e.ExceptionDetails.URL, what: msg})
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError {
				w.problems = append(w.problems, sweepProblem{url: e.Entry.URL, what: "log: " + e.Entry.Text})
			}
		case *network.EventRequestWillBeSent:
			w.urls[e.RequestID] = e.Request.URL
		case *network.EventResponseReceived:
			if e.Response.Status >= 400 {
				w.problems = append(w.problems, sweepProblem{url: e.Response.URL, what: fmt.Sprintf("answered %d", e.Response.Status)})
			}
		case *network.EventLoadingFailed:
			// A request cut short by leaving the page is no failure.
			if !e.Canceled {
				w.problems = append(w.problems, sweepProblem{url: w.urls[e.RequestID], what: "request failed: " + e.ErrorText})
			}
		}
	})
	return w
}

// take returns the problems seen since the last call, less those about
// the page's own URL when it answered an error on purpose.
func (w *sweepWatch) take(expectedError string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, p := range w.problems {
		if expectedError != "" && p.url == expectedError {
			continue
		}
		out = append(out, strings.TrimSpace(p.what+" "+p.url))
	}
	w.problems = nil
	clear(w.urls)
	return out
}

// sweepFixture is the shopper's world: an address, a cart line, an order
// in every state, a paid one's return page; and a live and an upcoming
// flash sale.
type sweepFixture struct {
	unpaid, paid, toReview, done string // order ids
	gateway, paidReturn          string // paths
	leafList                     string // a third-level category's list
}

func sweepSetup(t *testing.T, b *browserShop, tab context.Context, uid int64) sweepFixture {
	t.Helper()
	ctx := context.Background()
	addr := testenv.CreateAddress(t, b.store, uid)
	orders := order.New(b.store, order.Config{})
	place := func(pay int, sku int64) string {
		t.Helper()
		o, err := orders.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr.ID, PayMethod: pay,
			Items: []order.Item{{SKUID: sku, Count: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		return o.OrderID
	}
	var f sweepFixture
	f.unpaid = place(models.PayOnline, demoEdifier)
	toPay := place(models.PayOnline, demoIPhone)
	shipped := place(models.PayCash, demoWatch)
	f.toReview = place(models.PayCash, demoMate60)
	f.done = place(models.PayCash, demoXiaomi)
	canceled := place(models.PayCash, demoEdifier)
	for _, step := range []struct {
		what string
		err  error
	}{
		{"ship", orders.ShipOrder(ctx, shipped, nil)},
		{"ship", orders.ShipOrder(ctx, f.toReview, nil)},
		{"receive", orders.ReceiveOrder(ctx, uid, f.toReview)},
		{"ship", orders.ShipOrder(ctx, f.done, nil)},
		{"receive", orders.ReceiveOrder(ctx, uid, f.done)},
		{"cancel", orders.CancelOwnOrder(ctx, uid, canceled)},
	} {
		if step.err != nil {
			t.Fatalf("%s: %v", step.what, step.err)
		}
	}
	if _, err := orders.ReviewLine(ctx, uid, order.Review{OrderID: f.done, SKUID: demoXiaomi, Comment: "屏幕很好，系统流畅", Score: 5}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, s := range []models.SaleInput{
		{SKUID: demoXiaomi512, Stock: 5, Price: decimal.RequireFromString("3999.00"), Start: now.Add(-time.Minute), End: now.Add(2 * time.Hour)},
		{SKUID: demoWatchStar, Stock: 3, Price: decimal.RequireFromString("2599.00"), Start: now.Add(3 * time.Hour), End: now.Add(4 * time.Hour)},
	} {
		if _, err := b.store.Sales.OpenSale(ctx, s); err != nil {
			t.Fatal(err)
		}
	}

	// The gateway's page for one unpaid order; another one paid there, for
	// the page Alipay sends the buyer back to.
	payURL := func(id string) string {
		t.Helper()
		var u string
		b.do(t, tab, chromedp.Evaluate(fmt.Sprintf(`fetch("/payment/%s/", {headers: {Accept: "application/json"}}).then(r => r.json()).then(b => b.alipay_url)`, id),
			&u, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
		p, err := url.Parse(u)
		if err != nil || !strings.HasPrefix(u, b.base) {
			t.Fatalf("order %s: alipay_url %q is not the development gateway", id, u)
		}
		return p.RequestURI()
	}
	f.gateway = payURL(f.unpaid)
	b.do(t, tab, b.open(payURL(toPay), `[data-testid="dev-pay"]`), chromedp.Click(`[data-testid="dev-pay"]`),
		chromedp.WaitVisible(`[data-testid="payment-outcome"][data-outcome="paid"]`))
	var loc string
	b.do(t, tab, chromedp.Location(&loc))
	p, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	f.paidReturn, f.paid = p.RequestURI(), toPay

	b.do(t, tab, b.open("/", `[data-testid="menu-l3"]`),
		chromedp.Evaluate(`document.querySelector('[data-testid="menu-l3"]').getAttribute("href")`, &f.leafList))
	b.addToCart(t, tab, demoK70White256) // for the cart and the settlement
	return f
}

// TestBrowserSweep opens every page of the shop and of its admin, found by
// walking the router: as an anonymous visitor where it is public, as a
// shopper and as staff, in Chinese and English, at 1366x900 and 390x844.
// Each page must answer as expected, fit the width (nothing scrolls
// sideways), show every picture, and log no error: no console error, no
// uncaught exception, no failed request. A screenshot of each goes to
// the test's artifact directory (go test -artifacts).
func TestBrowserSweep(t *testing.T) {
	b := startBrowserShop(t)
	u := testenv.CreateUser(t, b.store, "sweep001")
	tab := b.tab(t)
	b.login(t, tab, "sweep001", testenv.Password)
	f := sweepSetup(t, b, tab, u.ID)

	shopperOnly := map[string]string{anonymous: "/login/"}
	adminOnly := map[string]string{anonymous: "/login/", shopper: "403"}
	public := []string{anonymous, shopper}
	mine := []string{shopper}
	admin := []string{staff}
	id := strconv.Itoa
	pages := []sweepPage{
		{route: "/", name: "home", path: "/", who: []string{anonymous, shopper, staff}},
		{route: "(no route)", name: "not-found", path: "/no-such-page/", status: http.StatusNotFound, who: public},
		{route: "/list/:category_id/:page/", name: "list", path: "/list/1/1/", who: public},
		{route: "/list/:category_id/:page/", name: "list-leaf-by-price", path: f.leafList + "?sort=-price", who: public},
		{route: "/detail/:sku_id/", name: "detail-specs", path: "/detail/" + id(demoK70White256) + "/", who: public},
		{route: "/detail/:sku_id/", name: "detail-sale", path: "/detail/" + id(demoXiaomi512) + "/", who: public},
		{route: "/detail/:sku_id/", name: "detail-reviewed", path: "/detail/" + id(demoXiaomi) + "/", who: public},
		{route: "/search/", name: "search", path: "/search/?q=" + url.QueryEscape("手机"), who: public},
		{route: "/search/", name: "search-nothing", path: "/search/?q=nothing-like-this", who: public},
		{route: "/register/", name: "register", path: "/register/", who: []string{anonymous}},
		{route: "/login/", name: "login", path: "/login/", who: []string{anonymous}},
		{route: "/carts/", name: "cart", path: "/carts/", who: public},
		{route: "/seckill/:sku_id/", name: "seckill-live", path: "/seckill/" + id(demoXiaomi512) + "/", who: public},
		{route: "/seckill/:sku_id/", name: "seckill-upcoming", path: "/seckill/" + id(demoWatchStar) + "/", who: public},
		{route: "/dev/alipay/gateway.do", name: "dev-gateway", path: f.gateway, who: public},
		{route: "/payment/status/", name: "payment-status", path: f.paidReturn, who: public},
		{route: "/payment/status/", name: "payment-status-forged", path: "/payment/status/?out_trade_no=1&sign=forged", status: http.StatusBadRequest, who: public},

		{route: "/info/", name: "user-centre", path: "/info/", who: mine, refused: shopperOnly},
		{route: "/password/", name: "password", path: "/password/", who: mine, refused: shopperOnly},
		{route: "/addresses/", name: "addresses", path: "/addresses/", who: mine, refused: shopperOnly},
		{route: "/orders/settlement/", name: "settlement", path: "/orders/settlement/", who: mine, refused: shopperOnly},
		{route: "/orders/success/", name: "order-success", path: "/orders/success/?order_id=" + f.unpaid, who: mine, refused: shopperOnly},
		{route: "/orders/detail/:order_id/", name: "order-detail-unpaid", path: "/orders/detail/" + f.unpaid + "/", who: mine, refused: shopperOnly},
		{route: "/orders/detail/:order_id/", name: "order-detail-done", path: "/orders/detail/" + f.done + "/", who: mine, refused: shopperOnly},
		{route: "/orders/comment/", name: "review", path: "/orders/comment/?order_id=" + f.toReview, who: mine, refused: shopperOnly},
	}
	for _, status := range []string{"all", "1", "2", "3", "4", "done"} {
		pages = append(pages, sweepPage{route: "/orders/info/:page/", name: "my-orders-" + status, path: "/orders/info/1/?status=" + status, who: mine, refused: shopperOnly})
	}
	pages = append(pages, []sweepPage{
		{route: "/admin/", name: "admin-dashboard", path: "/admin/", who: admin, refused: adminOnly},
		{route: "/admin/skus/", name: "admin-skus", path: "/admin/skus/", who: admin, refused: adminOnly},
		{route: "/admin/skus/new/", name: "admin-sku-new", path: "/admin/skus/new/", who: admin, refused: adminOnly},
		{route: "/admin/skus/:id/", name: "admin-sku", path: "/admin/skus/" + id(demoK70White256) + "/", who: admin, refused: adminOnly},
		{route: "/admin/spus/", name: "admin-spus", path: "/admin/spus/", who: admin, refused: adminOnly},
		{route: "/admin/spus/new/", name: "admin-spu-new", path: "/admin/spus/new/", who: admin, refused: adminOnly},
		{route: "/admin/spus/:id/", name: "admin-spu", path: "/admin/spus/1/", who: admin, refused: adminOnly},
		{route: "/admin/stock/low/", name: "admin-low-stock", path: "/admin/stock/low/", who: admin, refused: adminOnly},
		{route: "/admin/ledger/", name: "admin-ledger", path: "/admin/ledger/", who: admin, refused: adminOnly},
		{route: "/admin/orders/", name: "admin-orders", path: "/admin/orders/", who: admin, refused: adminOnly},
		{route: "/admin/orders/:order_id/", name: "admin-order", path: "/admin/orders/" + f.paid + "/", who: admin, refused: adminOnly},
		{route: "/admin/orders/:order_id/", name: "admin-order-unpaid", path: "/admin/orders/" + f.unpaid + "/", who: admin, refused: adminOnly},
		{route: "/admin/refunds/", name: "admin-refunds", path: "/admin/refunds/", who: admin, refused: adminOnly},
		{route: "/admin/seckill/", name: "admin-seckill", path: "/admin/seckill/", who: admin, refused: adminOnly},
	}...)

	// Every GET route that renders a page is swept.
	swept := map[string]bool{}
	for _, p := range pages {
		swept[p.route] = true
	}
	for _, r := range web.Routes(&handlers.Handlers{}, web.Config{CSRFKey: make([]byte, 32), Log: slog.New(slog.DiscardHandler)}) {
		if r.Method == http.MethodGet && !swept[r.Path] && notPages[r.Path] == "" {
			t.Errorf("GET %s is neither swept nor listed in notPages", r.Path)
		}
	}

	shots := t.ArtifactDir()
	t.Logf("screenshots in %s", shots)
	sizes := [][2]int64{{1366, 900}, {390, 844}}
	for _, who := range []string{anonymous, shopper, staff} {
		t.Run(who, func(t *testing.T) {
			tab := b.sweepTab(t)
			watch := watchSweep(tab)
			switch who {
			case anonymous:
				b.addToCart(t, tab, demoEdifier)
			case shopper:
				b.login(t, tab, "sweep001", testenv.Password)
			case staff:
				b.login(t, tab, "boss01", "boss-pass-123")
			}
			for _, lang := range []string{"zh", "en"} {
				b.do(t, tab, chromedp.Navigate(b.base+"/lang/?to="+lang+"&next=/"))
				for _, e := range watch.take("") {
					t.Errorf("logging in, filling the cart or choosing %s: %s", lang, e)
				}
				for _, size := range sizes {
					b.do(t, tab, chromedp.EmulateViewport(size[0], size[1]))
					for _, p := range pages {
						name := fmt.Sprintf("%s-%s-%s-%d", who, lang, p.name, size[0])
						switch want := p.refused[who]; {
						case slices.Contains(p.who, who):
							b.sweepOne(t, tab, watch, p, "", name, filepath.Join(shots, name+".jpg"))
						case want != "" && lang == "zh" && size == sizes[0]:
							b.sweepOne(t, tab, watch, p, want, name, "")
						}
					}
				}
			}
		})
	}
}

// sweepTab opens a tab with no cookies, in Chinese, as b.tab does, with
// time for one visitor's whole sweep (some 25 s here, several times that
// under -race on a busy machine). As on a phone, the scrollbar takes no
// width: the page is laid out 390 px wide, not 375, and its screenshot is
// whole.
func (b *browserShop) sweepTab(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.browser)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel() })
	b.do(t, ctx, network.ClearBrowserCookies(), emulation.SetScrollbarsHidden(true),
		chromedp.Navigate(b.base+"/lang/?to=zh&next=/"), chromedp.WaitVisible(`[data-testid="user-links"]`))
	return ctx
}

// sweepOne opens a page and checks it: that it answers as p says, or as
// refused says (want); that it fits the width, shows every picture and
// logs no error. A screenshot goes to shot unless it is "".
func (b *browserShop) sweepOne(t *testing.T, tab context.Context, watch *sweepWatch, p sweepPage, want, name, shot string) {
	t.Helper()
	res, err := chromedp.RunResponse(tab, chromedp.Navigate(b.base+p.path))
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	got, err := url.Parse(res.URL)
	if err != nil {
		t.Fatal(err)
	}
	expectedError := ""
	switch {
	case want == "" && p.status != 0:
		expectedError = res.URL
		if int(res.Status) != p.status {
			t.Errorf("%s: %s answered %d, want %d", name, p.path, res.Status, p.status)
		}
	case want == "":
		if res.Status != http.StatusOK || got.RequestURI() != p.path {
			t.Errorf("%s: %s answered %d at %s, want 200", name, p.path, res.Status, got.RequestURI())
		}
	case strings.HasPrefix(want, "/"):
		if res.Status != http.StatusOK || got.Path != want {
			t.Errorf("%s: %s answered %d at %s, want a redirect to %s", name, p.path, res.Status, got.RequestURI(), want)
		}
	default:
		expectedError = res.URL
		if strconv.Itoa(int(res.Status)) != want {
			t.Errorf("%s: %s answered %d, want %s", name, p.path, res.Status, want)
		}
	}
	var page struct {
		ScrollWidth int      `json:"scrollWidth"`
		InnerWidth  int      `json:"innerWidth"`
		Wide        []string `json:"wide"`
		Broken      []string `json:"broken"`
	}
	// Images below the fold load lazily: they are scrolled to first.
	b.do(t, tab, chromedp.Evaluate(`(async () => {
		const imgs = [...document.images];
		for (const i of imgs) { i.loading = "eager"; }
		await Promise.all(imgs.map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
		const w = window.innerWidth;
		return {
			scrollWidth: document.documentElement.scrollWidth,
			innerWidth: w,
			// The culprits, for the message: boxes past the right edge, and
			// boxes whose content spills out of them.
			wide: [...document.body.querySelectorAll("*")].filter(e => {
				const s = getComputedStyle(e);
				return s.position !== "fixed" && (e.getBoundingClientRect().right > w + 1 || (s.overflowX === "visible" && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0));
			}).slice(0, 6).map(e => e.tagName.toLowerCase() + (e.className ? "." + String(e.className).trim().split(/\s+/).join(".") : "") +
				(e.dataset.testid ? "[" + e.dataset.testid + "]" : "") + " right " + Math.round(e.getBoundingClientRect().right) + "px, content " + e.scrollWidth + "px"),
			broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.currentSrc || i.src),
		};
	})()`, &page, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if page.ScrollWidth > page.InnerWidth {
		t.Errorf("%s: the page is %dpx wide at %dpx and scrolls sideways; too wide: %q", name, page.ScrollWidth, page.InnerWidth, page.Wide)
	}
	for _, src := range page.Broken {
		t.Errorf("%s: broken image %s", name, src)
	}
	if shot != "" {
		var jpeg []byte
		if err := chromedp.Run(tab, chromedp.FullScreenshot(&jpeg, 60)); err != nil {
			t.Errorf("%s: screenshot: %v", name, err)
		} else if err := os.WriteFile(shot, jpeg, 0o644); err != nil {
			t.Error(err)
		}
	}
	for _, e := range watch.take(expectedError) {
		t.Errorf("%s: %s", name, e)
	}
}
