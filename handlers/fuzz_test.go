package handlers_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// The fuzz targets below send what the fuzzer makes to the JSON endpoints
// through the whole router, on SQLite and the in-process Redis (or
// TEST_REDIS_URL's), each iteration one request. Every answer must be
// 200 or a 4xx with the {code, errmsg} JSON, never a 5xx; a refusal must
// change nothing; and what is accepted must obey the shop's rules.

// fuzzEnv is a shop with the demo catalog and one logged-in buyer with an
// address, built once per fuzz worker.
type fuzzEnv struct {
	shop  *testenv.Shop
	db    testenv.DB
	sql   *sql.DB
	carts *carts.Store
	buyer *testenv.Client
	uid   int64
	addr  int64 // the buyer's address
}

func newFuzzEnv(f *testing.F) *fuzzEnv {
	f.Helper()
	db, _ := testenv.Database(f, "sqlite")
	rdb, _ := testenv.Redis(f)
	shop := testenv.NewShopWith(f, db, rdb, func(d *handlers.Deps) {
		d.SeckillLimits = handlers.SeckillLimits{PerUser: 1 << 30, PerIP: 1 << 30}
	})
	ctx := context.Background()
	if _, err := db.Store.Catalog.LoadDemo(ctx); err != nil {
		f.Fatal(err)
	}
	sqlDB, err := db.Store.SQL()
	if err != nil {
		f.Fatal(err)
	}
	// Stock for every order the fuzzer may place.
	if _, err := sqlDB.Exec(`UPDATE tb_sku SET stock = 1000000`); err != nil {
		f.Fatal(err)
	}
	u := testenv.CreateUser(f, db.Store, "fuzzer")
	e := &fuzzEnv{shop: shop, db: db, sql: sqlDB, carts: carts.New(rdb), uid: u.ID,
		addr: testenv.CreateAddress(f, db.Store, u.ID).ID}
	e.buyer = shop.NewClient(f)
	e.buyer.Login(f, u.Username, testenv.Password)
	return e
}

// reply checks the answer's shape and reports whether it accepted the
// request (HTTP 200 with code 0).
func reply(t *testing.T, method, path, body string, res testenv.Response) bool {
	t.Helper()
	var r struct {
		Code *int `json:"code"`
	}
	switch {
	case res.Status >= 500:
		t.Fatalf("%s %s %q: status %d\n%.500s", method, path, body, res.Status, res.Body)
	case res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden:
		t.Fatalf("%s %s: status %d: the fuzz buyer lost its login or token", method, path, res.Status)
	case res.Status != http.StatusOK && (res.Status < 400 || res.Status > 499):
		t.Fatalf("%s %s %q: status %d, want 200 or 4xx", method, path, body, res.Status)
	case json.Unmarshal([]byte(res.Body), &r) != nil || r.Code == nil:
		t.Fatalf("%s %s %q: status %d with no {code} JSON: %.300s", method, path, body, res.Status, res.Body)
	case res.Status != http.StatusOK && *r.Code == 0:
		t.Fatalf("%s %s %q: status %d with code 0", method, path, body, res.Status)
	}
	return res.Status == http.StatusOK && *r.Code == 0
}

