package handlers_test

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/alipay"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

const payApp = "2021000000000001"

// payKeys are the alipay package's fixed test keys: the shop's app key,
// and one standing for Alipay's.
func payKeys(t testing.TB) (app, gateway *rsa.PrivateKey) {
	t.Helper()
	var err error
	if app, err = alipay.ParsePrivateKey("../internal/alipay/testdata/app_pkcs8.pem"); err != nil {
		t.Fatal(err)
	}
	if gateway, err = alipay.ParsePrivateKey("../internal/alipay/testdata/alipay_pkcs8.pem"); err != nil {
		t.Fatal(err)
	}
	return app, gateway
}

// payEnv is an order env whose shop takes payments through its
// development gateway, with fixed keys.
type payEnv struct {
	*orderEnv
	gw  *alipay.DevGateway
	sku int64
}

func newPayEnv(t testing.TB, db testenv.DB) *payEnv {
	t.Helper()
	app, gateway := payKeys(t)
	gw := &alipay.DevGateway{AppID: payApp, AppPublicKey: &app.PublicKey, PrivateKey: gateway}
	rdb, _ := testenv.Redis(t)
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	shop := testenv.NewShopAt(t, db, rdb, func(d *handlers.Deps, base string) {
		d.Alipay = &alipay.Client{AppID: payApp, PrivateKey: app, AlipayPublicKey: &gateway.PublicKey,
			Gateway: base + "/dev/alipay/gateway.do", NotifyURL: base + "/payment/notify/", ReturnURL: base + "/payment/status/"}
		d.DevGateway = gw
	})
	e := &orderEnv{t: t, db: db, sql: sqlDB, shop: shop, carts: carts.New(rdb)}
	now := time.Now().UTC()
	e.exec("INSERT INTO tb_goods_category (id, create_time, update_time, name, parent_id) VALUES (1, ?, ?, 'Orders', NULL)", now, now)
	e.spu = e.insert("tb_spu", "create_time, update_time, name, sales, comments, category_id, desc_detail", now, now, "商品", 0, 0, 1, "")
	k, err := db.Store.Admin.CreateSKU(context.Background(), models.SKUInput{Name: "pay", SPUID: e.spu, CategoryID: 1,
		Price: decimal.RequireFromString("12.34"), Stock: 10000, Launched: true, LowStockThreshold: 5})
	if err != nil {
		t.Fatal(err)
	}
	return &payEnv{orderEnv: e, gw: gw, sku: k.ID}
}

// place commits an order of count units for b; pay is the pay method.
func (e *payEnv) place(t *testing.T, b orderBuyer, count, pay int) string {
	t.Helper()
	e.put(b, e.sku, count, true)
	_, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": pay})
	id, ok := body["order_id"].(string)
	if !ok {
		t.Fatalf("commit: %v", body)
	}
	return id
}

