package handlers_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

// orderEnv is a shop with plain-SQL helpers for the order tests.
type orderEnv struct {
	t     testing.TB
	db    testenv.DB
	sql   *sql.DB
	shop  *testenv.Shop
	carts *carts.Store
	spu   int64
}

// newOrderEnv serves the shop on db and a private Redis; rdb nil means a
// fresh one, edit may change the dependencies.
func newOrderEnv(t testing.TB, db testenv.DB, rdb *redis.Client, edit func(*handlers.Deps)) *orderEnv {
	t.Helper()
	if rdb == nil {
		rdb, _ = testenv.Redis(t)
	}
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	e := &orderEnv{t: t, db: db, sql: sqlDB, shop: testenv.NewShopWith(t, db, rdb, edit), carts: carts.New(rdb)}
	now := time.Now().UTC()
	e.exec("INSERT INTO tb_goods_category (id, create_time, update_time, name, parent_id) VALUES (1, ?, ?, 'Orders', NULL)", now, now)
	e.spu = e.insert("tb_spu", "create_time, update_time, name, sales, comments, category_id, desc_detail", now, now, "商品", 0, 0, 1, "")
	return e
}

func (e *orderEnv) query(q string) string {
	if e.db.Name != "postgres" {
		return q
	}
	n := 0
	return regexp.MustCompile(`\?`).ReplaceAllStringFunc(q, func(string) string { n++; return "$" + strconv.Itoa(n) })
}

