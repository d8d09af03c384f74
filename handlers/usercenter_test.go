package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/internal/testenv"
)

// historyIDs is GET /browse_histories/'s SKU ids.
func historyIDs(t *testing.T, c *testenv.Client) []float64 {
	t.Helper()
	res := c.Get("/browse_histories/")
	body := res.JSON(t)
	if res.Status != http.StatusOK || body["code"] != 0.0 {
		t.Fatalf("GET /browse_histories/: %d %s", res.Status, res.Body)
	}
	var out []float64
	for _, s := range body["skus"].([]any) {
		sku := s.(map[string]any)
		for _, k := range []string{"name", "default_image_url", "price"} {
			if _, ok := sku[k].(string); !ok {
				t.Errorf("history entry %v has no %s", sku, k)
			}
		}
		out = append(out, sku["id"].(float64))
	}
	return out
}

func TestBrowseHistory(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newOrderEnv(t, db, nil, nil)
			alice, bob := e.buyer(), e.buyer()
			var skus []int64
			for i := range 7 {
				skus = append(skus, e.sku(fmt.Sprintf("sku %d", i), "1.00", 10))
			}
			if got := historyIDs(t, alice.Client); len(got) != 0 {
				t.Errorf("a new user's history %v", got)
			}
			for _, k := range []int64{skus[0], skus[1], skus[2], skus[0], skus[3], skus[4], skus[5], skus[6], skus[4]} {
				if res := alice.Do(http.MethodPost, "/browse_histories/", map[string]any{"sku_id": k}); res.Status != http.StatusOK || res.Code(t) != 0 {
					t.Fatalf("POST sku %d: %d %s", k, res.Status, res.Body)
				}
			}
			want := []float64{float64(skus[4]), float64(skus[6]), float64(skus[5]), float64(skus[3]), float64(skus[0])}
			if got := historyIDs(t, alice.Client); !cmp.Equal(got, want) {
				t.Errorf("history %v, want %v (newest first, each once, five)", got, want)
			}
			if got := e.shop.Redis.LLen(context.Background(), fmt.Sprintf("history_%d", alice.uid)).Val(); got != 5 {
				t.Errorf("history_<uid> holds %d entries, want 5", got)
			}
			if got := historyIDs(t, bob.Client); len(got) != 0 {
				t.Errorf("another user sees history %v", got)
			}

			// The user centre shows it, with the user's details.
			page := alice.Get("/info/")
			if page.Status != http.StatusOK {
				t.Fatalf("/info/: %d", page.Status)
			}
			if got := dataAttrs(page.Body, "history-sku", "data-sku-id"); len(got) != 5 || got[0] != fmt.Sprint(skus[4]) {
				t.Errorf("the user centre shows history %q", got)
			}
			if got := oneTestid(t, page.Body, "info-username"); got != alice.username(t, e) {
				t.Errorf("username %q", got)
			}
			if got := oneTestid(t, page.Body, "info-mobile"); len(got) != 11 {
				t.Errorf("mobile %q", got)
			}
			for _, link := range []string{"info-orders", "info-addresses", "info-password"} {
				oneTestid(t, page.Body, link)
			}

			// Refusals write nothing.
			before := historyIDs(t, alice.Client)
			for _, tt := range []struct {
				name       string
				body       any
				wantStatus int
				wantCode   int
			}{
				{"unknown sku", map[string]any{"sku_id": 999999}, 200, 400},
				{"no sku", map[string]any{}, 400, 400},
				{"sku 0", map[string]any{"sku_id": 0}, 400, 400},
				{"sku not a number", map[string]any{"sku_id": "abc"}, 400, 400},
				{"malformed JSON", `{"sku_id":`, 400, 400},
			} {
				res := alice.Do(http.MethodPost, "/browse_histories/", tt.body)
				body := res.JSON(t)
				if res.Status != tt.wantStatus || body["code"] != float64(tt.wantCode) || body["errmsg"] == "" {
					t.Errorf("%s: %d %s, want %d code %d with a message", tt.name, res.Status, res.Body, tt.wantStatus, tt.wantCode)
				}
			}
			if got := historyIDs(t, alice.Client); !cmp.Equal(got, before) {
				t.Errorf("after refusals: %v, want %v", got, before)
			}

			// Logged out: 401 on the JSON, the login page for /info/.
			anon := e.shop.NewClient(t)
			anon.Visit()
			if res := anon.Do(http.MethodPost, "/browse_histories/", map[string]any{"sku_id": skus[0]}); res.Status != http.StatusUnauthorized || res.Code(t) != 4101 {
				t.Errorf("anonymous POST: %d %s", res.Status, res.Body)
			}
			if res := anon.Do(http.MethodGet, "/browse_histories/", `{}`); res.Status != http.StatusUnauthorized {
				t.Errorf("anonymous GET: %d", res.Status)
			}
			for _, path := range []string{"/info/", "/password/"} {
				if res := anon.Get(path); res.Status != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/login/?next=") {
					t.Errorf("anonymous %s: %d to %q", path, res.Status, res.Header.Get("Location"))
				}
			}
			// The SKU page asks logged-in visitors' browsers to record the visit.
			if !strings.Contains(alice.Get(fmt.Sprintf("/detail/%d/", skus[0])).Body, "/static/js/history.js") {
				t.Error("the SKU page does not load history.js for a logged-in user")
			}
			if strings.Contains(anon.Get(fmt.Sprintf("/detail/%d/", skus[0])).Body, "/static/js/history.js") {
				t.Error("the SKU page loads history.js for an anonymous visitor")
			}
		})
	}
}

