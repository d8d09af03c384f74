package handlers_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// syncBuffer is a log destination that requests may write concurrently.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// secret is the text of the forced database failure: it must reach the
// log, never a page.
const secret = "xyzzy internal detail"

// failSKUWrites makes every UPDATE of tb_sku fail with secret, as a
// constraint the code does not know would.
func failSKUWrites(t *testing.T, db testenv.DB) {
	t.Helper()
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	switch db.Name {
	case "sqlite":
		stmts = []string{`CREATE TRIGGER boom_sku BEFORE UPDATE ON tb_sku BEGIN SELECT RAISE(ABORT, '` + secret + `'); END`}
	case "postgres":
		stmts = []string{
			`CREATE FUNCTION boom_sku() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION '` + secret + `'; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER boom_sku BEFORE UPDATE ON tb_sku FOR EACH ROW EXECUTE FUNCTION boom_sku()`,
		}
	case "mysql":
		stmts = []string{`CREATE TRIGGER boom_sku BEFORE UPDATE ON tb_sku FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '` + secret + `'`}
	default:
		t.Fatalf("no trigger for dialect %s", db.Name)
	}
	for _, q := range stmts {
		if _, err := sqlDB.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestAdminErrorsInPlainWords: an admin page never shows an error's own
// text (SQL, a driver's words, Go error strings). A failure the shop does
// not know is the generic "went wrong, it was logged" page, logged at
// error level with the request; a refused input and a database that is
// gone have their own plain messages; in both languages.
func TestAdminErrorsInPlainWords(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			logs := &syncBuffer{}
			rdb, _ := testenv.Redis(t)
			shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) {
				d.Log = slog.New(slog.NewTextHandler(logs, nil))
			})
			ctx := context.Background()
			if _, err := db.Store.Catalog.LoadDemo(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Store.Accounts.CreateUser(ctx, models.NewUser{Username: "boss02", Password: testenv.Password,
				Mobile: testenv.RandomMobile(), IsStaff: true}); err != nil {
				t.Fatal(err)
			}
			zh := shop.NewClient(t)
			zh.Login(t, "boss02", testenv.Password)
			en := shop.NewClient(t)
			en.Get("/lang/?to=en")
			en.Login(t, "boss02", testenv.Password)
			clients := []struct {
				lang templates.Lang
				c    *testenv.Client
			}{{templates.Chinese, zh}, {templates.English, en}}

			// plain checks that res is an error page with status and the
			// message key's text, and none of the internal words.
			plain := func(t *testing.T, l templates.Lang, res testenv.Response, status int, key string) {
				t.Helper()
				if res.Status != status {
					t.Errorf("status %d, want %d\n%.1000s", res.Status, status, res.Body)
				}
				want := `data-testid="error-message">` + templates.T(l, key) + `<`
				if !strings.Contains(res.Body, want) {
					t.Errorf("the page does not say %q\n%.2000s", templates.T(l, key), res.Body)
				}
				for _, word := range []string{"xyzzy", "internal detail", "SQL", "sql:", "tb_sku", "invalid:", "must be", "sku 1", "database is closed", "%!"} {
					if strings.Contains(res.Body, word) {
						t.Errorf("the page shows the internal text %q", word)
					}
				}
			}

			t.Run("refused input", func(t *testing.T) {
				for _, cl := range clients {
					res := cl.c.Get("/admin/skus/?q=" + url.QueryEscape(strings.Repeat("长", models.MaxQueryLen+1)))
					plain(t, cl.lang, res, http.StatusBadRequest, "err.invalid")
				}
			})

			t.Run("a flash message is only ever the catalog's", func(t *testing.T) {
				srvURL, err := url.Parse(shop.Server.URL + "/admin/")
				if err != nil {
					t.Fatal(err)
				}
				for _, tt := range []struct{ value, want string }{
					{"err|admin.flash.too_low|3", templates.Tf(templates.Chinese, "admin.flash.too_low", 3)},
					{"err|admin.flash.status", templates.T(templates.Chinese, "admin.flash.status")},
					{"err|admin.flash.status|5", templates.T(templates.Chinese, "admin.flash.status")},
					{"err|admin.flash.too_low", ""},
					{"err|sql: " + secret, ""},
					{"err|admin.flash.status|" + secret, ""},
					{"err|admin.flash." + secret, ""},
				} {
					zh.HTTP.Jar.SetCookies(srvURL, []*http.Cookie{{Name: "shop_flash", Value: url.QueryEscape(tt.value), Path: "/admin/"}})
					res := zh.Get("/admin/")
					if res.Status != http.StatusOK || strings.Contains(res.Body, "xyzzy") || strings.Contains(res.Body, "%!") || strings.Contains(res.Body, "%d") {
						t.Errorf("flash %q: status %d, the page shows the cookie's text", tt.value, res.Status)
					}
					if tt.want != "" && !strings.Contains(res.Body, `data-testid="flash">`+tt.want+`<`) {
						t.Errorf("flash %q: the page does not say %q", tt.value, tt.want)
					}
				}
			})

			was, err := db.Store.Catalog.SKUByID(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			failSKUWrites(t, db)
			t.Run("a failure the shop does not know", func(t *testing.T) {
				for _, cl := range clients {
					before := strings.Count(logs.String(), "level=ERROR")
					res := cl.c.Do(http.MethodPost, "/admin/skus/1/stock/", url.Values{"delta": {"5"}, "note": {"restock"}})
					plain(t, cl.lang, res, http.StatusInternalServerError, "err.500")
					res = cl.c.Do(http.MethodPost, "/admin/skus/1/launch/", url.Values{"launched": {"0"}})
					plain(t, cl.lang, res, http.StatusInternalServerError, "err.500")
					var logged []string
					for _, line := range strings.Split(logs.String(), "\n") {
						if strings.Contains(line, "level=ERROR") && strings.Contains(line, secret) {
							logged = append(logged, line)
						}
					}
					if n := strings.Count(logs.String(), "level=ERROR") - before; n != 2 || len(logged) < 2 ||
						!strings.Contains(strings.Join(logged, "\n"), "path=/admin/skus/1/launch/") {
						t.Errorf("%d new error lines, want 2 naming the request and the cause:\n%s", n, logs.String())
					}
				}
				k, err := db.Store.Catalog.SKUByID(ctx, 1)
				if err != nil || k.Stock != was.Stock || k.IsLaunched != was.IsLaunched {
					t.Errorf("sku 1 after the failed writes: %+v %v; want stock %d, launched %v", k, err, was.Stock, was.IsLaunched)
				}
			})

			t.Run("the database is gone", func(t *testing.T) {
				sqlDB, err := db.Store.SQL()
				if err != nil {
					t.Fatal(err)
				}
				sqlDB.Close()
				for _, cl := range clients {
					for _, path := range []string{"/admin/", "/admin/skus/1/"} {
						plain(t, cl.lang, cl.c.Get(path), http.StatusServiceUnavailable, "err.503")
					}
				}
			})
		})
	}
}