// FuzzCartBody: POST, PUT and DELETE /carts/ with any body, for a
// logged-in buyer (the Redis cart) and an anonymous one (the cookie cart).
// A refusal leaves the cart as it was (and sets no cart cookie); an
// accepted change leaves a cart within the limits.
func FuzzCartBody(f *testing.F) {
	for _, body := range []string{
		`{"sku_id":1,"count":2}`, `{"sku_id":1,"count":2,"selected":false}`, `{"sku_id":3,"count":99}`,
		`{"sku_id":1,"count":0}`, `{"sku_id":1,"count":100}`, `{"sku_id":-1,"count":1}`, `{"sku_id":999999,"count":1}`,
		`{"sku_id":"1","count":"2"}`, `{"sku_id":1.5,"count":1}`, `{"sku_id":1e3,"count":1}`, `{"sku_id":9223372036854775808,"count":1}`,
		`{"sku_id":1,"count":1}{}`, `{"sku_id":1,"count":1,"sku_id":2}`, `[]`, `null`, `{}`, ``, `{"sku_id":1`, "\x00",
	} {
		f.Add(uint8(0), body, false)
		f.Add(uint8(1), body, true)
		f.Add(uint8(2), body, false)
	}
	e := newFuzzEnv(f)
	anon := e.shop.NewClient(f)
	anon.Visit()
	methods := []string{http.MethodPost, http.MethodPut, http.MethodDelete}
	key := e.shop.Handlers.CookieKey
	f.Fuzz(func(t *testing.T, m uint8, body string, anonymous bool) {
		ctx := context.Background()
		method := methods[int(m)%len(methods)]
		if anonymous {
			res := anon.For(t).Do(method, "/carts/", body)
			ok := reply(t, method, "/carts/", body, res)
			var cookie *http.Cookie
			for _, ck := range (&http.Response{Header: res.Header}).Cookies() {
				if ck.Name == carts.CookieName {
					cookie = ck
				}
			}
			switch {
			case !ok && cookie != nil:
				t.Errorf("refused (%d %s) but set the cart cookie", res.Status, res.Body)
			case ok && cookie != nil && cookie.MaxAge < 0:
				// The cart is empty: the cookie is deleted.
			case ok && cookie != nil:
				k, err := carts.DecodeCookie(key, cookie.Value)
				if err != nil {
					t.Fatalf("the cart cookie set does not decode: %v", err)
				}
				obeysCartLimits(t, k.Lines())
			}
			return
		}
		// The Redis cart starts each time with one line.
		lines, err := e.carts.Lines(ctx, e.uid)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			if err := e.carts.Remove(ctx, e.uid, l.SKUID); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.carts.Set(ctx, e.uid, 2, 1, true); err != nil {
			t.Fatal(err)
		}
		before, err := e.carts.Lines(ctx, e.uid)
		if err != nil {
			t.Fatal(err)
		}
		ok := reply(t, method, "/carts/", body, e.buyer.For(t).Do(method, "/carts/", body))
		after, err := e.carts.Lines(ctx, e.uid)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("%s %q was refused but changed the cart (-before +after):\n%s", method, body, diff)
			}
			return
		}
		obeysCartLimits(t, after)
	})
}

func obeysCartLimits(t *testing.T, lines []carts.Line) {
	t.Helper()
	if len(lines) > carts.MaxLines {
		t.Errorf("%d lines in a cart", len(lines))
	}
	for _, l := range lines {
		if l.SKUID < 1 || l.Count < 1 || l.Count > carts.MaxCount {
			t.Errorf("a cart line out of the limits: %+v", l)
		}
	}
}

// orderState is what a commit may change: the buyer's orders, the stock
// of the SKU in the cart, and the cart.
type orderState struct {
	Orders []string
	Stock  int
	Cart   []carts.Line
}