func (e *orderEnv) exec(q string, args ...any) {
	e.t.Helper()
	if _, err := e.sql.Exec(e.query(q), args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

func (e *orderEnv) int(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.sql.QueryRow(e.query(q), args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func (e *orderEnv) insert(table, cols string, args ...any) int64 {
	e.t.Helper()
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, cols, strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", "))
	if e.db.Name == "postgres" {
		var id int64
		if err := e.sql.QueryRow(e.query(q+" RETURNING id"), args...).Scan(&id); err != nil {
			e.t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	res, err := e.sql.Exec(q, args...)
	if err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	id, _ := res.LastInsertId()
	return id
}

func (e *orderEnv) sku(name, price string, stock int) int64 {
	e.t.Helper()
	now := time.Now().UTC()
	return e.insert("tb_sku", "create_time, update_time, name, caption, spu_id, category_id, price, cost_price, market_price, stock, sales, comments, is_launched, default_image",
		now, now, name, "", e.spu, 1, price, price, price, stock, 0, 0, true, "/static/img/logo.svg")
}

var orderBuyers atomic.Int64

// orderBuyer is a logged-in shopper with one address.
type orderBuyer struct {
	*testenv.Client
	uid     int64
	address int64
}

func (e *orderEnv) buyer() orderBuyer {
	e.t.Helper()
	name := fmt.Sprintf("orderbuyer%d", orderBuyers.Add(1))
	u := testenv.CreateUser(e.t, e.db.Store, name)
	a := testenv.CreateAddress(e.t, e.db.Store, u.ID)
	c := e.shop.NewClient(e.t)
	c.Login(e.t, name, testenv.Password)
	c.Visit()
	return orderBuyer{Client: c, uid: u.ID, address: a.ID}
}

// put sets a line of the buyer's cart in Redis.
func (e *orderEnv) put(b orderBuyer, sku int64, count int, selected bool) {
	e.t.Helper()
	if _, err := e.carts.Set(context.Background(), b.uid, sku, count, selected); err != nil {
		e.t.Fatal(err)
	}
}

func (e *orderEnv) cart(b orderBuyer) []carts.Line {
	e.t.Helper()
	lines, err := e.carts.Lines(context.Background(), b.uid)
	if err != nil {
		e.t.Fatal(err)
	}
	return lines
}

func (e *orderEnv) orders() int { e.t.Helper(); return e.int("SELECT COUNT(*) FROM tb_order_info") }

// testids returns the text of every element with data-testid=id.
func testids(page, id string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`data-testid="`+regexp.QuoteMeta(id)+`"[^>]*>([^<]*)<`).FindAllStringSubmatch(page, -1) {
		out = append(out, html.UnescapeString(strings.TrimSpace(m[1])))
	}
	return out
}

func oneTestid(t *testing.T, page, id string) string {
	t.Helper()
	got := testids(page, id)
	if len(got) != 1 {
		t.Fatalf("%d elements with data-testid=%q, want 1 in\n%.4000s", len(got), id, page)
	}
	return got[0]
}

var tokenRe = regexp.MustCompile(`name="token" value="([0-9a-f]+)"`)

// commit posts a commit and returns the answer and its JSON.
func commit(t *testing.T, b orderBuyer, body any) (testenv.Response, map[string]any) {
	t.Helper()
	res := b.Do(http.MethodPost, "/orders/commit/", body)
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("commit answered %d with %q, not JSON:\n%.2000s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	return res, res.JSON(t)
}

func TestOrderPagesNeedLogin(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	c := shop.NewClient(t)
	for _, path := range []string{"/orders/settlement/", "/orders/success/?order_id=1", "/orders/info/1/"} {
		if res := c.Get(path); res.Status != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/login/?next=") {
			t.Errorf("anonymous GET %s = %d to %q, want 302 to the login page", path, res.Status, res.Header.Get("Location"))
		}
	}
	c.Visit()
	res := c.Do(http.MethodPost, "/orders/commit/", map[string]any{"address_id": 1, "pay_method": 1})
	if res.Status != http.StatusUnauthorized || res.Code(t) != 4101 {
		t.Errorf("anonymous commit = %d %s, want 401 with code 4101", res.Status, res.Body)
	}
}

// Every refused commit answers with its status and code (README, "The order commit") and writes nothing.
func TestOrderCommitRefusals(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newOrderEnv(t, db, nil, nil)
			b, other := e.buyer(), e.buyer()
			phone := e.sku("华为 Mate 手机", "3999.00", 1)
			gone := e.sku("旧款耳机", "99.90", 5)
			e.exec("UPDATE tb_sku SET is_launched = ? WHERE id = ?", false, gone)

			tests := []struct {
				name       string
				cart       map[int64]int // selected lines
				body       any
				wantStatus int
				wantCode   int
				wantMsg    string // part of errmsg
			}{
				{"malformed JSON", map[int64]int{phone: 1}, `{"address_id": `, 400, 400, "body"},
				{"address_id of the wrong type", map[int64]int{phone: 1}, map[string]any{"address_id": true, "pay_method": 1}, 400, 400, "address_id"},
				{"address_id missing", map[int64]int{phone: 1}, map[string]any{"pay_method": 1}, 400, 400, "address_id"},
				{"pay_method 3", map[int64]int{phone: 1}, map[string]any{"address_id": b.address, "pay_method": 3}, 400, 400, "pay_method"},
				{"pay_method missing", map[int64]int{phone: 1}, map[string]any{"address_id": b.address}, 400, 400, "pay_method"},
				{"token too long", map[int64]int{phone: 1}, map[string]any{"address_id": b.address, "pay_method": 1, "token": strings.Repeat("x", 65)}, 400, 400, "token"},
				{"someone else's address", map[int64]int{phone: 1}, map[string]any{"address_id": other.address, "pay_method": 1}, 200, 400, "收货地址"},
				{"empty selection", nil, map[string]any{"address_id": b.address, "pay_method": 1}, 200, 400, "勾选"},
				{"withdrawn SKU", map[int64]int{phone: 1, gone: 1}, map[string]any{"address_id": b.address, "pay_method": 1}, 200, 400, "下架"},
				{"insufficient stock names the SKU", map[int64]int{phone: 2}, map[string]any{"address_id": b.address, "pay_method": 2}, 200, 400, "华为 Mate 手机"},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					e.put(b, phone, 1, false) // an unselected line is never ordered
					for sku, n := range tc.cart {
						e.put(b, sku, n, true)
					}
					before := e.cart(b)
					res, body := commit(t, b, tc.body)
					if res.Status != tc.wantStatus || int(body["code"].(float64)) != tc.wantCode {
						t.Errorf("answer %d %s, want HTTP %d with code %d", res.Status, res.Body, tc.wantStatus, tc.wantCode)
					}
					if msg, _ := body["errmsg"].(string); !strings.Contains(msg, tc.wantMsg) {
						t.Errorf("errmsg %q does not mention %q", msg, tc.wantMsg)
					}
					if n := e.orders(); n != 0 {
						t.Errorf("%d orders written", n)
					}
					if after := e.cart(b); len(after) != len(before) {
						t.Errorf("cart went from %v to %v", before, after)
					}
					if got := e.int("SELECT stock FROM tb_sku WHERE id = ?", phone); got != 1 {
						t.Errorf("stock %d, want 1", got)
					}
					for sku := range tc.cart {
						e.put(b, sku, 1, false)
					}
				})
			}
		})
	}
}