// request is the page-pay request the shop signs for the buyer's order,
// as the gateway reads it.
func (e *payEnv) request(t *testing.T, b orderBuyer, id string) (*alipay.PageRequest, *url.URL) {
	t.Helper()
	res := b.Get("/payment/" + id + "/")
	body := res.JSON(t)
	if res.Status != http.StatusOK || body["code"] != 0.0 || body["errmsg"] != "OK" {
		t.Fatalf("GET /payment/%s/: %d %v", id, res.Status, body)
	}
	u, err := url.Parse(body["alipay_url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	req, err := e.gw.CheckRequest(u.Query())
	if err != nil {
		t.Fatal(err)
	}
	return req, u
}

// notify posts a notification as Alipay does: no cookie, no token.
func (e *payEnv) notify(t testing.TB, form url.Values) string {
	t.Helper()
	res, err := http.PostForm(e.shop.Server.URL+"/payment/notify/", form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("notify answered %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	return string(b)
}

// state is what a payment may change about an order.
func (e *payEnv) state(id string) string {
	e.t.Helper()
	return fmt.Sprintf("status %d, %d payments, %d events, stock %d",
		e.int("SELECT COALESCE(MAX(status), 0) FROM tb_order_info WHERE order_id = ?", id),
		e.int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ?", id),
		e.int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ?", id),
		e.int("SELECT stock FROM tb_sku WHERE id = ?", e.sku))
}

func TestPaymentURL(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	e := newPayEnv(t, db)
	alice, bob := e.buyer(), e.buyer()
	id := e.place(t, alice, 2, models.PayOnline)
	req, u := e.request(t, alice, id)
	if got := u.Scheme + "://" + u.Host + u.Path; got != e.shop.Server.URL+"/dev/alipay/gateway.do" {
		t.Errorf("gateway %s", got)
	}
	if req.OutTradeNo != id || req.TotalAmount != "34.68" || req.NotifyURL != e.shop.Server.URL+"/payment/notify/" {
		t.Errorf("request %+v, want order %s of 34.68", req, id)
	}
	if req.Timeout < 29*time.Minute || req.Timeout > 30*time.Minute {
		t.Errorf("timeout_express %v, want the order's 30 minutes, less its age", req.Timeout)
	}

	cash := e.place(t, alice, 1, models.PayCash)
	paid := e.place(t, alice, 1, models.PayOnline)
	preq, _ := e.request(t, alice, paid)
	if got := e.notify(t, e.gw.Notification(preq, "T-paid", time.Now())); got != "success" {
		t.Fatalf("notify: %q", got)
	}
	tests := []struct {
		name       string
		who        orderBuyer
		id         string
		wantStatus int
		wantCode   int
	}{
		{"someone else's order", bob, id, 404, 404},
		{"unknown order", alice, "20240101000000000000001123456", 404, 404},
		{"cash on delivery", alice, cash, 200, 400},
		{"paid already", alice, paid, 200, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.who.Get("/payment/" + tc.id + "/")
			if res.Status != tc.wantStatus || res.Code(t) != tc.wantCode {
				t.Errorf("got %d code %d, want %d code %d: %s", res.Status, res.Code(t), tc.wantStatus, tc.wantCode, res.Body)
			}
		})
	}
	anon := e.shop.NewClient(t)
	if res := anon.Do(http.MethodGet, "/payment/"+id+"/", nil); res.Status != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", res.Status)
	}
}

func TestPaymentNotify(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newPayEnv(t, db)
			b := e.buyer()
			id := e.place(t, b, 3, models.PayOnline)
			req, _ := e.request(t, b, id)
			good := e.gw.Notification(req, "T-good", time.Now())
			cash := e.place(t, b, 1, models.PayCash)
			unpaid := e.state(id)

			// Refused: nothing changes, Alipay is told to try again.
			otherApp := *req
			otherApp.AppID = "2021000000000999"
			sameAmount := func(order string) *alipay.PageRequest { r := *req; r.OutTradeNo = order; return &r }
			wrongAmount := *req
			wrongAmount.TotalAmount = "37.01"
			refused := []struct {
				name string
				form url.Values
			}{
				{"tampered amount", with(good, "total_amount", "0.01")},
				{"tampered order", with(good, "out_trade_no", cash)},
				{"tampered sign", with(good, "sign", strings.Replace(good.Get("sign"), good.Get("sign")[:4], "AAAA", 1))},
				{"no sign", with(good, "sign", "")},
				{"other app", e.gw.Notification(&otherApp, "T-other", time.Now())},
				{"unknown order", e.gw.Notification(sameAmount("20240101000000000000001123456"), "T-unknown", time.Now())},
				{"cash order", e.gw.Notification(sameAmount(cash), "T-cash", time.Now())},
				{"wrong amount, good signature", e.gw.Notification(&wrongAmount, "T-wrong", time.Now())},
				{"empty", url.Values{}},
			}
			cashState := e.state(cash)
			for _, tc := range refused {
				t.Run(tc.name, func(t *testing.T) {
					if got := e.notify(t, tc.form); got != "fail" {
						t.Errorf("answered %q, want fail", got)
					}
					if got := e.state(id); got != unpaid {
						t.Errorf("order now %s, was %s", got, unpaid)
					}
					if got := e.state(cash); got != cashState {
						t.Errorf("cash order now %s, was %s", got, cashState)
					}
				})
			}

			if got := e.notify(t, good); got != "success" {
				t.Fatalf("good notification answered %q", got)
			}
			paid := e.state(id)
			if !strings.HasPrefix(paid, "status 2, 1 payments, 1 events") {
				t.Errorf("after payment: %s", paid)
			}
			if n := e.int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ? AND trade_id = ? AND amount = ? AND to_refund = ?", id, "T-good", "47.02", false); n != 1 {
				t.Errorf("%d payment rows of T-good for 47.02", n)
			}
			for range 3 {
				if got := e.notify(t, good); got != "success" {
					t.Errorf("replay answered %q", got)
				}
			}
			if got := e.state(id); got != paid {
				t.Errorf("after replays %s, was %s", got, paid)
			}
			if got := e.notify(t, e.gw.Notification(req, "T-second", time.Now())); got != "fail" {
				t.Errorf("a second trade for a paid order answered %q", got)
			}

			// The CSRF exemption is that one path only.
			res, err := http.PostForm(e.shop.Server.URL+"/orders/"+id+"/cancel/", url.Values{})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("POST without a token elsewhere: %d, want 403", res.StatusCode)
			}
		})
	}
}

