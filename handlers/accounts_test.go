package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// sessionCookie is the session cookie a response sets, or nil.
func sessionCookie(res testenv.Response) *http.Cookie {
	for _, ck := range (&http.Response{Header: res.Header}).Cookies() {
		if ck.Name == handlers.SessionName {
			return ck
		}
	}
	return nil
}

// loggedIn reports whether the client's session is logged in: whether the
// address book opens instead of redirecting to the login page.
func loggedIn(c *testenv.Client) bool {
	return c.Get("/addresses/").Status == http.StatusOK
}

// postLogin posts the login form (after fetching the page for its token)
// and, once logged in, fetches a page for the token the login issued.
func postLogin(c *testenv.Client, form url.Values) testenv.Response {
	c.Get("/login/")
	res := c.Do(http.MethodPost, "/login/", form)
	if res.Status == http.StatusFound {
		c.Visit()
	}
	return res
}

func TestRegister(t *testing.T) {
	good := url.Values{"username": {"newbie"}, "password": {"secret-pw-1"}, "password2": {"secret-pw-1"},
		"mobile": {"13600000000"}, "allow": {"on"}}
	with := func(kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range good {
			v[k] = vs
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
				continue
			}
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"short username", with("username", "abcd"), "username", "请输入5-20个字符的用户名"},
		{"long username", with("username", strings.Repeat("a", 21)), "username", "请输入5-20个字符的用户名"},
		{"username with a space", with("username", "new bie"), "username", "请输入5-20个字符的用户名"},
		{"username with a quote", with("username", `new"bie`), "username", "请输入5-20个字符的用户名"},
		{"digits-only username", with("username", "1234567"), "username", "用户名不能为纯数字"},
		{"username taken", with("username", "existing"), "username", "该用户名已被注册"},
		{"no password", with("password", "", "password2", ""), "password", "密码至少需要8个字符"},
		{"short password", with("password", "short12", "password2", "short12"), "password", "密码至少需要8个字符"},
		{"long password", with("password", strings.Repeat("p7", 65), "password2", strings.Repeat("p7", 65)), "password", "密码不能超过128个字符"},
		{"all digits", with("password", "48151623420", "password2", "48151623420"), "password", "密码不能为纯数字"},
		{"common password", with("password", "Password1", "password2", "Password1"), "password", "该密码太常见"},
		{"like the username", with("password", "newbie12", "password2", "newbie12"), "password", "密码与用户名或手机号太相似"},
		{"like the mobile", with("password", "136000000x", "password2", "136000000x"), "password", "密码与用户名或手机号太相似"},
		{"passwords differ", with("password2", "secret-pw-2"), "password2", "两次输入的密码不一致"},
		{"mobile too short", with("mobile", "1360000000"), "mobile", "请输入正确的手机号码"},
		{"mobile with a bad prefix", with("mobile", "12600000000"), "mobile", "请输入正确的手机号码"},
		{"mobile taken", with("mobile", "13700000000"), "mobile", "该手机号已被注册"},
		{"terms not accepted", with("allow", ""), "allow", "请勾选同意用户协议"},
	}
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			if _, err := db.Store.Accounts.CreateUser(context.Background(), models.NewUser{Username: "existing", Password: testenv.Password, Mobile: "13700000000"}); err != nil {
				t.Fatal(err)
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := shop.NewClient(t)
					c.Get("/register/")
					res := c.Do(http.MethodPost, "/register/", tt.form)
					if res.Status != http.StatusBadRequest {
						t.Fatalf("status %d, want 400", res.Status)
					}
					if !strings.Contains(res.Body, `data-testid="error-`+tt.field+`"`) || !strings.Contains(res.Body, tt.msg) {
						t.Errorf("the form does not show %q at field %s:\n%s", tt.msg, tt.field, res.Body)
					}
					if mobile := tt.form.Get("mobile"); !strings.Contains(res.Body, `value="`+mobile+`"`) {
						t.Errorf("the mobile %q typed is not kept in the form", mobile)
					}
					if pw := tt.form.Get("password"); pw != "" && strings.Contains(res.Body, pw) {
						t.Errorf("the form shows the password %q again", pw)
					}
					if ck := sessionCookie(res); ck != nil {
						t.Errorf("a failed sign-up set a session cookie")
					}
					if taken, err := db.Store.Accounts.UsernameTaken(context.Background(), tt.form.Get("username")); err != nil || (taken && tt.field != "username") {
						t.Errorf("a failed sign-up created user %q (taken %v, err %v)", tt.form.Get("username"), taken, err)
					}
				})
			}

			t.Run("a long password is fine", func(t *testing.T) {
				pw := strings.Repeat("Zq9-", 32) // 128 characters
				c := shop.NewClient(t)
				c.Register(t, "longpw1", pw, "13600000077")
				if _, err := db.Store.Accounts.Authenticate(context.Background(), "longpw1", pw); err != nil {
					t.Errorf("a 128-character password does not log in: %v", err)
				}
			})

			t.Run("success logs in", func(t *testing.T) {
				c := shop.NewClient(t)
				c.Register(t, "newbie", "secret-pw-1", "13600000000")
				if !loggedIn(c) {
					t.Fatal("not logged in after signing up")
				}
				for _, path := range []string{"/register/", "/login/"} {
					if res := c.Get(path); res.Status != http.StatusFound || res.Header.Get("Location") != "/" {
						t.Errorf("logged in, GET %s: status %d to %q, want 302 to /", path, res.Status, res.Header.Get("Location"))
					}
				}
				again := shop.NewClient(t)
				again.Get("/register/")
				res := again.Do(http.MethodPost, "/register/", with("mobile", "13600000001"))
				if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "该用户名已被注册") {
					t.Errorf("the same username again: status %d, want 400 with the taken message", res.Status)
				}
				res = again.Do(http.MethodPost, "/register/", with("username", "NewBie", "mobile", "13600000002"))
				if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "该用户名已被注册") {
					t.Errorf("the username in another case: status %d, want 400 with the taken message", res.Status)
				}
				if _, err := db.Store.Accounts.Authenticate(context.Background(), "13600000000", "secret-pw-1"); err != nil {
					t.Errorf("the new account does not log in by mobile: %v", err)
				}
			})
		})
	}
}

