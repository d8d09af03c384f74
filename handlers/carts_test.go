package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/internal/testenv"
)

// The SKUs every cart test starts with.
const (
	skuPhone     = 1 // launched, 3999.00
	skuCase      = 2 // launched, 12.50
	skuOld       = 3 // withdrawn, 99.90
	skuCable     = 4 // launched, 0.10
	skuFirstFill = 100
)

// seedCartSKUs inserts a category, a product and the SKUs above, plus
// fill more launched SKUs with ids from skuFirstFill, in plain SQL.
func seedCartSKUs(t *testing.T, db testenv.DB, fill int) {
	t.Helper()
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if _, err := sqlDB.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO tb_goods_category (id, create_time, update_time, name) VALUES (1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '手机')`)
	exec(`INSERT INTO tb_spu (id, create_time, update_time, name, category_id, desc_detail) VALUES (1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '测试商品', 1, '')`)
	sku := func(id int, name, price string, launched bool, image string) {
		t.Helper()
		exec(fmt.Sprintf(`INSERT INTO tb_sku (id, create_time, update_time, name, spu_id, category_id, price, stock, is_launched, default_image)
			VALUES (%d, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '%s', 1, 1, %s, 100, %t, '%s')`, id, name, price, launched, image))
	}
	sku(skuPhone, "华为 Mate 手机", "3999.00", true, "/static/img/sku/phone.svg")
	sku(skuCase, "手机壳", "12.50", true, "")
	sku(skuOld, "旧款耳机", "99.90", false, "")
	sku(skuCable, "数据线", "0.10", true, "")
	for i := range fill {
		sku(skuFirstFill+i, fmt.Sprintf("填充商品 %d", i), "1.00", true, "")
	}
}

// shopper is a browser on the shop: logged in (uid > 0) or anonymous.
type shopper struct {
	*testenv.Client
	uid  int64
	name string
}

func newShopper(t *testing.T, shop *testenv.Shop, loggedIn bool, username string) shopper {
	t.Helper()
	c := shop.NewClient(t)
	if !loggedIn {
		c.Visit()
		return shopper{Client: c, name: "anonymous"}
	}
	u := testenv.CreateUser(t, shop.DB.Store, username)
	c.Login(t, username, testenv.Password)
	c.Visit()
	return shopper{Client: c, uid: u.ID, name: "user"}
}

// cartLines reads the shopper's cart where the shop keeps it: Redis for a
// user, the signed cookie in the browser for an anonymous visitor.
func (s shopper) cartLines(t *testing.T) []carts.Line {
	t.Helper()
	if s.uid != 0 {
		lines, err := carts.New(s.Shop.Redis).Lines(context.Background(), s.uid)
		if err != nil {
			t.Fatal(err)
		}
		return lines
	}
	v := s.cookie(t)
	if v == "" {
		return []carts.Line{}
	}
	k, err := carts.DecodeCookie(s.Shop.Handlers.CookieKey, v)
	if err != nil {
		t.Fatalf("the shop's own cart cookie does not decode: %v", err)
	}
	return k.Lines()
}

func (s shopper) cookie(t *testing.T) string {
	t.Helper()
	u, _ := url.Parse(s.Shop.Server.URL)
	for _, ck := range s.HTTP.Jar.Cookies(u) {
		if ck.Name == carts.CookieName {
			return ck.Value
		}
	}
	return ""
}

func (s shopper) setCookie(t *testing.T, value string) {
	t.Helper()
	u, _ := url.Parse(s.Shop.Server.URL)
	s.HTTP.Jar.SetCookies(u, []*http.Cookie{{Name: carts.CookieName, Value: value, Path: "/"}})
}

// putLines makes the cart hold exactly lines, behind the endpoints' back
// (so that it may hold withdrawn or deleted SKUs).
func (s shopper) putLines(t *testing.T, lines []carts.Line) {
	t.Helper()
	ctx := context.Background()
	if s.uid != 0 {
		st := carts.New(s.Shop.Redis)
		for _, l := range lines {
			if _, err := st.Set(ctx, s.uid, l.SKUID, l.Count, l.Selected); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	var k carts.Cookie
	for _, l := range lines {
		if _, err := k.Set(l.SKUID, l.Count, l.Selected); err != nil {
			t.Fatal(err)
		}
	}
	v, err := k.Encode(s.Shop.Handlers.CookieKey)
	if err != nil {
		t.Fatal(err)
	}
	s.setCookie(t, v)
}

// forEachShopper runs fn on every database, for a logged-in user and for
// an anonymous visitor, each on a fresh shop.
func forEachShopper(t *testing.T, fill int, fn func(t *testing.T, s shopper)) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			seedCartSKUs(t, db, fill)
			for _, loggedIn := range []bool{true, false} {
				shop := testenv.NewShop(t, db)
				s := newShopper(t, shop, loggedIn, "cartuser")
				t.Run(s.name, func(t *testing.T) { fn(t, s) })
			}
		})
	}
}

func wantOK(t *testing.T, what string, res testenv.Response) map[string]any {
	t.Helper()
	if res.Status != http.StatusOK {
		t.Fatalf("%s: status %d, want 200\n%.1000s", what, res.Status, res.Body)
	}
	body := res.JSON(t)
	if body["code"] != float64(0) {
		t.Fatalf("%s: code %v, want 0: %s", what, body["code"], res.Body)
	}
	return body
}

func TestCartEndpoints(t *testing.T) {
	forEachShopper(t, 0, func(t *testing.T, s shopper) {
		body := wantOK(t, "add 2 phones", s.Do("POST", "/carts/", map[string]any{"sku_id": skuPhone, "count": 2}))
		if body["cart_count"] != float64(2) {
			t.Errorf("cart_count after adding 2 = %v, want 2", body["cart_count"])
		}
		wantOK(t, "add 1 more phone, unselected", s.Do("POST", "/carts/", map[string]any{"sku_id": skuPhone, "count": 1, "selected": false}))
		wantOK(t, "add a case", s.Do("POST", "/carts/", map[string]any{"sku_id": skuCase, "count": 1}))
		want := []carts.Line{{SKUID: skuPhone, Count: 3}, {SKUID: skuCase, Count: 1, Selected: true}}
		if diff := cmp.Diff(want, s.cartLines(t)); diff != "" {
			t.Fatalf("cart after POSTs (-want +got):\n%s", diff)
		}

		body = wantOK(t, "set the case to 5", s.Do("PUT", "/carts/", map[string]any{"sku_id": skuCase, "count": 5, "selected": true}))
		wantSKU := map[string]any{
			"id": float64(skuCase), "name": "手机壳", "default_image_url": "/static/img/logo.svg",
			"price": "12.50", "count": float64(5), "selected": true, "amount": "62.50",
		}
		if diff := cmp.Diff(wantSKU, body["cart_sku"]); diff != "" {
			t.Errorf("PUT cart_sku (-want +got):\n%s", diff)
		}
		if body["cart_count"] != float64(8) {
			t.Errorf("cart_count after PUT = %v, want 8", body["cart_count"])
		}

		body = wantOK(t, "simple", s.Get("/carts/simple/"))
		wantSimple := []any{
			map[string]any{"id": float64(skuPhone), "name": "华为 Mate 手机", "count": float64(3), "default_image_url": "/static/img/sku/phone.svg"},
			map[string]any{"id": float64(skuCase), "name": "手机壳", "count": float64(5), "default_image_url": "/static/img/logo.svg"},
		}
		if diff := cmp.Diff(wantSimple, body["cart_skus"]); diff != "" {
			t.Errorf("GET /carts/simple/ cart_skus (-want +got):\n%s", diff)
		}

		wantOK(t, "select all", s.Do("PUT", "/carts/selection/", map[string]any{"selected": true}))
		want = []carts.Line{{SKUID: skuPhone, Count: 3, Selected: true}, {SKUID: skuCase, Count: 5, Selected: true}}
		if diff := cmp.Diff(want, s.cartLines(t)); diff != "" {
			t.Errorf("cart after select all (-want +got):\n%s", diff)
		}
		wantOK(t, "clear selection", s.Do("PUT", "/carts/selection/", map[string]any{"selected": false}))
		want = []carts.Line{{SKUID: skuPhone, Count: 3}, {SKUID: skuCase, Count: 5}}
		if diff := cmp.Diff(want, s.cartLines(t)); diff != "" {
			t.Errorf("cart after clearing the selection (-want +got):\n%s", diff)
		}

		body = wantOK(t, "delete the phone", s.Do("DELETE", "/carts/", map[string]any{"sku_id": skuPhone}))
		if body["cart_count"] != float64(5) {
			t.Errorf("cart_count after DELETE = %v, want 5", body["cart_count"])
		}
		wantOK(t, "delete a line that is not there", s.Do("DELETE", "/carts/", map[string]any{"sku_id": 424242}))
		want = []carts.Line{{SKUID: skuCase, Count: 5}}
		if diff := cmp.Diff(want, s.cartLines(t)); diff != "" {
			t.Errorf("cart after DELETE (-want +got):\n%s", diff)
		}

		wantOK(t, "delete the last line", s.Do("DELETE", "/carts/", map[string]any{"sku_id": skuCase}))
		body = wantOK(t, "simple of an empty cart", s.Get("/carts/simple/"))
		if diff := cmp.Diff([]any{}, body["cart_skus"]); diff != "" {
			t.Errorf("cart_skus of an empty cart (-want +got):\n%s", diff)
		}
		if s.uid == 0 && s.cookie(t) != "" {
			t.Errorf("the cart cookie is still there after the last line went")
		}
	})
}

func TestCartCookieAttributes(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	seedCartSKUs(t, db, 0)
	shop := testenv.NewShop(t, db)
	s := newShopper(t, shop, false, "")
	res := s.Do("POST", "/carts/", map[string]any{"sku_id": skuPhone, "count": 1})
	wantOK(t, "add", res)
	var set *http.Cookie
	for _, ck := range (&http.Response{Header: res.Header}).Cookies() {
		if ck.Name == carts.CookieName {
			set = ck
		}
	}
	if set == nil {
		t.Fatalf("no %s cookie set; Set-Cookie: %v", carts.CookieName, res.Header.Values("Set-Cookie"))
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"HttpOnly", set.HttpOnly, true},
		{"SameSite", set.SameSite, http.SameSiteLaxMode},
		{"Path", set.Path, "/"},
		{"MaxAge", set.MaxAge, 14 * 24 * 3600},
		{"Secure (plain HTTP test shop)", set.Secure, false},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("cookie %s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestCartRejectsBadInput(t *testing.T) {
	cases := []struct {
		name       string
		method     string
		path       string
		body       any // a string is sent as is
		wantStatus int
		wantCode   int
		wantInMsg  string
	}{
		{"malformed JSON", "POST", "/carts/", `{"sku_id": 1,`, 400, 400, "JSON"},
		{"empty body", "POST", "/carts/", ``, 400, 400, "JSON"},
		{"JSON array", "POST", "/carts/", `[1, 2]`, 400, 400, "body"},
		{"trailing garbage", "POST", "/carts/", `{"sku_id": 1, "count": 1} {}`, 400, 400, "JSON"},
		{"sku_id missing", "POST", "/carts/", `{"count": 1}`, 400, 400, "sku_id"},
		{"sku_id zero", "POST", "/carts/", `{"sku_id": 0, "count": 1}`, 400, 400, "sku_id"},
		{"sku_id negative", "POST", "/carts/", `{"sku_id": -1, "count": 1}`, 400, 400, "sku_id"},
		{"sku_id a string", "POST", "/carts/", `{"sku_id": "1", "count": 1}`, 400, 400, "sku_id"},
		{"sku_id a fraction", "POST", "/carts/", `{"sku_id": 1.5, "count": 1}`, 400, 400, "sku_id"},
		{"sku_id too big", "POST", "/carts/", `{"sku_id": 99999999999999999999, "count": 1}`, 400, 400, "sku_id"},
		{"count missing", "POST", "/carts/", `{"sku_id": 1}`, 400, 400, "count"},
		{"count null", "POST", "/carts/", `{"sku_id": 1, "count": null}`, 400, 400, "count"},
		{"count zero", "POST", "/carts/", `{"sku_id": 1, "count": 0}`, 400, 400, "count"},
		{"count negative", "POST", "/carts/", `{"sku_id": 1, "count": -3}`, 400, 400, "count"},
		{"count over MaxCount", "POST", "/carts/", `{"sku_id": 1, "count": 100}`, 400, 400, "count"},
		{"count 1e9", "POST", "/carts/", `{"sku_id": 1, "count": 1e9}`, 400, 400, "count"},
		{"count 1000000000", "POST", "/carts/", `{"sku_id": 1, "count": 1000000000}`, 400, 400, "count"},
		{"count a fraction", "POST", "/carts/", `{"sku_id": 1, "count": 1.5}`, 400, 400, "count"},
		{"count a string", "POST", "/carts/", `{"sku_id": 1, "count": "3"}`, 400, 400, "count"},
		{"selected a string", "POST", "/carts/", `{"sku_id": 1, "count": 1, "selected": "yes"}`, 400, 400, "selected"},
		{"unknown SKU", "POST", "/carts/", `{"sku_id": 404, "count": 1}`, 200, 400, "商品不存在"},
		{"withdrawn SKU", "POST", "/carts/", `{"sku_id": 3, "count": 1}`, 200, 400, "下架"},
		{"line would pass MaxCount", "POST", "/carts/", `{"sku_id": 1, "count": 98}`, 200, 400, "99"},
		{"PUT count zero", "PUT", "/carts/", `{"sku_id": 1, "count": 0, "selected": true}`, 400, 400, "count"},
		{"PUT count over MaxCount", "PUT", "/carts/", `{"sku_id": 1, "count": 100, "selected": true}`, 400, 400, "count"},
		{"PUT selected a number", "PUT", "/carts/", `{"sku_id": 1, "count": 1, "selected": 1}`, 400, 400, "selected"},
		{"PUT unknown SKU", "PUT", "/carts/", `{"sku_id": 404, "count": 1, "selected": true}`, 200, 400, "商品不存在"},
		{"PUT withdrawn SKU", "PUT", "/carts/", `{"sku_id": 3, "count": 1, "selected": true}`, 200, 400, "下架"},
		{"PUT malformed JSON", "PUT", "/carts/", `{`, 400, 400, "JSON"},
		{"DELETE sku_id missing", "DELETE", "/carts/", `{}`, 400, 400, "sku_id"},
		{"DELETE sku_id a string", "DELETE", "/carts/", `{"sku_id": "x"}`, 400, 400, "sku_id"},
		{"DELETE sku_id zero", "DELETE", "/carts/", `{"sku_id": 0}`, 400, 400, "sku_id"},
		{"selection missing", "PUT", "/carts/selection/", `{}`, 400, 400, "selected"},
		{"selection a string", "PUT", "/carts/selection/", `{"selected": "true"}`, 400, 400, "selected"},
		{"selection malformed", "PUT", "/carts/selection/", `selected=1`, 400, 400, "JSON"},
	}
	start := []carts.Line{{SKUID: skuPhone, Count: 2, Selected: true}, {SKUID: skuCase, Count: 1}}
	forEachShopper(t, 0, func(t *testing.T, s shopper) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				s.putLines(t, start)
				res := s.Do(tc.method, tc.path, tc.body)
				if res.Status != tc.wantStatus {
					t.Errorf("status %d, want %d: %s", res.Status, tc.wantStatus, res.Body)
				}
				body := res.JSON(t)
				if body["code"] != float64(tc.wantCode) {
					t.Errorf("code %v, want %d: %s", body["code"], tc.wantCode, res.Body)
				}
				if msg, _ := body["errmsg"].(string); !strings.Contains(msg, tc.wantInMsg) {
					t.Errorf("errmsg %q does not mention %q", msg, tc.wantInMsg)
				}
				if diff := cmp.Diff(start, s.cartLines(t)); diff != "" {
					t.Errorf("cart changed (-want +got):\n%s", diff)
				}
				if got := res.Header.Values("Set-Cookie"); strings.Contains(strings.Join(got, "\n"), carts.CookieName+"=") {
					t.Errorf("a refused request wrote the cart cookie: %v", got)
				}
			})
		}
	})
}

func TestCartFull(t *testing.T) {
	forEachShopper(t, carts.MaxLines, func(t *testing.T, s shopper) {
		for i := range carts.MaxLines {
			wantOK(t, fmt.Sprintf("add line %d", i+1), s.Do("POST", "/carts/", map[string]any{"sku_id": skuFirstFill + i, "count": carts.MaxCount}))
		}
		before := s.cartLines(t)
		if len(before) != carts.MaxLines {
			t.Fatalf("cart has %d lines, want %d", len(before), carts.MaxLines)
		}
		for _, method := range []string{"POST", "PUT"} {
			res := s.Do(method, "/carts/", map[string]any{"sku_id": skuPhone, "count": 1, "selected": true})
			if res.Status != http.StatusOK || res.Code(t) != 400 || !strings.Contains(res.JSON(t)["errmsg"].(string), "50") {
				t.Errorf("%s a 51st line: status %d %s, want 200 with code 400 (cart full)", method, res.Status, res.Body)
			}
		}
		wantOK(t, "change a line of a full cart", s.Do("PUT", "/carts/", map[string]any{"sku_id": skuFirstFill, "count": 1, "selected": false}))
		if got := s.cartLines(t); len(got) != carts.MaxLines || got[0].Count != 1 {
			t.Errorf("after changing a line: %d lines, first %+v; want %d lines, first with count 1", len(got), got[0], carts.MaxLines)
		}
	})
}

func TestCartTamperedCookieIsAnEmptyCart(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	seedCartSKUs(t, db, 0)
	shop := testenv.NewShop(t, db)
	var k carts.Cookie
	if _, err := k.Add(skuPhone, 2, true); err != nil {
		t.Fatal(err)
	}
	good, err := k.Encode(shop.Handlers.CookieKey)
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := k.Encode([]byte(strings.Repeat("k", 32)))
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(good)
	flipped[10] ^= 1
	cases := []struct{ name, value string }{
		{"garbage", "not-a-cart"},
		{"one bit flipped", string(flipped)},
		{"signed with another key", otherKey},
		{"unsigned JSON", `{"1":{"count":2,"selected":true}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShopper(t, shop, false, "")
			s.setCookie(t, url.QueryEscape(tc.value))
			page := s.Get("/carts/")
			if page.Status != http.StatusOK {
				t.Fatalf("GET /carts/: status %d, want 200", page.Status)
			}
			if !strings.Contains(page.Body, `data-testid="cart-empty"`) {
				t.Errorf("cart page does not show an empty cart")
			}
			if got := badge(t, page.Body); got != "0" {
				t.Errorf("badge %q, want 0", got)
			}
			body := wantOK(t, "simple", s.Get("/carts/simple/"))
			if diff := cmp.Diff([]any{}, body["cart_skus"]); diff != "" {
				t.Errorf("cart_skus (-want +got):\n%s", diff)
			}
			wantOK(t, "add", s.Do("POST", "/carts/", map[string]any{"sku_id": skuCase, "count": 1}))
			want := []carts.Line{{SKUID: skuCase, Count: 1, Selected: true}}
			if diff := cmp.Diff(want, s.cartLines(t)); diff != "" {
				t.Errorf("cart after adding (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCartMergeAtLogin(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			seedCartSKUs(t, db, 0)
			shop := testenv.NewShop(t, db)
			ctx := context.Background()
			redisCarts := carts.New(shop.Redis)

			t.Run("cookie lines merged, cookie deleted", func(t *testing.T) {
				u := testenv.CreateUser(t, db.Store, "merger")
				for _, l := range []carts.Line{{SKUID: skuPhone, Count: 5, Selected: true}, {SKUID: skuCase, Count: 1, Selected: true}} {
					if _, err := redisCarts.Set(ctx, u.ID, l.SKUID, l.Count, l.Selected); err != nil {
						t.Fatal(err)
					}
				}
				c := newShopper(t, shop, false, "")
				wantOK(t, "anonymous add", c.Do("POST", "/carts/", map[string]any{"sku_id": skuPhone, "count": 2, "selected": false}))
				wantOK(t, "anonymous add", c.Do("POST", "/carts/", map[string]any{"sku_id": skuCable, "count": 3}))

				c.Login(t, "merger", testenv.Password)

				got, err := redisCarts.Lines(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				want := []carts.Line{
					{SKUID: skuPhone, Count: 2},                 // the cookie's count and selection win
					{SKUID: skuCase, Count: 1, Selected: true},  // only in Redis: kept
					{SKUID: skuCable, Count: 3, Selected: true}, // only in the cookie: added
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("Redis cart after login (-want +got):\n%s", diff)
				}
				if v := c.cookie(t); v != "" {
					t.Errorf("cart cookie still set after login")
				}
				page := c.Get("/carts/")
				if got := badge(t, page.Body); got != "6" {
					t.Errorf("badge after login %q, want 6", got)
				}
			})

			t.Run("a tampered cookie does not stop the login", func(t *testing.T) {
				u := testenv.CreateUser(t, db.Store, "tampered")
				if _, err := redisCarts.Set(ctx, u.ID, skuCase, 4, true); err != nil {
					t.Fatal(err)
				}
				c := newShopper(t, shop, false, "")
				c.setCookie(t, "forged-value")
				c.Login(t, "tampered", testenv.Password)
				got, err := redisCarts.Lines(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]carts.Line{{SKUID: skuCase, Count: 4, Selected: true}}, got); diff != "" {
					t.Errorf("Redis cart (-want +got):\n%s", diff)
				}
				if v := c.cookie(t); v != "" {
					t.Errorf("forged cart cookie kept after login")
				}
			})

			t.Run("no cookie leaves the cart alone", func(t *testing.T) {
				u := testenv.CreateUser(t, db.Store, "nocookie")
				if _, err := redisCarts.Set(ctx, u.ID, skuCase, 4, false); err != nil {
					t.Fatal(err)
				}
				c := shop.NewClient(t)
				c.Login(t, "nocookie", testenv.Password)
				got, err := redisCarts.Lines(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff([]carts.Line{{SKUID: skuCase, Count: 4}}, got); diff != "" {
					t.Errorf("Redis cart (-want +got):\n%s", diff)
				}
			})
		})
	}
}

var (
	badgeRe    = regexp.MustCompile(`id="cart-count"[^>]*>([^<]*)<`)
	testidText = func(id string) *regexp.Regexp {
		return regexp.MustCompile(`data-testid="` + id + `"[^>]*>([^<]*)<`)
	}
)

func badge(t *testing.T, page string) string {
	t.Helper()
	m := badgeRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no #cart-count badge in the page")
	}
	return strings.TrimSpace(m[1])
}

// cartLineHTML cuts the page into its cart lines, by SKU id.
func cartLineHTML(page string) map[string]string {
	out := map[string]string{}
	parts := strings.Split(page, `data-testid="cart-line"`)
	idRe := regexp.MustCompile(`data-sku-id="(\d+)"`)
	for _, p := range parts[1:] {
		if end := strings.Index(p, "</li>"); end >= 0 {
			p = p[:end]
		}
		if m := idRe.FindStringSubmatch(p); m != nil {
			out[m[1]] = p
		}
	}
	return out
}

func text(t *testing.T, html, testid string) string {
	t.Helper()
	m := testidText(testid).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no data-testid=%q in\n%.3000s", testid, html)
	}
	return strings.TrimSpace(m[1])
}

func TestCartPage(t *testing.T) {
	forEachShopper(t, 0, func(t *testing.T, s shopper) {
		t.Run("empty", func(t *testing.T) {
			page := s.Get("/carts/")
			if page.Status != http.StatusOK {
				t.Fatalf("status %d, want 200", page.Status)
			}
			for _, want := range []string{`data-testid="cart-empty"`, `href="/"`, `<script src="/static/js/cart.js" defer></script>`} {
				if !strings.Contains(page.Body, want) {
					t.Errorf("empty cart page lacks %s", want)
				}
			}
			if strings.Contains(page.Body, `data-testid="checkout-button"`) {
				t.Errorf("empty cart page offers checkout")
			}
		})

		t.Run("lines and totals", func(t *testing.T) {
			s.putLines(t, []carts.Line{
				{SKUID: skuPhone, Count: 2, Selected: true},
				{SKUID: skuCase, Count: 3, Selected: true},
				{SKUID: skuCable, Count: 7},
				{SKUID: skuOld, Count: 1, Selected: true}, // withdrawn
				{SKUID: 9999, Count: 1, Selected: true},   // deleted
			})
			page := s.Get("/carts/")
			if page.Status != http.StatusOK {
				t.Fatalf("status %d, want 200", page.Status)
			}
			lines := cartLineHTML(page.Body)
			if len(lines) != 5 {
				t.Fatalf("page shows %d cart lines, want 5", len(lines))
			}
			rows := []struct {
				sku         string
				count       string
				amount      string
				selected    bool
				unavailable bool
				name        string
			}{
				{"1", "2", "¥7998.00", true, false, "华为 Mate 手机"},
				{"2", "3", "¥37.50", true, false, "手机壳"},
				{"4", "7", "¥0.70", false, false, "数据线"},
				{"3", "1", "—", false, true, "旧款耳机"},
				{"9999", "1", "—", false, true, "该商品已不存在"},
			}
			for _, r := range rows {
				html := lines[r.sku]
				if got := text(t, html, "line-amount"); got != r.amount {
					t.Errorf("sku %s: line-amount %q, want %q", r.sku, got, r.amount)
				}
				if got := text(t, html, "line-name"); got != r.name {
					t.Errorf("sku %s: name %q, want %q", r.sku, got, r.name)
				}
				if r.unavailable {
					if got := text(t, html, "line-count"); got != r.count {
						t.Errorf("sku %s: count %q, want %q", r.sku, got, r.count)
					}
					if !strings.Contains(html, `data-testid="line-unavailable"`) {
						t.Errorf("sku %s is not marked unavailable", r.sku)
					}
				} else if !strings.Contains(html, `value="`+r.count+`"`) {
					t.Errorf("sku %s: count input does not hold %s", r.sku, r.count)
				}
				checked := regexp.MustCompile(`data-testid="line-selected"[^>]*checked`).MatchString(html)
				if checked != r.selected {
					t.Errorf("sku %s: checkbox checked = %v, want %v", r.sku, checked, r.selected)
				}
				if !strings.Contains(html, `data-testid="remove-line"`) {
					t.Errorf("sku %s has no remove button", r.sku)
				}
			}
			if !strings.Contains(lines["1"], `href="/detail/1/"`) || !strings.Contains(lines["1"], `src="/static/img/sku/phone.svg"`) {
				t.Errorf("line 1 lacks its link or picture:\n%s", lines["1"])
			}
			if got := text(t, page.Body, "cart-total-count"); got != "5" {
				t.Errorf("cart-total-count %q, want 5 (withdrawn and deleted lines not counted)", got)
			}
			if got := text(t, page.Body, "cart-total-amount"); got != "¥8035.50" {
				t.Errorf("cart-total-amount %q, want ¥8035.50", got)
			}
			if regexp.MustCompile(`data-testid="select-all"[^>]*checked`).MatchString(page.Body) {
				t.Errorf("select-all is checked though a line on sale is not selected")
			}
			if !strings.Contains(page.Body, `<a class="btn btn-primary cart-checkout" href="/orders/settlement/" data-testid="checkout-button">`) {
				t.Errorf("checkout is not a link to /orders/settlement/")
			}
			if got := badge(t, page.Body); got != "14" {
				t.Errorf("badge %q, want 14", got)
			}
		})

		t.Run("nothing selected disables checkout", func(t *testing.T) {
			wantOK(t, "clear selection", s.Do("PUT", "/carts/selection/", map[string]any{"selected": false}))
			page := s.Get("/carts/")
			if got := text(t, page.Body, "cart-total-count"); got != "0" {
				t.Errorf("cart-total-count %q, want 0", got)
			}
			if got := text(t, page.Body, "cart-total-amount"); got != "¥0.00" {
				t.Errorf("cart-total-amount %q, want ¥0.00", got)
			}
			if !regexp.MustCompile(`<button[^>]*disabled[^>]*data-testid="checkout-button"`).MatchString(page.Body) {
				t.Errorf("checkout button is not disabled")
			}
		})

		t.Run("all selected", func(t *testing.T) {
			wantOK(t, "select all", s.Do("PUT", "/carts/selection/", map[string]any{"selected": true}))
			page := s.Get("/carts/")
			if !regexp.MustCompile(`data-testid="select-all"[^>]*checked`).MatchString(page.Body) {
				t.Errorf("select-all is not checked")
			}
			if got := text(t, page.Body, "cart-total-amount"); got != "¥8036.20" {
				t.Errorf("cart-total-amount %q, want ¥8036.20", got)
			}
		})
	})
}