// The whole path: settlement page, commit, cart tidied, confirmation, my
// orders, and a replay of the same token.
func TestOrderCheckout(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newOrderEnv(t, db, nil, nil)
			b, other := e.buyer(), e.buyer()
			phone := e.sku("华为 Mate 手机", "3999.00", 10)
			cable := e.sku("数据线", "0.10", 10)
			kept := e.sku("手机壳", "12.50", 10)
			e.put(b, phone, 2, true)
			e.put(b, cable, 3, true)
			e.put(b, kept, 1, false)

			page := b.Get("/orders/settlement/")
			if page.Status != http.StatusOK {
				t.Fatalf("settlement page: %d", page.Status)
			}
			for id, want := range map[string]string{"total-count": "共 5 件", "goods-total": "¥7998.30", "freight": "¥10.00", "payable": "¥8008.30"} {
				if got := oneTestid(t, page.Body, id); got != want {
					t.Errorf("settlement %s = %q, want %q", id, got, want)
				}
			}
			if got, want := testids(page.Body, "line-name"), []string{"华为 Mate 手机", "数据线"}; strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("settlement lines %q, want %q", got, want)
			}
			if got := testids(page.Body, "line-amount"); strings.Join(got, "|") != "¥7998.00|¥0.30" {
				t.Errorf("line amounts %q", got)
			}
			if !regexp.MustCompile(`value="` + strconv.FormatInt(b.address, 10) + `" checked`).MatchString(page.Body) {
				t.Errorf("the default address is not checked")
			}
			if strings.Contains(page.Body, `data-testid="commit-order" disabled`) {
				t.Errorf("commit button disabled")
			}
			m := tokenRe.FindStringSubmatch(page.Body)
			if m == nil {
				t.Fatal("no commit token in the settlement page")
			}
			token := m[1]
			if again := tokenRe.FindStringSubmatch(b.Get("/orders/settlement/").Body); again == nil || again[1] == token {
				t.Errorf("a second settlement page has the same token")
			}

			before, err := testkit.TakeSnapshot(context.Background(), db.Store)
			if err != nil {
				t.Fatal(err)
			}
			res, body := commit(t, b, map[string]any{"address_id": strconv.FormatInt(b.address, 10), "pay_method": 1, "token": token})
			if res.Status != http.StatusOK || body["code"] != 0.0 || body["errmsg"] != "下单成功" {
				t.Fatalf("commit: %d %s", res.Status, res.Body)
			}
			orderID := body["order_id"].(string)
			if lines := e.cart(b); len(lines) != 1 || lines[0].SKUID != kept {
				t.Errorf("cart after the order %+v, want only the unselected line", lines)
			}
			// A double submit: the same token, the cart already emptied.
			res, body = commit(t, b, map[string]any{"address_id": b.address, "pay_method": 1, "token": token})
			if res.Status != http.StatusOK || body["code"] != 0.0 || body["order_id"] != orderID {
				t.Errorf("replay: %d %s, want code 0 and order %s", res.Status, res.Body, orderID)
			}
			bad, err := testkit.CheckInvariants(context.Background(), db.Store, before, testkit.Outcome{Placed: []string{orderID, orderID}, Replays: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range bad {
				t.Errorf("invariant broken: %s", v)
			}

			success := b.Get("/orders/success/?order_id=" + orderID)
			if success.Status != http.StatusOK || oneTestid(t, success.Body, "order-id") != orderID ||
				oneTestid(t, success.Body, "order-amount") != "¥8008.30" || oneTestid(t, success.Body, "order-pay-method") != "货到付款" {
				t.Errorf("success page %d:\n%.3000s", success.Status, success.Body)
			}
			if got := other.Get("/orders/success/?order_id=" + orderID).Status; got != http.StatusNotFound {
				t.Errorf("someone else's success page: %d, want 404", got)
			}

			list := b.Get("/orders/info/1/")
			if list.Status != http.StatusOK || oneTestid(t, list.Body, "order-id") != orderID ||
				oneTestid(t, list.Body, "order-total") != "¥8008.30" || oneTestid(t, list.Body, "order-status") != "待发货" ||
				oneTestid(t, list.Body, "order-freight") != "¥10.00" {
				t.Errorf("my orders page %d:\n%.4000s", list.Status, list.Body)
			}
			if got := testids(list.Body, "line-count"); strings.Join(got, "|") != "2|3" {
				t.Errorf("my orders line counts %q, want 2|3", got)
			}
			for _, path := range []string{"/orders/info/2/", "/orders/info/0/", "/orders/info/x/"} {
				if got := b.Get(path).Status; got != http.StatusNotFound {
					t.Errorf("GET %s = %d, want 404", path, got)
				}
			}
			empty := other.Get("/orders/info/1/")
			if empty.Status != http.StatusOK || len(testids(empty.Body, "orders-empty")) != 1 {
				t.Errorf("my orders without orders: %d, no empty state", empty.Status)
			}
			nothing := b.Get("/orders/settlement/")
			if len(testids(nothing.Body, "settlement-empty")) != 1 || strings.Contains(nothing.Body, `data-testid="commit-order"`) {
				t.Errorf("settlement with nothing selected shows no clear message:\n%.3000s", nothing.Body)
			}
		})
	}
}

