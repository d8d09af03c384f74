package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/web"
)

// newShop is the demo shop with a logged-in shopper and an anonymous
// visitor.
func newShop(t *testing.T) (shop *testenv.Shop, anon, user *testenv.Client) {
	t.Helper()
	db, _ := testenv.Database(t, "sqlite")
	if _, err := db.Store.Catalog.LoadDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	shop = testenv.NewShop(t, db)
	testenv.CreateUser(t, db.Store, "header01")
	user = shop.NewClient(t)
	user.Login(t, "header01", testenv.Password)
	return shop, shop.NewClient(t), user
}

// Every answer carries the security headers, HSTS only with
// SHOP_SECURE_COOKIES=true, including those given before gin routes the
// request: a CSRF failure (403) and a body over the limit (413).
func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	shop, _, _ := newShop(t)
	const hsts = "max-age=31536000; includeSubDomains"
	for _, secure := range []bool{false, true} {
		srv := httptest.NewServer(web.New(shop.Handlers, web.Config{CSRFKey: make([]byte, 32), SecureCookies: secure,
			MaxBody: 1 << 10, Log: slog.New(slog.DiscardHandler)}))
		t.Cleanup(srv.Close)
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		wantHSTS := ""
		if secure {
			wantHSTS = hsts
		}
		tests := []struct {
			name, method, path, body string
			status                   int
		}{
			{"page", http.MethodGet, "/", "", http.StatusOK},
			{"static file", http.MethodGet, "/static/css/shop.css", "", http.StatusOK},
			{"not found", http.MethodGet, "/nowhere/", "", http.StatusNotFound},
			{"redirect to login", http.MethodGet, "/info/", "", http.StatusFound},
			{"CSRF failure", http.MethodPost, "/carts/", `{"sku_id":1,"count":1}`, http.StatusForbidden},
			{"body too large", http.MethodPost, "/carts/", `{"pad":"` + strings.Repeat("x", 2<<10) + `"}`, http.StatusRequestEntityTooLarge},
		}
		for _, tt := range tests {
			t.Run(tt.name+" secure="+map[bool]string{false: "false", true: "true"}[secure], func(t *testing.T) {
				req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				if tt.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
				}
				want := map[string]string{
					"Strict-Transport-Security": wantHSTS,
					"X-Content-Type-Options":    "nosniff",
					"X-Frame-Options":           "DENY",
					"Referrer-Policy":           "same-origin",
				}
				for k, v := range want {
					if got := res.Header.Get(k); got != v {
						t.Errorf("%s: %q, want %q", k, got, v)
					}
				}
				if !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
					t.Errorf("Content-Security-Policy: %q", res.Header.Get("Content-Security-Policy"))
				}
			})
		}
	}
}