func (e *fuzzEnv) orderState(t *testing.T, sku int64) orderState {
	t.Helper()
	var s orderState
	rows, err := e.sql.Query(`SELECT order_id FROM tb_order_info WHERE user_id = ? ORDER BY order_id`, e.uid)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		s.Orders = append(s.Orders, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.sql.QueryRow(`SELECT stock FROM tb_sku WHERE id = ?`, sku).Scan(&s.Stock); err != nil {
		t.Fatal(err)
	}
	if s.Cart, err = e.carts.Lines(context.Background(), e.uid); err != nil {
		t.Fatal(err)
	}
	return s
}

// FuzzOrderCommit: POST /orders/commit/ with any body, the cart holding
// one selected unit. A refusal places no order and leaves the stock and
// the cart alone; code 0 has exactly one order of the buyer's behind it
// (a new one, or the earlier one of the same token), and a new order took
// the unit from the stock and the cart.
func FuzzOrderCommit(f *testing.F) {
	for _, body := range []string{
		`{"address_id":1,"pay_method":1}`, `{"address_id":1,"pay_method":2}`, `{"address_id":1,"pay_method":2,"token":"t-1"}`,
		`{"address_id":"1","pay_method":"2"}`, `{"address_id":2,"pay_method":1}`, `{"address_id":1,"pay_method":3}`,
		`{"address_id":0,"pay_method":1}`, `{"address_id":-1,"pay_method":1}`, `{"address_id":1}`, `{"pay_method":1}`,
		`{"address_id":1,"pay_method":1,"token":"` + strings.Repeat("t", 65) + `"}`, `{"address_id":1.0,"pay_method":1}`,
		`{"address_id":9223372036854775807,"pay_method":1}`, `{"address_id":1,"pay_method":1}x`, `[]`, `{}`, ``, `"`,
	} {
		f.Add(body)
	}
	e := newFuzzEnv(f)
	const sku = 3
	f.Fuzz(func(t *testing.T, body string) {
		ctx := context.Background()
		if _, err := e.carts.Set(ctx, e.uid, sku, 1, true); err != nil {
			t.Fatal(err)
		}
		before := e.orderState(t, sku)
		res := e.buyer.For(t).Do(http.MethodPost, "/orders/commit/", body)
		ok := reply(t, http.MethodPost, "/orders/commit/", body, res)
		after := e.orderState(t, sku)
		if !ok {
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("%q was refused (%s) but changed (-before +after):\n%s", body, res.Body, diff)
			}
			return
		}
		var r struct {
			OrderID string `json:"order_id"`
		}
		json.Unmarshal([]byte(res.Body), &r)
		found := false
		for _, id := range after.Orders {
			found = found || id == r.OrderID
		}
		switch n := len(after.Orders) - len(before.Orders); {
		case !found:
			t.Errorf("code 0 with order %q, which the buyer does not have", r.OrderID)
		case n == 1 && (after.Stock != before.Stock-1 || len(after.Cart) != 0):
			t.Errorf("a new order: stock %d to %d, cart %v; want one unit taken and the line gone", before.Stock, after.Stock, after.Cart)
		case n == 0 && after.Stock != before.Stock:
			t.Errorf("no new order (a token's earlier one) but the stock moved from %d to %d", before.Stock, after.Stock)
		case n < 0 || n > 1:
			t.Errorf("one commit made %d orders", n)
		}
	})
}