func TestRegisterLimitPerIP(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	rdb, _ := testenv.Redis(t)
	shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) {
		d.Limits.RegisterPerIP = redis_rate.PerHour(2)
	})
	bad := shop.NewClient(t)
	bad.Get("/register/")
	if res := bad.Do(http.MethodPost, "/register/", url.Values{"username": {"x"}}); res.Status != http.StatusBadRequest {
		t.Fatalf("invalid form: status %d, want 400", res.Status)
	}
	for i, name := range []string{"first1", "second2"} {
		shop.NewClient(t).Register(t, name, "secret-pw-1", "1360000000"+strconv.Itoa(i))
	}
	c := shop.NewClient(t)
	c.Get("/register/")
	res := c.Do(http.MethodPost, "/register/", url.Values{"username": {"third3"}, "password": {"secret-pw-1"},
		"password2": {"secret-pw-1"}, "mobile": {"13600000009"}, "allow": {"on"}})
	if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("third sign-up: status %d, Retry-After %q; want 429 with Retry-After", res.Status, res.Header.Get("Retry-After"))
	}
	if taken, _ := db.Store.Accounts.UsernameTaken(context.Background(), "third3"); taken {
		t.Error("the refused sign-up created its user")
	}
}

func TestLogin(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			u := testenv.CreateUser(t, db.Store, "buyer1")
			tests := []struct {
				name         string
				path         string // where the form posts
				form         url.Values
				wantStatus   int
				wantLocation string
			}{
				{"by username", "/login/", url.Values{"username": {"buyer1"}, "password": {testenv.Password}}, 302, "/"},
				{"by mobile", "/login/", url.Values{"username": {u.Mobile}, "password": {testenv.Password}}, 302, "/"},
				{"next in the form", "/login/", url.Values{"username": {"buyer1"}, "password": {testenv.Password}, "next": {"/orders/info/1/?x=1"}}, 302, "/orders/info/1/?x=1"},
				{"next in the query", "/login/?next=%2Fcarts%2F", url.Values{"username": {"buyer1"}, "password": {testenv.Password}}, 302, "/carts/"},
				{"next to another host", "/login/", url.Values{"username": {"buyer1"}, "password": {testenv.Password}, "next": {"//evil.example/x"}}, 302, "/"},
				{"next absolute", "/login/", url.Values{"username": {"buyer1"}, "password": {testenv.Password}, "next": {"https://evil.example/"}}, 302, "/"},
				{"next with a backslash", "/login/", url.Values{"username": {"buyer1"}, "password": {testenv.Password}, "next": {`/\evil.example`}}, 302, "/"},
				{"wrong password", "/login/", url.Values{"username": {"buyer1"}, "password": {"not-the-password"}}, 400, ""},
				{"unknown user", "/login/", url.Values{"username": {"nobody1"}, "password": {testenv.Password}}, 400, ""},
				{"no password", "/login/", url.Values{"username": {"buyer1"}}, 400, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := shop.NewClient(t)
					c.Get("/login/")
					res := c.Do(http.MethodPost, tt.path, tt.form)
					if res.Status != tt.wantStatus {
						t.Fatalf("status %d, want %d\n%.3000s", res.Status, tt.wantStatus, res.Body)
					}
					if got := res.Header.Get("Location"); got != tt.wantLocation {
						t.Errorf("redirect to %q, want %q", got, tt.wantLocation)
					}
					if tt.wantStatus != http.StatusFound {
						if !strings.Contains(res.Body, `data-testid="form-message"`) || sessionCookie(res) != nil {
							t.Errorf("a failed login shows no message or sets a session cookie:\n%s", res.Body)
						}
						if !strings.Contains(res.Body, `value="`+tt.form.Get("username")+`"`) {
							t.Errorf("the login name typed is not kept in the form")
						}
					}
					if got := loggedIn(c); got != (tt.wantStatus == http.StatusFound) {
						t.Errorf("logged in = %v after status %d", got, res.Status)
					}
				})
			}
			t.Run("wrong password says the same as an unknown user", func(t *testing.T) {
				wrong := postLogin(shop.NewClient(t), url.Values{"username": {"buyer1"}, "password": {"not-the-password"}})
				unknown := postLogin(shop.NewClient(t), url.Values{"username": {"nobody2"}, "password": {"not-the-password"}})
				if !strings.Contains(wrong.Body, "用户名或密码错误") || !strings.Contains(unknown.Body, "用户名或密码错误") {
					t.Errorf("the generic message is missing:\n%s", wrong.Body)
				}
			})
		})
	}
}

