package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
	"github.com/meiduo/shop/web"
)

// adminEnv is a shop with the demo catalog, a staff member and a shopper,
// both logged in.
type adminEnv struct {
	*orderEnv
	staff, shopper *testenv.Client
	staffID        int64
}

func newAdminEnv(t *testing.T, db testenv.DB) *adminEnv {
	t.Helper()
	rdb, _ := testenv.Redis(t)
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	e := &adminEnv{orderEnv: &orderEnv{t: t, db: db, sql: sqlDB, shop: testenv.NewShopWith(t, db, rdb, nil), carts: carts.New(rdb)}}
	if _, err := db.Store.Catalog.LoadDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	u, err := db.Store.Accounts.CreateUser(context.Background(), models.NewUser{Username: "boss01", Password: testenv.Password,
		Mobile: testenv.RandomMobile(), IsStaff: true})
	if err != nil {
		t.Fatal(err)
	}
	e.staffID = u.ID
	e.staff = e.shop.NewClient(t)
	e.staff.Login(t, "boss01", testenv.Password)
	testenv.CreateUser(t, db.Store, "shopper01")
	e.shopper = e.shop.NewClient(t)
	e.shopper.Login(t, "shopper01", testenv.Password)
	return e
}

// Every /admin/ route, found by walking the router so that none can be
// forgotten: an anonymous visitor is sent to log in, a logged-in shopper
// gets 403 and changes nothing, and staff get through.
func TestAdminEveryRouteRefusesNonStaff(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	e := newAdminEnv(t, db)
	anon := e.shop.NewClient(t)
	anon.Visit()
	routes := web.Routes(e.shop.Handlers, web.Config{CSRFKey: make([]byte, 32), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	param := regexp.MustCompile(`:[a-z_]+`)
	n := 0
	for _, r := range routes {
		if !strings.HasPrefix(r.Path, "/admin/") {
			continue
		}
		n++
		path := param.ReplaceAllString(r.Path, "1")
		var body any
		if r.Method != http.MethodGet {
			body = url.Values{}
		}
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			before := db.Store
			snap, err := testkit.TakeSnapshot(context.Background(), before)
			if err != nil {
				t.Fatal(err)
			}
			res := anon.Do(r.Method, path, body)
			if res.Status != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/login/?next=") {
				t.Errorf("anonymous: %d to %q, want 302 to /login/?next=...", res.Status, res.Header.Get("Location"))
			}
			res = e.shopper.Do(r.Method, path, body)
			if res.Status != http.StatusForbidden {
				t.Errorf("shopper: %d, want 403", res.Status)
			}
			after, err := testkit.TakeSnapshot(context.Background(), before)
			if err != nil {
				t.Fatal(err)
			}
			if len(after.Orders) != len(snap.Orders) || after.Ledger != snap.Ledger {
				t.Errorf("a refused request changed something")
			}
			if res := e.staff.Do(r.Method, path, body); res.Status == http.StatusForbidden || res.Status == http.StatusFound && strings.HasPrefix(res.Header.Get("Location"), "/login/") {
				t.Errorf("staff: %d to %q, want through", res.Status, res.Header.Get("Location"))
			}
		})
	}
	if n < 20 {
		t.Errorf("found %d admin routes, want at least 20", n)
	}
}