// FuzzAddress: POST /addresses/create/ and PUT /addresses/<id>/ with any
// body. A refusal leaves the address book as it was; what is accepted has
// no control or text-direction characters and no field made only of
// invisible ones.
func FuzzAddress(f *testing.F) {
	for _, body := range []string{
		`{"receiver":"张三","province":"北京市","city":"北京市","district":"海淀区","place":"中关村大街 1 号","mobile":"13800138000"}`,
		`{"receiver":"李四","province":"上海市","city":"上海市","district":"浦东新区","place":"世纪大道 100 号","mobile":"13900139000","tel":"010-12345678","email":"a@b.cn","title":"公司"}`,
		`{"receiver":"\u202eevil","province":"北京市","city":"北京市","district":"海淀区","place":"x","mobile":"13800138000"}`,
		`{"receiver":"\u200b\u200b","province":"北京市","city":"北京市","district":"海淀区","place":"x","mobile":"13800138000"}`,
		`{"receiver":"a\u0000b","province":"北京市","city":"北京市","district":"海淀区","place":"x","mobile":"13800138000"}`,
		`{"receiver":"张三","province":"北京市","city":"北京市","district":"海淀区","place":"x","mobile":"23800138000"}`,
		`{"receiver":"张三","province":"北京市","city":"北京市","district":"海淀区","place":"x","mobile":"13800138000","email":"not-an-email"}`,
		`{"receiver":1,"mobile":true}`, `{"receiver":"` + strings.Repeat("长", 300) + `"}`, `[]`, `{}`, ``, `{"title":"\ud800"}`,
	} {
		f.Add(body, false)
		f.Add(body, true)
	}
	e := newFuzzEnv(f)
	f.Fuzz(func(t *testing.T, body string, update bool) {
		ctx := context.Background()
		method, path := http.MethodPost, "/addresses/create/"
		if update {
			method, path = http.MethodPut, "/addresses/"+strconv.FormatInt(e.addr, 10)+"/"
		}
		before, _, err := e.db.Store.Addresses.AddressBook(ctx, e.uid)
		if err != nil {
			t.Fatal(err)
		}
		ok := reply(t, method, path, body, e.buyer.For(t).Do(method, path, body))
		after, _, err := e.db.Store.Addresses.AddressBook(ctx, e.uid)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("%s %q was refused but changed the address book (-before +after):\n%s", method, body, diff)
			}
			return
		}
		for _, a := range after {
			for name, v := range map[string]string{"receiver": a.Receiver, "province": a.Province, "city": a.City,
				"district": a.District, "place": a.Place, "mobile": a.Mobile, "tel": a.Tel, "email": a.Email, "title": a.Title} {
				if p := models.CheckText(v, false); p != "" && !(v == "" && (name == "tel" || name == "email" || name == "title")) {
					t.Errorf("address %d's %s %q was accepted: %s", a.ID, name, v, p)
				}
			}
		}
		// Keep the book small: only the first address stays.
		if _, err := e.sql.Exec(`DELETE FROM tb_address WHERE user_id = ? AND id <> ?`, e.uid, e.addr); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzSeckillBuy: POST /seckill/<sku_id>/ with any SKU id and body,
// against an open sale. A refusal leaves the sale's Redis stock and sold
// count alone; an accepted buy takes exactly one unit.
func FuzzSeckillBuy(f *testing.F) {
	for _, body := range []string{
		`{"address_id":1}`, `{"address_id":"1"}`, `{"address_id":2}`, `{"address_id":0}`, `{"address_id":-5}`,
		`{"address_id":1.5}`, `{"address_id":null}`, `{}`, `[]`, ``, `{"address_id":1}{"address_id":1}`,
		`{"address_id":99999999999999999999}`,
	} {
		f.Add(int64(4), body)
		f.Add(int64(5), body)
		f.Add(int64(-1), body)
	}
	e := newFuzzEnv(f)
	const sku = 4
	ctx := context.Background()
	sale, err := e.shop.Handlers.Seckill.Open(ctx, models.SaleInput{SKUID: sku, Stock: 1000000, Price: decimal.RequireFromString("1.00"),
		PerUser: 100, Start: time.Now().Add(-time.Minute), End: time.Now().Add(24 * time.Hour)})
	if err != nil {
		f.Fatal(err)
	}
	state := func(t *testing.T) (stock, sold int) {
		t.Helper()
		all, err := e.shop.Handlers.Seckill.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all {
			if s.Sale.ID == sale.ID {
				return s.Redis.Stock, s.Redis.Sold
			}
		}
		t.Fatalf("sale %d is not open", sale.ID)
		return 0, 0
	}
	f.Fuzz(func(t *testing.T, skuID int64, body string) {
		path := "/seckill/" + strconv.FormatInt(skuID, 10) + "/"
		stock, sold := state(t)
		ok := reply(t, http.MethodPost, path, body, e.buyer.For(t).Do(http.MethodPost, path, body))
		stock2, sold2 := state(t)
		switch {
		case !ok && (stock2 != stock || sold2 != sold):
			t.Errorf("%s %q was refused but the sale went from %d left, %d sold to %d, %d", path, body, stock, sold, stock2, sold2)
		case ok && (skuID != sku || stock2 != stock-1 || sold2 != sold+1):
			t.Errorf("%s %q was accepted: the sale went from %d left, %d sold to %d, %d", path, body, stock, sold, stock2, sold2)
		}
	})
}
