package web_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/static"
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

// head sends HEAD path on a connection of its own, with c's cookies, and
// returns the answer and whatever the server sent after its header (the
// http.Client would hide a body sent to a HEAD).
func head(t *testing.T, c *testenv.Client, path string) (*http.Response, []byte) {
	t.Helper()
	u, err := url.Parse(c.Shop.Server.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req, err := http.NewRequest(http.MethodHead, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	req.Close = true // so that the server closes the connection after its answer
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, req)
	if err != nil {
		t.Fatalf("HEAD %s: %v", path, err)
	}
	rest, err := io.ReadAll(br)
	if err != nil {
		t.Fatalf("HEAD %s: %v", path, err)
	}
	return res, rest
}

// Every GET route, found by walking the router, answers HEAD as it answers
// GET (status and redirect), with no body, for an anonymous visitor and a
// logged-in shopper, with ids that exist and ids that do not.
func TestHeadEveryGetRoute(t *testing.T) {
	shop, anon, user := newShop(t)
	clients := []struct {
		name string
		c    *testenv.Client
	}{{"anonymous", anon}, {"logged in", user}}
	param := regexp.MustCompile(`:[a-z_]+`)
	routes := web.Routes(shop.Handlers, web.Config{CSRFKey: make([]byte, 32), Log: slog.New(slog.DiscardHandler)})
	n := 0
	for _, r := range routes {
		if r.Method != http.MethodGet {
			continue
		}
		n++
		for _, sample := range []struct{ id, file string }{{"1", "css/shop.css"}, {"999999", "css/none.css"}} {
			path := strings.Replace(param.ReplaceAllString(r.Path, sample.id), "*filepath", sample.file, 1)
			for _, cl := range clients {
				t.Run(cl.name+" "+path, func(t *testing.T) {
					get := cl.c.Get(path)
					res, rest := head(t, cl.c, path)
					if res.StatusCode != get.Status {
						t.Errorf("HEAD = %d, GET = %d", res.StatusCode, get.Status)
					}
					if got, want := res.Header.Get("Location"), get.Header.Get("Location"); got != want {
						t.Errorf("HEAD redirects to %q, GET to %q", got, want)
					}
					if len(rest) != 0 {
						t.Errorf("HEAD sent a body: %.200q", rest)
					}
				})
			}
		}
	}
	if n < 40 {
		t.Errorf("found %d GET routes, want at least 40", n)
	}

	tests := []struct {
		name string
		c    *testenv.Client
		path string
		want int
	}{
		{"home", anon, "/", http.StatusOK},
		{"a SKU", anon, "/detail/1/", http.StatusOK},
		{"an unknown SKU", anon, "/detail/999999/", http.StatusNotFound},
		{"healthz", anon, "/healthz", http.StatusOK},
		{"livez", anon, "/livez", http.StatusOK},
		{"readyz", anon, "/readyz", http.StatusOK},
		{"a static file", anon, "/static/css/shop.css", http.StatusOK},
		{"a page that needs a login", anon, "/info/", http.StatusFound},
		{"JSON that needs a login", anon, "/browse_histories/", http.StatusUnauthorized},
		{"the user centre", user, "/info/", http.StatusOK},
		{"an unknown order", user, "/orders/detail/999999/", http.StatusNotFound},
		{"admin", user, "/admin/", http.StatusForbidden},
		{"an unknown path", anon, "/nowhere/", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if res, _ := head(t, tt.c, tt.path); res.StatusCode != tt.want {
				t.Errorf("HEAD %s = %d, want %d", tt.path, res.StatusCode, tt.want)
			}
		})
	}
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
			{"HEAD", http.MethodHead, "/healthz", "", http.StatusOK},
			{"static file", http.MethodGet, "/static/css/shop.css", "", http.StatusOK},
			{"static directory", http.MethodGet, "/static/css/", "", http.StatusNotFound},
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

// /static/ serves files, with a cache lifetime, and never lists a
// directory: a directory is the shop's 404 page, which no cache keeps.
func TestStaticFilesNotDirectories(t *testing.T) {
	_, anon, _ := newShop(t)
	css, err := static.Files.ReadFile("css/shop.css")
	if err != nil {
		t.Fatal(err)
	}
	res := anon.Get("/static/css/shop.css")
	if res.Status != http.StatusOK || res.Body != string(css) {
		t.Errorf("GET /static/css/shop.css = %d, %d bytes; want 200, %d bytes", res.Status, len(res.Body), len(css))
	}
	if got, want := res.Header.Get("Cache-Control"), "public, max-age=3600"; got != want {
		t.Errorf("a file's Cache-Control = %q, want %q", got, want)
	}
	for _, path := range []string{"/static/", "/static/css/", "/static/css", "/static/img/sku/", "/static/css/none.css"} {
		t.Run(path, func(t *testing.T) {
			res := anon.Get(path)
			if res.Status != http.StatusNotFound {
				t.Errorf("GET %s = %d, want 404", path, res.Status)
			}
			for _, listed := range []string{`href="shop.css"`, `href="css/"`, `href="img/"`, "<pre>"} {
				if strings.Contains(res.Body, listed) {
					t.Errorf("GET %s lists %q\n%.500s", path, listed, res.Body)
				}
			}
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			if res, _ := head(t, anon, path); res.StatusCode != http.StatusNotFound {
				t.Errorf("HEAD %s = %d, want 404", path, res.StatusCode)
			}
		})
	}
}