// stockOf reads the stock shown on a SKU's admin page.
func stockOf(t *testing.T, c *testenv.Client, sku int64) int {
	t.Helper()
	res := c.Get("/admin/skus/" + strconv.FormatInt(sku, 10) + "/")
	if res.Status != http.StatusOK {
		t.Fatalf("sku page: %d", res.Status)
	}
	n, err := strconv.Atoi(oneTestid(t, res.Body, "stock-now"))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Staff adjust stock, see it in the ledger, and cancel an order whose
// stock comes back; refusals change nothing and say why.
func TestAdminStockAndCancelThroughHTTP(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAdminEnv(t, db)
			sku := int64(1) // the demo's iPhone 15 128GB black: 120 in stock
			path := "/admin/skus/1/"
			if got := stockOf(t, e.staff, sku); got != 120 {
				t.Fatalf("stock %d, want 120", got)
			}

			tests := []struct {
				name      string
				form      url.Values
				wantFlash string
				stock     int
			}{
				{"add", url.Values{"delta": {"30"}, "note": {"到货 delivery"}}, "库存已调整，当前库存 150", 150},
				{"remove", url.Values{"delta": {"-50"}, "note": {"盘点"}}, "库存已调整，当前库存 100", 100},
				{"too many", url.Values{"delta": {"-101"}, "note": {"x"}}, "库存不足：最多只能减少 100", 100},
				{"zero", url.Values{"delta": {"0"}, "note": {"x"}}, "变动数量应为非 0 整数", 100},
				{"not a number", url.Values{"delta": {"ten"}, "note": {"x"}}, "变动数量应为非 0 整数", 100},
				{"no reason", url.Values{"delta": {"5"}, "note": {" "}}, "请填写调整原因（不超过 200 字）", 100},
				{"past the cap", url.Values{"delta": {"999999901"}, "note": {"x"}}, "库存上限为 1000000000：最多只能再增加 999999900", 100},
				{"reason with NUL", url.Values{"delta": {"5"}, "note": {"到货\x00"}}, "调整原因不能包含控制字符或文字方向控制符，也不能只有不可见字符", 100},
				{"invisible reason", url.Values{"delta": {"5"}, "note": {"\u200B"}}, "调整原因不能包含控制字符或文字方向控制符，也不能只有不可见字符", 100},
			}
			for _, tc := range tests {
				res := e.staff.Do(http.MethodPost, path+"stock/", tc.form)
				if res.Status != http.StatusSeeOther || res.Header.Get("Location") != path {
					t.Fatalf("%s: %d to %q, want 303 to %s", tc.name, res.Status, res.Header.Get("Location"), path)
				}
				page := e.staff.Get(path)
				if got := oneTestid(t, page.Body, "flash"); got != tc.wantFlash {
					t.Errorf("%s: flash %q, want %q", tc.name, got, tc.wantFlash)
				}
				if got, _ := strconv.Atoi(oneTestid(t, page.Body, "stock-now")); got != tc.stock {
					t.Errorf("%s: stock %d, want %d", tc.name, got, tc.stock)
				}
			}
			if got := testids(e.staff.Get(path).Body, "flash"); len(got) != 0 {
				t.Errorf("the flash shows twice: %v", got)
			}
			ledger := e.staff.Get("/admin/ledger/?sku=1&reason=adjust").Body
			if got, want := testids(ledger, "ledger-delta"), []string{"-50", "+30"}; strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("ledger deltas %v, want %v", got, want)
			}
			if got := testids(ledger, "ledger-who"); len(got) != 2 || got[0] != "boss01" {
				t.Errorf("ledger who %v, want boss01 twice", got)
			}

			// A shopper orders 2; staff cancel it twice; the stock is back once.
			b := e.buyer()
			e.put(b, sku, 2, true)
			_, js := commit(t, b, map[string]any{"address_id": b.address, "pay_method": 2})
			id, _ := js["order_id"].(string)
			if id == "" {
				t.Fatalf("commit: %v", js)
			}
			if got := stockOf(t, e.staff, sku); got != 98 {
				t.Errorf("stock after the order %d, want 98", got)
			}
			u, err := db.Store.Accounts.UserByID(context.Background(), b.uid)
			if err != nil {
				t.Fatal(err)
			}
			orders := e.staff.Get("/admin/orders/?status=1&user=" + u.Username).Body
			if got := testids(orders, "order-link"); len(got) != 1 || got[0] != id {
				t.Errorf("unpaid orders of %s: %v, want [%s]", u.Username, got, id)
			}
			for i, want := range []string{"订单已取消，库存已退回", "订单当前状态不允许此操作"} {
				res := e.staff.Do(http.MethodPost, "/admin/orders/"+id+"/cancel/", url.Values{})
				if res.Status != http.StatusSeeOther {
					t.Fatalf("cancel %d: %d", i, res.Status)
				}
				page := e.staff.Get("/admin/orders/" + id + "/").Body
				if got := oneTestid(t, page, "flash"); got != want {
					t.Errorf("cancel %d: flash %q, want %q", i, got, want)
				}
				if got := oneTestid(t, page, "order-status"); got != "已取消" {
					t.Errorf("cancel %d: status %q, want 已取消", i, got)
				}
			}
			if got := stockOf(t, e.staff, sku); got != 100 {
				t.Errorf("stock after the cancel %d, want 100", got)
			}
			if res := e.staff.Do(http.MethodPost, "/admin/orders/nope/ship/", url.Values{}); res.Status != http.StatusNotFound {
				t.Errorf("ship an unknown order: %d, want 404", res.Status)
			}
			bad, err := db.Store.Ledger.LedgerMismatches(context.Background())
			if err != nil || len(bad) != 0 {
				t.Errorf("ledger mismatches %v, %v", bad, err)
			}
		})
	}
}

