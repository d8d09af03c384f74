package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/web"
)

// Shop is the whole shop behind an httptest server.
type Shop struct {
	DB       DB
	Redis    *redis.Client
	Server   *httptest.Server
	Handlers *handlers.Handlers
}

// NewShop serves the full router on db and a private Redis.
func NewShop(t testing.TB, db DB) *Shop {
	t.Helper()
	rdb, _ := Redis(t)
	return NewShopWith(t, db, rdb, nil)
}

// NewShopWith is NewShop with a given Redis client and an optional hook to
// change the handlers' dependencies before they are built (to inject a
// fault, say).
func NewShopWith(t testing.TB, db DB, rdb *redis.Client, edit func(*handlers.Deps)) *Shop {
	t.Helper()
	return NewShopAt(t, db, rdb, func(d *handlers.Deps, _ string) {
		if edit != nil {
			edit(d)
		}
	})
}

// NewShopAt is NewShopWith whose hook also gets the server's URL, known
// before it serves (for the payment's notify and return URLs, say).
func NewShopAt(t testing.TB, db DB, rdb *redis.Client, edit func(d *handlers.Deps, url string)) *Shop {
	t.Helper()
	key := func() []byte { b := make([]byte, 32); rand.Read(b); return b }
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	engine, err := seckill.New(seckill.Config{Redis: rdb, DB: db.Store.Sales, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	deps := handlers.Deps{
		Seckill:   engine,
		Store:     db.Store,
		Carts:     carts.New(rdb),
		Sessions:  handlers.NewSessionStore(key(), key(), 14*24*3600),
		Limiter:   redis_rate.NewLimiter(rdb),
		Log:       log,
		CookieKey: key(),
		MediaDir:  t.TempDir(),
	}
	srv := httptest.NewUnstartedServer(nil)
	if edit != nil {
		edit(&deps, "http://"+srv.Listener.Addr().String())
	}
	h, err := handlers.New(deps)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	srv.Config.Handler = web.New(h, web.Config{CSRFKey: key(), Log: log})
	srv.Start()
	t.Cleanup(srv.Close)
	return &Shop{DB: db, Redis: rdb, Server: srv, Handlers: h}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// Client is a browser: it keeps cookies and the latest CSRF token, and does
// not follow redirects (tests look at them). A response that rotates the
// CSRF secret (a login or logout) clears the token; Login, Register and
// Visit fetch a page for the new one.
type Client struct {
	t    testing.TB
	Shop *Shop
	HTTP *http.Client
	CSRF string
}

// NewClient returns a client with an empty cookie jar.
func (s *Shop) NewClient(t testing.TB) *Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &Client{t: t, Shop: s, HTTP: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// JSON decodes the body as an object.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
		t.Fatalf("response is not JSON (status %d): %v\n%s", r.Status, err, r.Body)
	}
	return m
}

// Code is the JSON body's "code" as an int.
func (r Response) Code(t testing.TB) int {
	t.Helper()
	v, ok := r.JSON(t)["code"].(float64)
	if !ok {
		t.Fatalf("no numeric code in %s", r.Body)
	}
	return int(v)
}

// Do sends a request. body may be nil, a string (sent as is), url.Values
// (a form, with the CSRF field added) or anything else (sent as JSON with
// the CSRF header). Pages update the client's CSRF token.
func (c *Client) Do(method, path string, body any) Response {
	c.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	case url.Values:
		if b.Get("csrfmiddlewaretoken") == "" && c.CSRF != "" {
			b = cloneValues(b)
			b.Set("csrfmiddlewaretoken", c.CSRF)
		}
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		js, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(js), "application/json"
	}
	req, err := http.NewRequest(method, c.Shop.Server.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if ctype == "application/json" && c.CSRF != "" {
		req.Header.Set("X-CSRFToken", c.CSRF)
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, ck := range res.Cookies() {
		if ck.Name == handlers.CSRFCookie && ck.MaxAge < 0 {
			c.CSRF = "" // rotated (login, logout): the next page brings a new one
		}
	}
	if m := csrfMeta.FindSubmatch(data); m != nil {
		c.CSRF = string(m[1])
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(data)}
}

// For returns a client that shares c's cookies and CSRF token but reports
// failures to t: each iteration of a fuzz target has its own t.
func (c *Client) For(t testing.TB) *Client {
	cp := *c
	cp.t = t
	return &cp
}

// Get fetches a page (and picks up its CSRF token).
func (c *Client) Get(path string) Response { c.t.Helper(); return c.Do(http.MethodGet, path, nil) }

// Visit fetches a page only for its CSRF token, when the client has none.
func (c *Client) Visit() {
	c.t.Helper()
	if c.CSRF == "" {
		c.Get("/")
	}
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