func TestLoginRenewsTheSession(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			testenv.CreateUser(t, db.Store, "first1")
			testenv.CreateUser(t, db.Store, "second2")
			c := shop.NewClient(t)
			first := postLogin(c, url.Values{"username": {"first1"}, "password": {testenv.Password}})
			second := postLogin(c, url.Values{"username": {"second2"}, "password": {testenv.Password}})
			a, b := sessionCookie(first), sessionCookie(second)
			if a == nil || b == nil {
				t.Fatalf("a login set no session cookie (first %v, second %v)", a, b)
			}
			if a.Value == b.Value {
				t.Error("the second login kept the session cookie's value")
			}
			if page := c.Get("/addresses/"); !strings.Contains(page.Body, "second2") || strings.Contains(page.Body, "first1") {
				t.Errorf("after logging in as second2 the page shows someone else:\n%s", page.Body)
			}
		})
	}
}

func TestRememberMe(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	testenv.CreateUser(t, db.Store, "keeper")
	tests := []struct {
		name       string
		remembered string
		wantMaxAge int
	}{
		{"remembered", "on", 14 * 24 * 3600},
		{"not remembered", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := postLogin(shop.NewClient(t), url.Values{"username": {"keeper"}, "password": {testenv.Password}, "remembered": {tt.remembered}})
			ck := sessionCookie(res)
			if ck == nil {
				t.Fatalf("no session cookie (status %d)", res.Status)
			}
			if ck.MaxAge != tt.wantMaxAge || (tt.wantMaxAge == 0 && !ck.Expires.IsZero()) {
				t.Errorf("cookie Max-Age %d, Expires %v; want Max-Age %d", ck.MaxAge, ck.Expires, tt.wantMaxAge)
			}
			if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode {
				t.Errorf("cookie HttpOnly %v SameSite %v, want HttpOnly and Lax", ck.HttpOnly, ck.SameSite)
			}
		})
	}
}