// The SKU and SPU forms: bad input is shown again with the field's
// message and changes nothing; good input is saved.
func TestAdminCatalogForms(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	e := newAdminEnv(t, db)
	e.staff.Get("/admin/spus/new/")
	res := e.staff.Do(http.MethodPost, "/admin/spus/new/", url.Values{"name": {""}, "category": {"1"}})
	if res.Status != http.StatusBadRequest || oneTestid(t, res.Body, "error-name") != "必填" {
		t.Errorf("empty spu name: %d, want 400 with 必填", res.Status)
	}
	for _, form := range []url.Values{
		{"name": {"Pixel\u2067 9"}, "category": {"1"}},
		{"name": {"Pixel 9"}, "category": {"1"}, "desc": {"Google\n\x00"}},
	} {
		res := e.staff.Do(http.MethodPost, "/admin/spus/new/", form)
		if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, "不能包含控制字符或文字方向控制符") {
			t.Errorf("spu form %q: %d, want 400 saying why", form, res.Status)
		}
	}
	res = e.staff.Do(http.MethodPost, "/admin/spus/new/", url.Values{"name": {"Pixel 9"}, "category": {"1"}, "desc": {"Google\nAndroid"}})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create spu: %d\n%.2000s", res.Status, res.Body)
	}
	spu := strings.TrimSuffix(strings.TrimPrefix(res.Header.Get("Location"), "/admin/spus/"), "/")

	good := url.Values{"name": {"Pixel 9 128GB"}, "caption": {"AI phone"}, "spu": {spu}, "category": {"1"}, "price": {"4999.00"},
		"image": {"/static/img/logo.svg"}, "threshold": {"3"}, "stock": {"7"}, "launched": {"1"}}
	for _, tc := range []struct{ field, value, want string }{
		{"price", "12.345", "请输入 0 到 99999999.99 之间、最多两位小数的金额"},
		{"price", "-1", "请输入 0 到 99999999.99 之间、最多两位小数的金额"},
		{"stock", "-3", "请输入不小于 0 的整数"},
		{"threshold", "x", "请输入不小于 0 的整数"},
		{"image", "javascript:alert(1)", "图片地址应为本站 /static/ 或 /media/ 下的路径"},
		{"image", "/\\evil.example/x.png", "图片地址应为本站 /static/ 或 /media/ 下的路径"},
		{"image", "https://evil.example/x.png", "图片地址应为本站 /static/ 或 /media/ 下的路径"},
		{"image", "/static/../x.png", "图片地址应为本站 /static/ 或 /media/ 下的路径"},
		{"stock", "1000000001", "请输入不小于 0 的整数"},
		{"spu", "99999", "请选择一项"},
		{"name", "Pixel\x1b[31m red", "不能包含控制字符或文字方向控制符"},
		{"caption", "AI \u202Egnp.exe", "不能包含控制字符或文字方向控制符"},
		{"name", "\u200B\u3164", "不能只由不可见字符组成"},
	} {
		form := url.Values{}
		for k, v := range good {
			form[k] = v
		}
		form.Set(tc.field, tc.value)
		res := e.staff.Do(http.MethodPost, "/admin/skus/new/", form)
		if res.Status != http.StatusBadRequest || oneTestid(t, res.Body, "error-"+tc.field) != tc.want {
			t.Errorf("%s=%q: %d, want 400 with %q", tc.field, tc.value, res.Status, tc.want)
		}
	}
	res = e.staff.Do(http.MethodPost, "/admin/skus/new/", good)
	if res.Status != http.StatusSeeOther {
		t.Fatalf("create sku: %d\n%.2000s", res.Status, res.Body)
	}
	page := e.staff.Get(res.Header.Get("Location")).Body
	if oneTestid(t, page, "flash") != "已创建" || oneTestid(t, page, "stock-now") != "7" {
		t.Errorf("new sku page: flash %v, stock %v", testids(page, "flash"), testids(page, "stock-now"))
	}
	list := e.staff.Get("/admin/skus/?q=pixel").Body
	if got := testids(list, "sku-link"); len(got) != 1 || got[0] != "Pixel 9 128GB" {
		t.Errorf("search pixel: %v", got)
	}
	if got := testids(e.staff.Get("/admin/stock/low/").Body, "sku-link"); len(got) == 0 {
		t.Errorf("low stock page lists nothing; the demo has nearly sold-out SKUs")
	}
	if res := e.staff.Get("/admin/skus/?page=99"); res.Status != http.StatusNotFound {
		t.Errorf("page 99: %d, want 404", res.Status)
	}
	if res := e.staff.Get("/admin/orders/?from=yesterday"); res.Status != http.StatusBadRequest {
		t.Errorf("bad date: %d, want 400", res.Status)
	}
	if res := e.staff.Get("/admin/"); res.Status != http.StatusOK || oneTestid(t, res.Body, "stat-orders") != "0" {
		t.Errorf("dashboard: %d", res.Status)
	}
}