// with is form with one parameter replaced.
func with(form url.Values, k, v string) url.Values {
	out := url.Values{}
	for key, vs := range form {
		out[key] = append([]string(nil), vs...)
	}
	out.Set(k, v)
	return out
}

func TestPaymentReturn(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	e := newPayEnv(t, db)
	b := e.buyer()
	id := e.place(t, b, 1, models.PayOnline)
	req, _ := e.request(t, b, id)
	params := e.gw.ReturnParams(req, "T-return", time.Now())

	res := b.Get("/payment/status/?" + with(params, "total_amount", "0.01").Encode())
	if res.Status != http.StatusBadRequest || oneTestidAttr(t, res.Body, "invalid") {
		t.Errorf("tampered return: %d", res.Status)
	}
	if got := e.state(id); !strings.HasPrefix(got, "status 1, 0 payments") {
		t.Errorf("after a tampered return: %s", got)
	}
	for i := range 2 {
		res := b.Get("/payment/status/?" + params.Encode())
		if res.Status != http.StatusOK || oneTestidAttr(t, res.Body, "paid") {
			t.Errorf("return %d: %d\n%.1500s", i, res.Status, res.Body)
		}
		if got := e.state(id); !strings.HasPrefix(got, "status 2, 1 payments, 1 events") {
			t.Errorf("after return %d: %s", i, got)
		}
	}
	// The notification that comes after the return changes nothing.
	if got := e.notify(t, e.gw.Notification(req, "T-return", time.Now())); got != "success" {
		t.Errorf("notification after the return: %q", got)
	}
}

// oneTestidAttr reports whether the page's payment outcome is NOT want
// (true means wrong, to read as a failure).
func oneTestidAttr(t *testing.T, page, want string) bool {
	t.Helper()
	return !strings.Contains(page, `data-testid="payment-outcome" data-outcome="`+want+`"`)
}