// clock is a settable Deps.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }
func (c *clock) Add(d time.Duration) { c.Set(c.Now().Add(d)) }

func TestSessionExpiry(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			rdb, _ := testenv.Redis(t)
			clk := &clock{now: time.Now()}
			shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) { d.Now = clk.Now })
			testenv.CreateUser(t, db.Store, "sleeper")
			tests := []struct {
				name       string
				remembered string
				later      time.Duration
				want       bool
			}{
				{"browser session after 23 hours", "", 23 * time.Hour, true},
				{"browser session after 25 hours", "", 25 * time.Hour, false},
				{"remembered after 13 days", "on", 13 * 24 * time.Hour, true},
				{"remembered after 15 days", "on", 15 * 24 * time.Hour, false},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					clk.Set(time.Now())
					c := shop.NewClient(t)
					if res := postLogin(c, url.Values{"username": {"sleeper"}, "password": {testenv.Password}, "remembered": {tt.remembered}}); res.Status != http.StatusFound {
						t.Fatalf("login: status %d", res.Status)
					}
					clk.Add(tt.later)
					if got := loggedIn(c); got != tt.want {
						t.Errorf("logged in = %v, want %v", got, tt.want)
					}
				})
			}
		})
	}
}

func TestLogout(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			testenv.CreateUser(t, db.Store, "leaver")
			c := shop.NewClient(t)
			c.Login(t, "leaver", testenv.Password)
			c.Get("/addresses/")
			res := c.Do(http.MethodPost, "/logout/", url.Values{})
			if res.Status != http.StatusFound || res.Header.Get("Location") != "/" {
				t.Fatalf("logout: status %d to %q, want 302 to /", res.Status, res.Header.Get("Location"))
			}
			if ck := sessionCookie(res); ck == nil || ck.MaxAge >= 0 {
				t.Errorf("logout did not delete the session cookie: %v", ck)
			}
			if loggedIn(c) {
				t.Error("still logged in after logging out")
			}
			c.Visit() // logging out rotated the CSRF token
			if res := c.Do(http.MethodPost, "/logout/", url.Values{}); res.Status != http.StatusFound {
				t.Errorf("logging out when logged out: status %d, want 302", res.Status)
			}
		})
	}
}

func TestUnsafeRequestsNeedTheCSRFToken(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			u := testenv.CreateUser(t, db.Store, "careful")
			for _, token := range []string{"", "bogus-token"} {
				t.Run("login form, token "+strconv.Quote(token), func(t *testing.T) {
					c := shop.NewClient(t)
					c.Get("/login/")
					c.CSRF = token
					res := c.Do(http.MethodPost, "/login/", url.Values{"username": {"careful"}, "password": {testenv.Password}, "csrfmiddlewaretoken": {token}})
					if res.Status != http.StatusForbidden || loggedIn(c) {
						t.Errorf("status %d, logged in %v; want 403 and not logged in", res.Status, loggedIn(c))
					}
				})
				t.Run("JSON, token "+strconv.Quote(token), func(t *testing.T) {
					c := shop.NewClient(t)
					c.Login(t, "careful", testenv.Password)
					c.CSRF = token
					res := c.Do(http.MethodPost, "/addresses/create/", validAddress())
					if res.Status != http.StatusForbidden || res.Code(t) != 403 {
						t.Errorf("status %d, body %s; want 403 with code 403", res.Status, res.Body)
					}
					if n := len(addressesOf(t, db, u.ID)); n != 0 {
						t.Errorf("%d addresses created without a token", n)
					}
				})
			}
		})
	}
}