// The dashboard draws its charts on the server: a column a day for 30
// days of orders, revenue and sign-ups, units per category, and the
// recent orders with their amounts.
func TestAdminDashboardCharts(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	e := newAdminEnv(t, db)
	ctx := context.Background()
	buyer := testenv.CreateUser(t, db.Store, "charted01")
	addr := testenv.CreateAddress(t, db.Store, buyer.ID)
	placed, err := order.New(db.Store, order.Config{}).PlaceOrder(ctx, order.PlaceRequest{UserID: buyer.ID, AddressID: addr.ID,
		PayMethod: models.PayCash, Items: []order.Item{{SKUID: 1, Count: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	res := e.staff.Get("/admin/")
	if res.Status != http.StatusOK {
		t.Fatalf("GET /admin/: %d", res.Status)
	}
	page := res.Body
	for _, id := range []string{"chart-orders", "chart-revenue", "chart-users"} {
		i := strings.Index(page, `data-testid="`+id+`"`)
		if i < 0 {
			t.Fatalf("no %s on the dashboard", id)
		}
		chart := page[i:]
		chart = chart[:strings.Index(chart, "</figure>")]
		if n := strings.Count(chart, `data-testid="chart-bar"`); n != models.ChartDays {
			t.Errorf("%s: %d columns, want %d", id, n, models.ChartDays)
		}
	}
	for _, c := range []struct{ id, want string }{
		{"chart-orders-summary", "共 1 单（不含已取消）"},
		{"chart-revenue-summary", "共 ¥" + placed.TotalAmount.StringFixed(2)},
		{"chart-users-summary", "共 3 人"}, // boss01, shopper01, charted01
		{"chart-orders-max", "1"},
		{"order-amount", "¥" + placed.TotalAmount.StringFixed(2)},
	} {
		if got := oneTestid(t, page, c.id); got != c.want {
			t.Errorf("%s: %q, want %q", c.id, got, c.want)
		}
	}
	if n := len(testids(page, "share-category")); n != 1 {
		t.Errorf("%d categories charted, want 1", n)
	}
	if !strings.Contains(page, `title="`+placed.OrderID+`"`) {
		t.Errorf("the recent order's id has no title with the whole id")
	}
}