// The development gateway end to end: the shop's pay URL, the gateway's
// page, pay, the notification it posts to the shop, and the return page.
func TestDevGatewayEndToEnd(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	e := newPayEnv(t, db)
	b := e.buyer()
	id := e.place(t, b, 2, models.PayOnline)
	_, u := e.request(t, b, id)

	page := b.Get(u.Path + "?" + u.RawQuery)
	if page.Status != http.StatusOK || !strings.Contains(page.Body, "支付 ¥34.68") || !strings.Contains(page.Body, id) {
		t.Fatalf("gateway page: %d\n%.2000s", page.Status, page.Body)
	}
	tampered := with(u.Query(), "biz_content", strings.Replace(u.Query().Get("biz_content"), "34.68", "0.01", 1))
	if res := b.Get(u.Path + "?" + tampered.Encode()); res.Status != http.StatusBadRequest {
		t.Errorf("tampered request: %d, want 400", res.Status)
	}
	if res := b.Do(http.MethodPost, u.Path, url.Values{"request": {tampered.Encode()}}); res.Status != http.StatusBadRequest {
		t.Errorf("paying a tampered request: %d, want 400", res.Status)
	}
	if got := e.state(id); !strings.HasPrefix(got, "status 1, 0 payments") {
		t.Fatalf("after tampered requests: %s", got)
	}

	res := b.Do(http.MethodPost, u.Path, url.Values{"request": {u.RawQuery}})
	if res.Status != http.StatusFound {
		t.Fatalf("pay: %d\n%.2000s", res.Status, res.Body)
	}
	// The notification came first, from the gateway itself.
	if got := e.state(id); !strings.HasPrefix(got, "status 2, 1 payments, 1 events") {
		t.Errorf("after pay: %s", got)
	}
	back := res.Header.Get("Location")
	if !strings.HasPrefix(back, e.shop.Server.URL+"/payment/status/?") {
		t.Fatalf("sent to %q", back)
	}
	result := b.Get(strings.TrimPrefix(back, e.shop.Server.URL))
	if result.Status != http.StatusOK || oneTestidAttr(t, result.Body, "paid") || !strings.Contains(result.Body, id) {
		t.Errorf("result page: %d\n%.2000s", result.Status, result.Body)
	}
	if got := e.state(id); !strings.HasPrefix(got, "status 2, 1 payments, 1 events") {
		t.Errorf("after the return: %s", got)
	}
	if res := b.Get("/payment/" + id + "/"); res.Code(t) != 400 {
		t.Errorf("pay URL of a paid order: %s", res.Body)
	}
}