// TestCSRFTokenRotates: logging in, signing up and logging out each end
// the CSRF token that the page before carried (403 with it afterwards),
// and the next page's token works.
func TestCSRFTokenRotates(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	u := testenv.CreateUser(t, db.Store, "rotator")
	srvURL, err := url.Parse(shop.Server.URL)
	if err != nil {
		t.Fatal(err)
	}
	// secret is the client's CSRF secret cookie.
	secret := func(t *testing.T, c *testenv.Client) string {
		t.Helper()
		for _, ck := range c.HTTP.Jar.Cookies(srvURL) {
			if ck.Name == handlers.CSRFCookie {
				return ck.Value
			}
		}
		t.Fatal("the client has no CSRF cookie")
		return ""
	}
	// rotated checks that res rotated the token: the token from before is
	// refused on a JSON call and on a form, also with the secret cookie
	// from before put back (a replay, or a cookie planted by another
	// site), and a fresh page's token works.
	rotated := func(t *testing.T, c *testenv.Client, before, beforeSecret string, res testenv.Response) {
		t.Helper()
		if res.Status != http.StatusFound {
			t.Fatalf("status %d, want 302\n%.500s", res.Status, res.Body)
		}
		if c.CSRF != "" {
			t.Errorf("the response kept the CSRF cookie; want it deleted (rotated)")
		}
		c.CSRF = before
		if res := c.Do(http.MethodPut, "/carts/selection/", map[string]any{"selected": true}); res.Status != http.StatusForbidden {
			t.Errorf("JSON with the token from before: status %d, want 403", res.Status)
		}
		c.CSRF = before // the refusal page brought another
		if res := c.Do(http.MethodPost, "/logout/", url.Values{}); res.Status != http.StatusForbidden {
			t.Errorf("form with the token from before: status %d, want 403", res.Status)
		}
		c.CSRF = before
		c.HTTP.Jar.SetCookies(srvURL, []*http.Cookie{{Name: handlers.CSRFCookie, Value: beforeSecret, Path: "/"}})
		if secret(t, c) != beforeSecret {
			t.Fatal("could not put the secret cookie back")
		}
		if res := c.Do(http.MethodPut, "/carts/selection/", map[string]any{"selected": true}); res.Status != http.StatusForbidden {
			t.Errorf("the token and the secret cookie from before: status %d, want 403", res.Status)
		}
		c.CSRF = ""
		c.Visit()
		if c.CSRF == "" || c.CSRF == before {
			t.Fatalf("the next page has token %q, want a new one", c.CSRF)
		}
		if res := c.Do(http.MethodPut, "/carts/selection/", map[string]any{"selected": true}); res.Status != http.StatusOK || res.Code(t) != 0 {
			t.Errorf("JSON with the new token: status %d %s, want 200 code 0", res.Status, res.Body)
		}
	}
	t.Run("login", func(t *testing.T) {
		c := shop.NewClient(t)
		c.Get("/login/")
		before, beforeSecret := c.CSRF, secret(t, c)
		res := c.Do(http.MethodPost, "/login/", url.Values{"username": {u.Username}, "password": {testenv.Password}})
		rotated(t, c, before, beforeSecret, res)
		if !loggedIn(c) {
			t.Errorf("not logged in after the rotation")
		}
	})
	t.Run("failed login keeps the token", func(t *testing.T) {
		c := shop.NewClient(t)
		c.Get("/login/")
		before := c.CSRF
		if res := c.Do(http.MethodPost, "/login/", url.Values{"username": {u.Username}, "password": {"wrong-password"}, "csrfmiddlewaretoken": {before}}); res.Status != http.StatusBadRequest {
			t.Fatalf("wrong password: status %d, want 400", res.Status)
		}
		c.CSRF = before
		if res := c.Do(http.MethodPut, "/carts/selection/", map[string]any{"selected": true}); res.Status != http.StatusOK {
			t.Errorf("the token after a failed login: status %d, want 200", res.Status)
		}
	})
	t.Run("sign-up", func(t *testing.T) {
		c := shop.NewClient(t)
		c.Get("/register/")
		before, beforeSecret := c.CSRF, secret(t, c)
		res := c.Do(http.MethodPost, "/register/", url.Values{"username": {"rotator2"}, "password": {"secret-pw-1"},
			"password2": {"secret-pw-1"}, "mobile": {testenv.RandomMobile()}, "allow": {"on"}})
		rotated(t, c, before, beforeSecret, res)
	})
	t.Run("logout", func(t *testing.T) {
		c := shop.NewClient(t)
		c.Login(t, u.Username, testenv.Password)
		before, beforeSecret := c.CSRF, secret(t, c)
		res := c.Do(http.MethodPost, "/logout/", url.Values{})
		rotated(t, c, before, beforeSecret, res)
	})
}

