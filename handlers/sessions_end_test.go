package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/testenv"
)

// twoInstances is two shop processes on one database and one Redis, with
// the same session keys, as behind a load balancer.
func twoInstances(t *testing.T, db testenv.DB) (*testenv.Shop, *testenv.Shop) {
	t.Helper()
	rdb, _ := testenv.Redis(t)
	one := testenv.NewShopWith(t, db, rdb, nil)
	two := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) { d.Sessions = one.Handlers.Sessions })
	return one, two
}

// copyOf is a new client on shop holding c's session cookie: a stolen or
// copied cookie.
func copyOf(t *testing.T, c *testenv.Client, shop *testenv.Shop) *testenv.Client {
	t.Helper()
	from, _ := url.Parse(c.Shop.Server.URL)
	to, _ := url.Parse(shop.Server.URL)
	cp := shop.NewClient(t)
	for _, ck := range c.HTTP.Jar.Cookies(from) {
		if ck.Name == handlers.SessionName {
			cp.HTTP.Jar.SetCookies(to, []*http.Cookie{{Name: ck.Name, Value: ck.Value, Path: "/"}})
		}
	}
	return cp
}

// sessionEnders end a user's sessions: a logout (through the shop), a
// password change and a deactivation (through the store, as staff would).
var sessionEnders = []struct {
	name string
	end  func(t *testing.T, db testenv.DB, c *testenv.Client, uid int64)
}{
	{"logout", func(t *testing.T, _ testenv.DB, c *testenv.Client, _ int64) {
		c.Get("/addresses/")
		if res := c.Do(http.MethodPost, "/logout/", url.Values{}); res.Status != http.StatusFound {
			t.Fatalf("logout: status %d", res.Status)
		}
	}},
	{"password change", func(t *testing.T, db testenv.DB, _ *testenv.Client, uid int64) {
		if err := db.Store.Accounts.SetPassword(context.Background(), uid, "another-pw-456"); err != nil {
			t.Fatal(err)
		}
	}},
	{"deactivation", func(t *testing.T, db testenv.DB, _ *testenv.Client, uid int64) {
		if err := db.Store.Accounts.SetActive(context.Background(), uid, false); err != nil {
			t.Fatal(err)
		}
	}},
}

// TestSessionsEndOnTheServer: a session cookie copied before a logout, a
// password change or a deactivation stops working on every instance within
// a second, "remember me" or not.
func TestSessionsEndOnTheServer(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			one, two := twoInstances(t, db)
			for i, e := range sessionEnders {
				t.Run(e.name, func(t *testing.T) {
					name := "copied" + string(rune('a'+i))
					u := testenv.CreateUser(t, db.Store, name)
					c := one.NewClient(t)
					if res := postLogin(c, url.Values{"username": {name}, "password": {testenv.Password}, "remembered": {"on"}}); res.Status != http.StatusFound {
						t.Fatalf("login: status %d", res.Status)
					}
					here, there := copyOf(t, c, one), copyOf(t, c, two)
					if !loggedIn(here) || !loggedIn(there) {
						t.Fatal("a copied session cookie does not work before the session ends")
					}
					e.end(t, db, c, u.ID)
					if e.name == "logout" && loggedIn(here) {
						t.Error("the copy still works on the instance that logged out")
					}
					time.Sleep(time.Second)
					if loggedIn(here) || loggedIn(there) {
						t.Errorf("a copied session cookie still works a second after the %s", e.name)
					}
				})
			}
			t.Run("a new login works after a logout", func(t *testing.T) {
				testenv.CreateUser(t, db.Store, "comeback")
				c := one.NewClient(t)
				c.Login(t, "comeback", testenv.Password)
				c.Get("/addresses/")
				c.Do(http.MethodPost, "/logout/", url.Values{})
				c.Login(t, "comeback", testenv.Password)
				if !loggedIn(c) || !loggedIn(copyOf(t, c, two)) {
					t.Error("not logged in after logging in again")
				}
			})
		})
	}
}

// TestSessionCheckDatabaseDown: when the user cannot be loaded the answer
// is 503, never "not logged in" (401 or a redirect to the login page).
func TestSessionCheckDatabaseDown(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	rdb, _ := testenv.Redis(t)
	shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) { d.CacheTTL = -1 })
	testenv.CreateUser(t, db.Store, "patient")
	c := shop.NewClient(t)
	c.Login(t, "patient", testenv.Password)
	c.Get("/addresses/")
	if err := db.Store.Close(); err != nil {
		t.Fatal(err)
	}
	if res := c.Get("/addresses/"); res.Status != http.StatusServiceUnavailable {
		t.Errorf("page: status %d, want 503", res.Status)
	}
	if res := c.Do(http.MethodGet, "/carts/simple/", `{}`); res.Status != http.StatusServiceUnavailable {
		t.Errorf("JSON: status %d, want 503", res.Status)
	}
	res := c.Do(http.MethodPost, "/logout/", url.Values{})
	if res.Status != http.StatusServiceUnavailable || sessionCookie(res) != nil {
		t.Errorf("logout with the database down: status %d, cookie %v; want 503 and the session kept", res.Status, sessionCookie(res))
	}
}