// Without Redis the user centre still shows (its history does not), the
// history reads empty, and recording a visit is 503.
func TestBrowseHistoryRedisDown(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr(), MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	e := newOrderEnv(t, db, rdb, nil)
	b := e.buyer()
	sku := e.sku("a", "1.00", 10)
	if res := b.Do(http.MethodPost, "/browse_histories/", map[string]any{"sku_id": sku}); res.Code(t) != 0 {
		t.Fatal(res.Body)
	}
	m.Close()
	page := b.Get("/info/")
	if page.Status != http.StatusOK {
		t.Fatalf("/info/ with Redis down: %d", page.Status)
	}
	oneTestid(t, page.Body, "history-down")
	if got := historyIDs(t, b.Client); len(got) != 0 {
		t.Errorf("history with Redis down: %v", got)
	}
	if res := b.Do(http.MethodPost, "/browse_histories/", map[string]any{"sku_id": sku}); res.Status != http.StatusServiceUnavailable || res.Code(t) != 503 {
		t.Errorf("POST with Redis down: %d %s, want 503", res.Status, res.Body)
	}
}

// passwordForm is the password change form.
func passwordForm(old, pw, pw2 string) url.Values {
	return url.Values{"old_password": {old}, "new_password": {pw}, "new_password2": {pw2}}
}

func TestPasswordChange(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			u := testenv.CreateUser(t, db.Store, "changer01")
			here, there := shop.NewClient(t), shop.NewClient(t)
			here.Login(t, u.Username, testenv.Password)
			there.Login(t, u.Username, testenv.Password)
			if res := here.Get("/password/"); res.Status != http.StatusOK {
				t.Fatalf("GET /password/: %d", res.Status)
			}
			const fresh = "fresh-Pass-2026"
			for _, tt := range []struct {
				name        string
				form        url.Values
				field, text string
			}{
				{"nothing", passwordForm("", "", ""), "old_password", "请填写此项"},
				{"no new password", passwordForm(testenv.Password, "", ""), "new_password", "请填写此项"},
				{"too short", passwordForm(testenv.Password, "a1b2c3", "a1b2c3"), "new_password", "至少需要8个字符"},
				{"digits only", passwordForm(testenv.Password, strings.Repeat("0", 30), strings.Repeat("0", 30)), "new_password", "纯数字"},
				{"common", passwordForm(testenv.Password, "password123", "password123"), "new_password", "太常见"},
				{"like the username", passwordForm(testenv.Password, "changer012", "changer012"), "new_password", "相似"},
				{"the same as now", passwordForm(testenv.Password, testenv.Password, testenv.Password), "new_password", "不能与当前密码相同"},
				{"not repeated", passwordForm(testenv.Password, fresh, fresh+"x"), "new_password2", "不一致"},
				{"wrong old password", passwordForm("not-my-password", fresh, fresh), "old_password", "当前密码不正确"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					res := here.Do(http.MethodPost, "/password/", tt.form)
					if res.Status != http.StatusBadRequest {
						t.Fatalf("%d, want 400", res.Status)
					}
					if got := oneTestid(t, res.Body, "error-"+tt.field); !strings.Contains(got, tt.text) {
						t.Errorf("%s says %q, want %q", tt.field, got, tt.text)
					}
					if !loggedIn(there) || !loggedIn(here) {
						t.Error("a refused change ended a session")
					}
				})
			}
			forged := passwordForm(testenv.Password, fresh, fresh)
			forged.Set("csrfmiddlewaretoken", "bogus-token")
			if res := here.Do(http.MethodPost, "/password/", forged); res.Status != http.StatusForbidden {
				t.Errorf("a change without a valid CSRF token: %d, want 403", res.Status)
			}
			check := shop.NewClient(t)
			check.Login(t, u.Username, testenv.Password) // the password did not change

			res := here.Do(http.MethodPost, "/password/", passwordForm(testenv.Password, fresh, fresh))
			if res.Status != http.StatusFound || res.Header.Get("Location") != "/info/?password=changed" {
				t.Fatalf("change: %d to %q, want 302 to /info/?password=changed\n%.2000s", res.Status, res.Header.Get("Location"), res.Body)
			}
			page := here.Get("/info/?password=changed")
			if page.Status != http.StatusOK {
				t.Fatalf("this session after the change: %d to %q, want to stay logged in", page.Status, page.Header.Get("Location"))
			}
			oneTestid(t, page.Body, "password-changed")
			if loggedIn(there) {
				t.Error("another session survived the password change")
			}
			if loggedIn(check) {
				t.Error("a session opened before the change survived it")
			}
			again := shop.NewClient(t)
			again.Get("/login/")
			if res := again.Do(http.MethodPost, "/login/", url.Values{"username": {u.Username}, "password": {testenv.Password}}); res.Status == http.StatusFound {
				t.Error("the old password still logs in")
			}
			again.Login(t, u.Username, fresh)
		})
	}
}