func TestLoginRateLimit(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			testenv.CreateUser(t, db.Store, "victim")
			testenv.CreateUser(t, db.Store, "bystander")
			c := shop.NewClient(t)
			for i := range 5 {
				if res := postLogin(c, url.Values{"username": {"victim"}, "password": {"guess-" + strconv.Itoa(i)}}); res.Status != http.StatusBadRequest {
					t.Fatalf("failure %d: status %d, want 400", i+1, res.Status)
				}
			}
			res := postLogin(c, url.Values{"username": {"Victim"}, "password": {testenv.Password}})
			if res.Status != http.StatusTooManyRequests {
				t.Fatalf("right password after 5 failures: status %d, want 429", res.Status)
			}
			if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s <= 0 || s > 15*60 {
				t.Errorf("Retry-After %q, want 1 to 900 seconds", res.Header.Get("Retry-After"))
			}
			if !strings.Contains(res.Body, "登录失败次数过多") || loggedIn(c) {
				t.Errorf("limited login: message missing or logged in anyway:\n%s", res.Body)
			}
			if res := postLogin(c, url.Values{"username": {"bystander"}, "password": {testenv.Password}}); res.Status != http.StatusFound {
				t.Errorf("another user from the same address: status %d, want 302", res.Status)
			}
		})
	}
}

func TestLoginRateLimitDetails(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	testenv.CreateUser(t, db.Store, "regular")

	t.Run("a success restarts the count for that login", func(t *testing.T) {
		shop := testenv.NewShop(t, db)
		c := shop.NewClient(t)
		for round := range 2 {
			for i := range 4 {
				postLogin(c, url.Values{"username": {"regular"}, "password": {"guess-" + strconv.Itoa(i)}})
			}
			if res := postLogin(c, url.Values{"username": {"regular"}, "password": {testenv.Password}}); res.Status != http.StatusFound {
				t.Fatalf("round %d: right password after 4 failures: status %d, want 302", round, res.Status)
			}
		}
	})

	t.Run("failures per client address", func(t *testing.T) {
		rdb, _ := testenv.Redis(t)
		shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) {
			d.Limits.LoginPerIP = redis_rate.Limit{Rate: 3, Burst: 3, Period: 15 * time.Minute}
		})
		c := shop.NewClient(t)
		for _, name := range []string{"spray1", "spray2", "spray3"} {
			postLogin(c, url.Values{"username": {name}, "password": {"guess-pw"}})
		}
		if res := postLogin(c, url.Values{"username": {"regular"}, "password": {testenv.Password}}); res.Status != http.StatusTooManyRequests {
			t.Errorf("after 3 failures from one address: status %d, want 429", res.Status)
		}
	})

	t.Run("Redis down refuses logins", func(t *testing.T) {
		rdb, _ := testenv.Redis(t)
		down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		t.Cleanup(func() { down.Close() })
		shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) { d.Limiter = redis_rate.NewLimiter(down) })
		c := shop.NewClient(t)
		if res := postLogin(c, url.Values{"username": {"regular"}, "password": {testenv.Password}}); res.Status != http.StatusServiceUnavailable || loggedIn(c) {
			t.Errorf("status %d, want 503 and not logged in", res.Status)
		}
	})
}