// Without a development gateway its routes are 404, and without a client
// online payment is refused.
func TestPaymentOff(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	e := newOrderEnv(t, db, nil, nil)
	b := e.buyer()
	if res := b.Get("/dev/alipay/gateway.do?x=1"); res.Status != http.StatusNotFound {
		t.Errorf("gateway: %d, want 404", res.Status)
	}
	if res := b.Get("/payment/1/"); res.Status != http.StatusOK || res.Code(t) != 400 {
		t.Errorf("pay URL: %d %s, want code 400", res.Status, res.Body)
	}
	res, err := http.PostForm(e.shop.Server.URL+"/payment/notify/", url.Values{"a": {"b"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(body) != "fail" {
		t.Errorf("notify: %q, want fail", body)
	}
}

// The buyer cancels and confirms receipt. (The transitions themselves are
// tested on every database in models/order; here, the HTTP side.)
func TestOrderCancelAndReceive(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	e := newPayEnv(t, db)
	alice, bob := e.buyer(), e.buyer()
	stock := e.int("SELECT stock FROM tb_sku WHERE id = ?", e.sku)
	unpaid := e.place(t, alice, 2, models.PayOnline)
	cash := e.place(t, alice, 1, models.PayCash)
	if res := bob.Do(http.MethodPost, "/orders/"+unpaid+"/cancel/", map[string]any{}); res.Status != http.StatusNotFound {
		t.Errorf("bob cancels alice's order: %d", res.Status)
	}
	for i, want := range []int{0, 400} {
		if res := alice.Do(http.MethodPost, "/orders/"+unpaid+"/cancel/", map[string]any{}); res.Code(t) != want {
			t.Errorf("cancel %d: %s, want code %d", i, res.Body, want)
		}
	}
	if got := e.int("SELECT stock FROM tb_sku WHERE id = ?", e.sku); got != stock-1 {
		t.Errorf("stock %d, want %d (the cash order's unit gone, the canceled order's 2 back)", got, stock-1)
	}
	if res := alice.Do(http.MethodPost, "/orders/"+cash+"/receive/", map[string]any{}); res.Code(t) != 400 {
		t.Errorf("receive an unshipped order: %s", res.Body)
	}
	if err := e.shop.Handlers.Orders.ShipOrder(context.Background(), cash, nil); err != nil {
		t.Fatal(err)
	}
	if res := bob.Do(http.MethodPost, "/orders/"+cash+"/receive/", map[string]any{}); res.Status != http.StatusNotFound {
		t.Errorf("bob receives alice's order: %d", res.Status)
	}
	if res := alice.Do(http.MethodPost, "/orders/"+cash+"/receive/", map[string]any{}); res.Code(t) != 0 {
		t.Errorf("receive: %s", res.Body)
	}
	if res := alice.Do(http.MethodPost, "/orders/"+cash+"/cancel/", map[string]any{}); res.Code(t) != 400 {
		t.Errorf("cancel a received order: %s", res.Body)
	}
	events := e.int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND user_id = ?", cash, alice.uid)
	if events != 1 {
		t.Errorf("%d events by alice on the cash order, want 1 (received)", events)
	}
	if e.int("SELECT status FROM tb_order_info WHERE order_id = ?", cash) != models.StatusUncomment {
		t.Errorf("cash order not awaiting review")
	}
}

// Over HTTP, on every database: the notification and the return of each
// order's payment, the buyer's cancel (of every other order) and the
// expiry, all at once, many times. Exactly one of them takes each order out of unpaid, the payment
// is recorded once (to refund if the order ends canceled), the stock comes
// back at most once, and every invariant and the ledger hold.
func TestPaymentRacesHTTP(t *testing.T) {
	const rounds, perRound = 4, 4
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newPayEnv(t, db)
			b := e.buyer()
			ctx := context.Background()
			before, err := testkit.TakeSnapshot(ctx, db.Store)
			if err != nil {
				t.Fatal(err)
			}
			var placed []string
			for round := range rounds {
				var ids []string
				var reqs []*alipay.PageRequest
				for range perRound {
					id := e.place(t, b, 1+round%2, models.PayOnline)
					req, _ := e.request(t, b, id)
					ids, reqs = append(ids, id), append(reqs, req)
				}
				placed = append(placed, ids...)
				time.Sleep(2 * time.Millisecond)
				var wg sync.WaitGroup
				wg.Go(func() {
					time.Sleep(time.Duration(round) * time.Millisecond) // let payments win some rounds
					if _, err := e.shop.Handlers.Orders.ExpireUnpaid(ctx, time.Millisecond); err != nil {
						t.Errorf("expire: %v", err)
					}
				})
				for i, id := range ids {
					trade := "T" + id
					wg.Go(func() {
						if got := e.notify(t, e.gw.Notification(reqs[i], trade, time.Now())); got != "success" {
							t.Errorf("notify %s: %q", id, got)
						}
					})
					wg.Go(func() {
						res, err := http.Get(e.shop.Server.URL + "/payment/status/?" + e.gw.ReturnParams(reqs[i], trade, time.Now()).Encode())
						if err != nil {
							t.Error(err)
							return
						}
						res.Body.Close()
						if res.StatusCode != http.StatusOK {
							t.Errorf("return %s: %d", id, res.StatusCode)
						}
					})
					if i%2 == 1 {
						continue // the buyer cancels every other order
					}
					wg.Go(func() {
						res := b.Do(http.MethodPost, "/orders/"+id+"/cancel/", map[string]any{})
						if code := res.Code(t); code != 0 && code != 400 {
							t.Errorf("cancel %s: %s", id, res.Body)
						}
					})
				}
				wg.Wait()
			}
			outcomes := map[int]int{}
			for _, id := range placed {
				st := e.int("SELECT status FROM tb_order_info WHERE order_id = ?", id)
				outcomes[st]++
				pays := e.int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ?", id)
				refund := e.int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ? AND to_refund = ?", id, true)
				returns := e.int("SELECT COUNT(*) FROM tb_stock_ledger WHERE reason = 'cancel' AND order_id = ?", id)
				out := e.int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND from_status = ?", id, models.StatusUnpaid)
				ok := pays == 1 && out == 1 &&
					((st == models.StatusUnsend && refund == 0 && returns == 0) || (st == models.StatusCanceled && refund == 1 && returns == 1))
				if !ok {
					t.Errorf("order %s: status %d, %d payments (%d to refund), stock back %d times, %d ways out of unpaid", id, st, pays, refund, returns, out)
				}
			}
			t.Logf("orders by final status: %v", outcomes)
			bad, err := testkit.CheckInvariants(ctx, db.Store, before, testkit.Outcome{Placed: placed})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range bad {
				t.Errorf("invariant broken: %s", v)
			}
			if bad, err := db.Store.Ledger.LedgerMismatches(ctx); err != nil || len(bad) > 0 {
				t.Errorf("ledger: %v %v", bad, err)
			}
		})
	}
}