// failCartRemoval makes Redis refuse HDEL and SREM: the order is placed
// and the buyer told so even though the cart cannot be tidied.
type failCartRemoval struct{ refused atomic.Int64 }

func (f *failCartRemoval) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f *failCartRemoval) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.refuse(cmd) {
			return cmd.Err()
		}
		return next(ctx, cmd)
	}
}

func (f *failCartRemoval) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			if f.refuse(c) {
				return c.Err()
			}
		}
		return next(ctx, cmds)
	}
}

func (f *failCartRemoval) refuse(cmd redis.Cmder) bool {
	if name := cmd.Name(); name != "hdel" && name != "srem" {
		return false
	}
	f.refused.Add(1)
	cmd.SetErr(errors.New("injected: Redis refuses to remove cart lines"))
	return true
}

func TestOrderCommitWhenRedisFailsAfterwards(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			rdb, _ := testenv.Redis(t)
			e := newOrderEnv(t, db, rdb, nil)
			b := e.buyer()
			sku := e.sku("数据线", "0.10", 10)
			e.put(b, sku, 4, true)
			hook := &failCartRemoval{}
			rdb.AddHook(hook)
			res, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": 2})
			if res.Status != http.StatusOK || body["code"] != 0.0 {
				t.Fatalf("commit with Redis failing afterwards: %d %s, want code 0", res.Status, res.Body)
			}
			if _, err := order.New(db.Store, order.Config{}).OrderOf(context.Background(), b.uid, body["order_id"].(string)); err != nil {
				t.Errorf("the order is not in the database: %v", err)
			}
			if hook.refused.Load() < 2 {
				t.Errorf("the clean-up was tried %d times, want retries", hook.refused.Load())
			}
			if lines := e.cart(b); len(lines) != 1 {
				t.Errorf("cart %+v: the failed clean-up should leave the line", lines)
			}
		})
	}
}

// Twenty buyers at once, through HTTP, on one SKU with 10 in stock.
func TestOrderCommitConcurrentHTTP(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newOrderEnv(t, db, nil, nil)
			sku := e.sku("秒杀手机", "1999.00", 10)
			buyers := make([]orderBuyer, 20)
			for i := range buyers {
				buyers[i] = e.buyer()
				e.put(buyers[i], sku, 1, true)
			}
			before, err := testkit.TakeSnapshot(context.Background(), db.Store)
			if err != nil {
				t.Fatal(err)
			}
			answers := make([]testenv.Response, len(buyers))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, b := range buyers {
				wg.Go(func() {
					<-start
					answers[i] = b.Do(http.MethodPost, "/orders/commit/", map[string]any{"address_id": b.address, "pay_method": 1})
				})
			}
			close(start)
			wg.Wait()
			var seen testkit.Outcome
			for i, res := range answers {
				body := res.JSON(t)
				switch {
				case res.Status == http.StatusOK && body["code"] == 0.0:
					seen.Placed = append(seen.Placed, body["order_id"].(string))
					if lines := e.cart(buyers[i]); len(lines) != 0 {
						t.Errorf("buyer %d ordered but still has %+v in the cart", i, lines)
					}
				case res.Status == http.StatusOK && body["code"] == 400.0 && strings.Contains(body["errmsg"].(string), "库存不足"):
					seen.Short = append(seen.Short, map[int64]int{sku: 1})
				default:
					t.Errorf("buyer %d: %d %s", i, res.Status, res.Body)
				}
			}
			if len(seen.Placed) != 10 {
				t.Errorf("%d orders, want 10", len(seen.Placed))
			}
			if got := e.int("SELECT stock FROM tb_sku WHERE id = ?", sku); got != 0 {
				t.Errorf("stock %d, want 0", got)
			}
			bad, err := testkit.CheckInvariants(context.Background(), db.Store, before, seen)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range bad {
				t.Errorf("invariant broken: %s", v)
			}
		})
	}
}