// TestNoOpenRedirect: next on /lang/ and /login/ (GET and POST, in the form
// or the query) never sends a browser to another host, however it hides it.
func TestNoOpenRedirect(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	testenv.CreateUser(t, db.Store, "buyer1")
	evil := []string{
		"//evil.example/", `/\evil.example`, "/\t/evil.example", "/\t\\evil.example", "/\n/evil.example",
		"/\r\\evil.example", "/\x00/evil.example", "/\x1b/evil.example", "/%09/evil.example",
		"https://evil.example/", "/\u0085/evil.example",
	}
	creds := url.Values{"username": {"buyer1"}, "password": {testenv.Password}}
	for _, next := range evil {
		q := url.QueryEscape(next)
		t.Run(q, func(t *testing.T) {
			c := shop.NewClient(t)
			if res := c.Get("/lang/?to=en&next=" + q); res.Header.Get("Location") != "/" {
				t.Errorf("/lang/: redirect to %q, want /", res.Header.Get("Location"))
			}
			form := url.Values{"next": {next}}
			for k, v := range creds {
				form[k] = v
			}
			c.Get("/login/")
			if res := c.Do(http.MethodPost, "/login/", form); res.Status != http.StatusFound || res.Header.Get("Location") != "/" {
				t.Errorf("POST /login/ with next in the form: %d to %q, want 302 to /", res.Status, res.Header.Get("Location"))
			}
			if res := c.Get("/login/?next=" + q); res.Status != http.StatusFound || res.Header.Get("Location") != "/" {
				t.Errorf("GET /login/ logged in: %d to %q, want 302 to /", res.Status, res.Header.Get("Location"))
			}
			c2 := shop.NewClient(t)
			c2.Get("/login/")
			if res := c2.Do(http.MethodPost, "/login/?next="+q, creds); res.Status != http.StatusFound || res.Header.Get("Location") != "/" {
				t.Errorf("POST /login/ with next in the query: %d to %q, want 302 to /", res.Status, res.Header.Get("Location"))
			}
		})
	}
}

// TestLoginLinksKeepTheWholePath: a page's login link carries next
// query-encoded, so a path with its own query comes back whole after login.
func TestLoginLinksKeepTheWholePath(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	testenv.CreateUser(t, db.Store, "buyer1")
	c := shop.NewClient(t)
	page := "/search/?q=a&sort=price"
	res := c.Get(page)
	want := `href="/login/?next=` + url.QueryEscape(page) + `"`
	if !strings.Contains(res.Body, want) {
		t.Fatalf("no login link %s on %s", want, page)
	}
	if res := c.Get("/orders/info/1/?a=1&b=2"); res.Header.Get("Location") != "/login/?next="+url.QueryEscape("/orders/info/1/?a=1&b=2") {
		t.Errorf("login required: redirect to %q", res.Header.Get("Location"))
	}
	res = c.Do(http.MethodPost, "/login/?next="+url.QueryEscape(page), url.Values{"username": {"buyer1"}, "password": {testenv.Password}})
	if got := res.Header.Get("Location"); got != page {
		t.Errorf("after login: redirect to %q, want %q", got, page)
	}
}

// TestAccountLockout: failed logins count per account from any address,
// the username and the mobile together; the delay is bounded (the owner
// always gets a try within 5 minutes) and other accounts are not touched.
func TestAccountLockout(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			rdb, _ := testenv.Redis(t)
			shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) {
				// Only the account's count matters here, as if each guess
				// came from another address.
				d.Limits.LoginPerUser = redis_rate.PerHour(1000)
				d.Limits.LoginPerIP = redis_rate.PerHour(1000)
				// One failure back every 5 minutes, so a slow run does not
				// refill it meanwhile.
				d.Limits.LoginPerAccount = []redis_rate.Limit{{Rate: 1, Burst: 5, Period: 5 * time.Minute}}
			})
			victim := testenv.CreateUser(t, db.Store, "victim")
			testenv.CreateUser(t, db.Store, "bystander")
			for i := range 5 {
				login := "victim"
				if i%2 == 1 {
					login = victim.Mobile
				}
				if res := postLogin(shop.NewClient(t), url.Values{"username": {login}, "password": {"guess-" + strconv.Itoa(i)}}); res.Status != http.StatusBadRequest {
					t.Fatalf("failure %d: status %d, want 400", i+1, res.Status)
				}
			}
			for _, login := range []string{"victim", "VICTIM", victim.Mobile} {
				c := shop.NewClient(t)
				res := postLogin(c, url.Values{"username": {login}, "password": {testenv.Password}})
				if res.Status != http.StatusTooManyRequests || loggedIn(c) {
					t.Errorf("%s after 5 failures on the account: status %d, want 429", login, res.Status)
				}
				if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || s <= 0 || s > 5*60 {
					t.Errorf("Retry-After %q, want 1 to 300 seconds", res.Header.Get("Retry-After"))
				}
			}
			if res := postLogin(shop.NewClient(t), url.Values{"username": {"bystander"}, "password": {testenv.Password}}); res.Status != http.StatusFound {
				t.Errorf("another account: status %d, want 302", res.Status)
			}
		})
	}
}