// A wrong old password counts as a failed login of the account: after
// the limit, even the right one is not checked (429) and nothing changes.
func TestPasswordChangeLockout(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	u := testenv.CreateUser(t, db.Store, "guesser01")
	c := shop.NewClient(t)
	c.Login(t, u.Username, testenv.Password)
	c.Get("/password/")
	const fresh = "fresh-Pass-2026"
	for i := range 5 {
		if res := c.Do(http.MethodPost, "/password/", passwordForm(fmt.Sprintf("guess-%d-pw", i), fresh, fresh)); res.Status != http.StatusBadRequest {
			t.Fatalf("guess %d: %d, want 400", i, res.Status)
		}
	}
	res := c.Do(http.MethodPost, "/password/", passwordForm(testenv.Password, fresh, fresh))
	if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Fatalf("after 5 wrong guesses: %d (Retry-After %q), want 429", res.Status, res.Header.Get("Retry-After"))
	}
	if got := oneTestid(t, res.Body, "form-message"); !strings.Contains(got, "尝试次数过多") {
		t.Errorf("message %q", got)
	}
	other := shop.NewClient(t)
	other.Get("/login/")
	if res := other.Do(http.MethodPost, "/login/", url.Values{"username": {u.Username}, "password": {testenv.Password}}); res.Status != http.StatusTooManyRequests {
		t.Errorf("a login after 5 wrong old passwords: %d, want 429 (the account's count is shared)", res.Status)
	}
	if !loggedIn(c) {
		t.Error("the session ended although the password did not change")
	}
}

// Every route of an order's life and of the user centre needs a login,
// but a SKU's reviews: pages send the visitor to log in, JSON answers 401
// with code 4101.
func TestLifeRoutesNeedLogin(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	c := shop.NewClient(t)
	for _, path := range []string{"/orders/detail/1/", "/orders/comment/?order_id=1", "/info/", "/password/"} {
		if res := c.Get(path); res.Status != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/login/?next=") {
			t.Errorf("anonymous GET %s = %d to %q, want a redirect to the login page", path, res.Status, res.Header.Get("Location"))
		}
	}
	c.Visit()
	for _, tt := range []struct {
		method, path string
		body         any
	}{
		{http.MethodPost, "/orders/comment/", map[string]any{"order_id": "1", "sku_id": 1, "comment": "good phone", "score": 5}},
		{http.MethodPost, "/browse_histories/", map[string]any{"sku_id": 1}},
		{http.MethodGet, "/browse_histories/", `{}`},
	} {
		if res := c.Do(tt.method, tt.path, tt.body); res.Status != http.StatusUnauthorized || res.Code(t) != 4101 {
			t.Errorf("anonymous %s %s = %d %s, want 401 code 4101", tt.method, tt.path, res.Status, res.Body)
		}
	}
	if res := c.Do(http.MethodPost, "/password/", url.Values{"old_password": {"x"}}); res.Status != http.StatusFound {
		t.Errorf("anonymous POST /password/ = %d, want a redirect to the login page", res.Status)
	}
	if res := c.Get("/comments/1/"); res.Status != http.StatusOK || res.Code(t) != 0 {
		t.Errorf("anonymous GET /comments/1/ = %d %s, want 200 code 0", res.Status, res.Body)
	}
}