// TestAccountLockoutDelayGrowsAndCaps: with the default tiers, the wait a
// locked account is told grows with more failures, and never passes 5
// minutes.
func TestAccountLockoutDelayGrowsAndCaps(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	rdb, _ := testenv.Redis(t)
	shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) {
		d.Limits.LoginPerUser = redis_rate.PerHour(1000)
		d.Limits.LoginPerIP = redis_rate.PerHour(1000)
	})
	testenv.CreateUser(t, db.Store, "target")
	// Each Redis tier, filled as a stream of failures would fill it,
	// minute by minute, is simulated by consuming the limits directly.
	lim := redis_rate.NewLimiter(rdb)
	ctx := context.Background()
	u, err := db.Store.Accounts.LoginAccount(ctx, "target")
	if err != nil {
		t.Fatal(err)
	}
	retry := func() int {
		t.Helper()
		res := postLogin(shop.NewClient(t), url.Values{"username": {"target"}, "password": {"guess"}})
		if res.Status != http.StatusTooManyRequests {
			t.Fatalf("status %d, want 429", res.Status)
		}
		s, _ := strconv.Atoi(res.Header.Get("Retry-After"))
		return s
	}
	tiers := handlers.Limits{}.LoginPerAccountDefaults()
	var last int
	for i, l := range tiers {
		key := "login:fail:acct:" + strconv.Itoa(i) + ":id:" + strconv.FormatInt(u, 10)
		if _, err := lim.AllowN(ctx, key, l, l.Burst); err != nil {
			t.Fatal(err)
		}
		got := retry()
		if got <= last || got > 5*60 {
			t.Errorf("tier %d full: Retry-After %d s, want more than %d and at most 300", i, got, last)
		}
		last = got
	}
}

// TestRegisterLimitBeforeUniqueness: the sign-up limit is counted before the
// username and mobile are looked up, so the form cannot be used to find
// existing accounts faster than the limit.
func TestRegisterLimitBeforeUniqueness(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			rdb, _ := testenv.Redis(t)
			shop := testenv.NewShopWith(t, db, rdb, func(d *handlers.Deps) {
				d.Limits.RegisterPerIP = redis_rate.PerHour(2)
			})
			known := testenv.CreateUser(t, db.Store, "known1")
			probe := func(name, mobile string) testenv.Response {
				c := shop.NewClient(t)
				c.Get("/register/")
				return c.Do(http.MethodPost, "/register/", url.Values{"username": {name}, "password": {"secret-pw-1"},
					"password2": {"secret-pw-1"}, "mobile": {mobile}, "allow": {"on"}})
			}
			for i := range 2 {
				if res := probe("known1", "1360000001"+strconv.Itoa(i)); res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "该用户名已被注册") {
					t.Fatalf("probe %d: status %d, want 400 with the taken message", i+1, res.Status)
				}
			}
			for _, p := range [][2]string{{"known1", "13600000019"}, {"other99", known.Mobile}} {
				res := probe(p[0], p[1])
				if res.Status != http.StatusTooManyRequests || strings.Contains(res.Body, "已被注册") {
					t.Errorf("probe %v past the limit: status %d, want 429 without saying what is taken", p, res.Status)
				}
			}
		})
	}
}
