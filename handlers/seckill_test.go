package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// The flash sale over HTTP: staff open it from the admin page, a shopper
// sees it, buys (one order however many requests at once), polls the
// result until the order is created and sees it among their orders; staff
// close it.
func TestSeckillHTTP(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			shop := testenv.NewShop(t, db)
			workers, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); shop.Handlers.Seckill.Run(workers) }()
			t.Cleanup(func() { stop(); <-done })

			skus, err := testkit.CreateBenchSKUs(ctx, db.Store, "http", 1, 50, decimal.RequireFromString("10.00"))
			if err != nil {
				t.Fatal(err)
			}
			sku := skus[0]
			staff, err := db.Store.Accounts.CreateUser(ctx, models.NewUser{Username: "staffer", Password: testenv.Password, Mobile: testenv.RandomMobile(), IsStaff: true})
			if err != nil {
				t.Fatal(err)
			}
			admin := shop.NewClient(t)
			admin.Login(t, staff.Username, testenv.Password)

			res := admin.Do(http.MethodPost, "/admin/seckill/", url.Values{"sku_id": {fmt.Sprint(sku)}, "stock": {"100"}, "price": {"1.00"}})
			if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, `data-testid="seckill-problem"`) {
				t.Errorf("open more than the stock: status %d, want 400 with the problem shown", res.Status)
			}
			res = admin.Do(http.MethodPost, "/admin/seckill/", url.Values{"sku_id": {fmt.Sprint(sku)}, "stock": {"5"}, "price": {"1.00"}})
			if res.Status != http.StatusFound {
				t.Fatalf("open a sale: status %d\n%.1500s", res.Status, res.Body)
			}
			page := admin.Get("/admin/seckill/")
			if page.Status != http.StatusOK || strings.Count(page.Body, `data-testid="sale"`) != 1 {
				t.Fatalf("admin page: status %d, want one sale listed", page.Status)
			}
			sale, err := db.Store.Sales.LiveSale(ctx, sku)
			if err != nil {
				t.Fatal(err)
			}

			buyer := testenv.CreateUser(t, db.Store, "buyer1")
			addr := testenv.CreateAddress(t, db.Store, buyer.ID)
			other := testenv.CreateUser(t, db.Store, "buyer2")
			otherAddr := testenv.CreateAddress(t, db.Store, other.ID)
			c := shop.NewClient(t)
			if res := c.Do(http.MethodPost, fmt.Sprintf("/seckill/%d/", sku), map[string]any{"address_id": addr.ID}); res.Status != http.StatusUnauthorized && res.Status != http.StatusForbidden {
				t.Errorf("anonymous buy: status %d, want 401 (or 403 without a CSRF token)", res.Status)
			}
			c.Login(t, buyer.Username, testenv.Password)
			res = c.Get(fmt.Sprintf("/seckill/%d/", sku))
			if res.Status != http.StatusOK || !strings.Contains(res.Body, `data-testid="seckill-buy"`) || !strings.Contains(res.Body, `data-phase="live"`) {
				t.Fatalf("sale page: status %d, want a live buy button\n%.2000s", res.Status, res.Body)
			}

			buyPath := fmt.Sprintf("/seckill/%d/", sku)
			cases := []struct {
				name       string
				body       any
				wantStatus int
				wantCode   int
			}{
				{"malformed", `{"address_id":`, http.StatusBadRequest, 400},
				{"no address", map[string]any{}, http.StatusBadRequest, 400},
				{"someone else's address", map[string]any{"address_id": otherAddr.ID}, http.StatusOK, 400},
			}
			for _, tc := range cases {
				res := c.Do(http.MethodPost, buyPath, tc.body)
				if res.Status != tc.wantStatus || res.Code(t) != tc.wantCode {
					t.Errorf("%s: status %d code %d, want %d and %d", tc.name, res.Status, res.Code(t), tc.wantStatus, tc.wantCode)
				}
			}

			var mu sync.Mutex
			var orders []string
			statuses := map[string]int{}
			var wg sync.WaitGroup
			for range 50 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res := c.Do(http.MethodPost, buyPath, map[string]any{"address_id": addr.ID})
					m := res.JSON(t)
					mu.Lock()
					defer mu.Unlock()
					statuses[fmt.Sprintf("%d/%v", res.Status, m["code"])]++
					if res.Status == http.StatusOK && m["code"] == float64(0) {
						orders = append(orders, m["order_id"].(string))
						if m["status"] != "queued" {
							t.Errorf("status %v, want queued", m["status"])
						}
					}
				}()
			}
			wg.Wait()
			if len(orders) != 1 {
				t.Fatalf("50 requests at once: %d orders, want 1 (answers %v)", len(orders), statuses)
			}
			for k := range statuses {
				if k != "200/0" && k != "200/400" && k != "429/429" {
					t.Errorf("unexpected answer %s", k)
				}
			}
			resultPath := "/seckill/result/" + orders[0] + "/"
			for {
				res := c.Get(resultPath)
				st := res.JSON(t)["status"]
				if st == "created" {
					break
				}
				if st != "queued" {
					t.Fatalf("result: %s", res.Body)
				}
				time.Sleep(20 * time.Millisecond)
			}
			if res := c.Get("/orders/info/1/"); !strings.Contains(res.Body, orders[0]) {
				t.Errorf("the order is not on the user's orders page")
			}
			c2 := shop.NewClient(t)
			c2.Login(t, other.Username, testenv.Password)
			if got := c2.Get(resultPath); got.Status != http.StatusNotFound {
				t.Errorf("someone else's result: status %d, want 404", got.Status)
			}

			// A buy caches that the address is buyer2's; deleting it must
			// end that at once.
			if res := c2.Do(http.MethodPost, buyPath, map[string]any{"address_id": otherAddr.ID}); res.Code(t) != 0 {
				t.Fatalf("buyer2's buy: %s", res.Body)
			}
			if res := c2.Do(http.MethodDelete, fmt.Sprintf("/addresses/%d/", otherAddr.ID), map[string]any{}); res.Code(t) != 0 {
				t.Fatalf("delete buyer2's address: %s", res.Body)
			}
			res = c2.Do(http.MethodPost, buyPath, map[string]any{"address_id": otherAddr.ID})
			if res.Code(t) != 400 || !strings.Contains(res.JSON(t)["errmsg"].(string), "地址") {
				t.Errorf("buy with a deleted address: %s, want the address refused", res.Body)
			}

			res = admin.Do(http.MethodPost, fmt.Sprintf("/admin/seckill/%d/close/", sale.ID), url.Values{})
			if res.Status != http.StatusFound {
				t.Fatalf("close: status %d\n%.1000s", res.Status, res.Body)
			}
			k, err := db.Store.Catalog.SKUByID(ctx, sku)
			if err != nil {
				t.Fatal(err)
			}
			if k.Stock != 48 || k.Sales != 2 {
				t.Errorf("sku after close: stock %d, sales %d; want 48 and 2", k.Stock, k.Sales)
			}
			// A new buyer: buyer1 may still be over the per-user rate
			// limit after the burst above, however fast this test runs.
			late := testenv.CreateUser(t, db.Store, "buyer3")
			lateAddr := testenv.CreateAddress(t, db.Store, late.ID)
			c3 := shop.NewClient(t)
			c3.Login(t, late.Username, testenv.Password)
			res = c3.Do(http.MethodPost, buyPath, map[string]any{"address_id": lateAddr.ID})
			if res.Code(t) != 400 || !strings.Contains(res.JSON(t)["errmsg"].(string), "结束") {
				t.Errorf("buy after close: %s", res.Body)
			}
			if res := c.Get(fmt.Sprintf("/seckill/%d/", sku)); !strings.Contains(res.Body, `data-phase="ended"`) {
				t.Errorf("sale page after close is not ended")
			}
		})
	}
}

// The result endpoint after Redis lost the sale: it reads the database
// for an order Redis does not know. A written order is created; one the
// database refused is failed with its reason; a buy Redis lost before the
// sale was rebuilt is failed, lost; anyone else's, or an unknown id, 404.
func TestSeckillResultAfterRedisLoss(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			shop := testenv.NewShop(t, db)
			workers, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); shop.Handlers.Seckill.Run(workers) }()
			t.Cleanup(func() { stop(); <-done })
			skus, err := testkit.CreateBenchSKUs(ctx, db.Store, "loss", 1, 50, decimal.RequireFromString("10.00"))
			if err != nil {
				t.Fatal(err)
			}
			sale, err := shop.Handlers.Seckill.Open(ctx, models.SaleInput{SKUID: skus[0], Stock: 2, Price: decimal.RequireFromString("1.00"),
				Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			buyPath := fmt.Sprintf("/seckill/%d/", skus[0])
			result := func(c *testenv.Client, oid string) (int, map[string]any) {
				res := c.Get("/seckill/result/" + oid + "/")
				if res.Status != http.StatusOK {
					return res.Status, nil
				}
				return res.Status, res.JSON(t)
			}
			buy := func(name string) (*testenv.Client, *models.User, string) {
				u := testenv.CreateUser(t, db.Store, name)
				a := testenv.CreateAddress(t, db.Store, u.ID)
				c := shop.NewClient(t)
				c.Login(t, u.Username, testenv.Password)
				res := c.Do(http.MethodPost, buyPath, map[string]any{"address_id": a.ID})
				m := res.JSON(t)
				if m["code"] != float64(0) {
					t.Fatalf("buy: %s", res.Body)
				}
				oid := m["order_id"].(string)
				for range 500 {
					if _, m := result(c, oid); m["status"] == "created" {
						return c, u, oid
					}
					time.Sleep(10 * time.Millisecond)
				}
				t.Fatalf("order %s never created", oid)
				return nil, nil, ""
			}
			c1, u1, first := buy("lossbuyer1")
			if err := shop.Redis.FlushDB(ctx).Err(); err != nil {
				t.Fatal(err)
			}
			if _, m := result(c1, first); m["status"] != "created" {
				t.Errorf("result of a written order Redis lost: %v, want created", m)
			}
			buy("lossbuyer2") // loads the sale from the database again
			sale, err = db.Store.Sales.Sale(ctx, sale.ID)
			if err != nil || sale.RebuiltAt == nil || sale.Sold != 2 {
				t.Fatalf("sale after the rebuild: %+v, %v; want rebuilt, 2 sold", sale, err)
			}
			a1, err := db.Store.Addresses.Addresses(ctx, u1.ID)
			if err != nil {
				t.Fatal(err)
			}
			second := fmt.Sprintf("%s%09d%08d", time.Now().UTC().Format("20060102150405"), u1.ID, 1)
			res, err := db.Store.Sales.PersistSeckillOrders(ctx, []models.SeckillOrder{{OrderID: second, SaleID: sale.ID,
				UserID: u1.ID, AddressID: a1[0].ID, Decided: time.Now(), Epoch: sale.Loads}})
			if err != nil || len(res.Refused) != 1 {
				t.Fatalf("persist a second unit: %+v, %v; want it refused", res, err)
			}
			lost := fmt.Sprintf("%s%09d%08d", sale.RebuiltAt.UTC().Format("20060102150405"), u1.ID, 2)
			unknown := fmt.Sprintf("%s%09d%08d", sale.StartTime.Add(-time.Hour).UTC().Format("20060102150405"), u1.ID, 3)
			cases := []struct {
				name       string
				oid        string
				wantStatus int
				want       map[string]any
			}{
				{"written", first, http.StatusOK, map[string]any{"status": "created"}},
				{"refused", second, http.StatusOK, map[string]any{"status": "failed", "reason": models.RefusedLimit}},
				{"lost", lost, http.StatusOK, map[string]any{"status": "failed", "reason": models.RefusedLost}},
				{"unknown", unknown, http.StatusNotFound, nil},
			}
			for _, tc := range cases {
				status, m := result(c1, tc.oid)
				if status != tc.wantStatus {
					t.Errorf("%s: status %d, want %d", tc.name, status, tc.wantStatus)
				}
				for k, v := range tc.want {
					if m[k] != v {
						t.Errorf("%s: %s = %v, want %v (%v)", tc.name, k, m[k], v, m)
					}
				}
			}
			c3 := shop.NewClient(t)
			u3 := testenv.CreateUser(t, db.Store, "lossother")
			c3.Login(t, u3.Username, testenv.Password)
			for _, oid := range []string{first, second, lost} {
				if status, _ := result(c3, oid); status != http.StatusNotFound {
					t.Errorf("someone else's order %s: status %d, want 404", oid, status)
				}
			}
		})
	}
}

// TestSeckillKnownRefusals: once Redis has said "not started" or "sold
// out", this process answers further buys of that sale from memory,
// before the session is read: an anonymous visitor and a forged session
// get the same refusal as a shopper, and nothing is bought.
func TestSeckillKnownRefusals(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			shop := testenv.NewShop(t, db)
			skus, err := testkit.CreateBenchSKUs(ctx, db.Store, "known", 2, 10, decimal.RequireFromString("10.00"))
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			later, live := skus[0], skus[1]
			for _, in := range []models.SaleInput{
				{SKUID: later, Stock: 1, Price: decimal.RequireFromString("1.00"), PerUser: 1, Start: now.Add(time.Hour), End: now.Add(2 * time.Hour)},
				{SKUID: live, Stock: 1, Price: decimal.RequireFromString("1.00"), PerUser: 1, Start: now, End: now.Add(time.Hour)},
			} {
				if _, err := shop.Handlers.Seckill.Open(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			buyer := testenv.CreateUser(t, db.Store, "knownbuyer")
			addr := testenv.CreateAddress(t, db.Store, buyer.ID)
			c := shop.NewClient(t)
			c.Login(t, buyer.Username, testenv.Password)
			anon := shop.NewClient(t)
			anon.Visit()
			forged := shop.NewClient(t)
			forged.Visit()
			shopURL, _ := url.Parse(shop.Server.URL)
			forged.HTTP.Jar.SetCookies(shopURL, []*http.Cookie{{Name: handlers.SessionName, Value: "not-a-session"}})

			buy := func(cl *testenv.Client, sku int64) (int, int, string) {
				res := cl.Do(http.MethodPost, fmt.Sprintf("/seckill/%d/", sku), map[string]any{"address_id": addr.ID})
				m := res.JSON(t)
				msg, _ := m["errmsg"].(string)
				return res.Status, res.Code(t), msg
			}
			for _, step := range []struct {
				name   string
				cl     *testenv.Client
				sku    int64
				status int
				code   int
				errmsg string
			}{
				{"anonymous, before Redis said anything", anon, later, http.StatusUnauthorized, 4101, ""},
				{"shopper, too early: Redis decides", c, later, http.StatusOK, 400, "未开始"},
				{"anonymous, too early: from memory", anon, later, http.StatusOK, 400, "未开始"},
				{"forged session, too early: from memory", forged, later, http.StatusOK, 400, "未开始"},
				{"shopper buys the last unit", c, live, http.StatusOK, 0, ""},
				{"anonymous, sold out: from memory", anon, live, http.StatusOK, 400, "抢光"},
				{"forged session, sold out: from memory", forged, live, http.StatusOK, 400, "抢光"},
				{"shopper again, sold out", c, live, http.StatusOK, 400, "抢光"},
			} {
				status, code, msg := buy(step.cl, step.sku)
				if status != step.status || code != step.code || !strings.Contains(msg, step.errmsg) {
					t.Errorf("%s: got HTTP %d code %d %q, want HTTP %d code %d %q", step.name, status, code, msg, step.status, step.code, step.errmsg)
				}
			}
			st, err := shop.Handlers.Seckill.State(ctx, live)
			if err != nil || st.Stock != 0 {
				t.Errorf("live sale after one buy: stock %d (%v), want 0", st.Stock, err)
			}
			st, err = shop.Handlers.Seckill.State(ctx, later)
			if err != nil || st.Stock != 1 {
				t.Errorf("sale not started: stock %d (%v), want 1", st.Stock, err)
			}
		})
	}
}

// The flash-sale admin has the admin sidebar, picks the SKU by name, keeps
// the pick when the form is refused, and labels each sale by its time.
func TestAdminSeckillPage(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	ctx := context.Background()
	shop := testenv.NewShop(t, db)
	skus, err := testkit.CreateBenchSKUs(ctx, db.Store, "picker", 2, 50, decimal.RequireFromString("10.00"))
	if err != nil {
		t.Fatal(err)
	}
	staff, err := db.Store.Accounts.CreateUser(ctx, models.NewUser{Username: "staffer", Password: testenv.Password, Mobile: testenv.RandomMobile(), IsStaff: true})
	if err != nil {
		t.Fatal(err)
	}
	admin := shop.NewClient(t)
	admin.Login(t, staff.Username, testenv.Password)
	page := admin.Get("/admin/seckill/")
	if !strings.Contains(page.Body, `data-testid="admin-nav"`) || !strings.Contains(page.Body, `<a href="/admin/seckill/" aria-current="page">`) {
		t.Errorf("the flash-sale admin has no admin sidebar with itself current")
	}
	k, err := db.Store.Catalog.SKUByID(ctx, skus[0])
	if err != nil {
		t.Fatal(err)
	}
	option := fmt.Sprintf(`<option value="%d">%s（库存 50，¥10.00）</option>`, k.ID, k.Name)
	if !strings.Contains(page.Body, option) {
		t.Errorf("no option %s in the SKU picker", option)
	}

	res := admin.Do(http.MethodPost, "/admin/seckill/", url.Values{"sku_id": {fmt.Sprint(skus[0])}, "stock": {"500"}, "price": {"1.00"}})
	if res.Status != http.StatusBadRequest || !strings.Contains(res.Body, fmt.Sprintf(`<option value="%d" selected>`, skus[0])) {
		t.Errorf("a refused form: status %d, want 400 with the SKU still picked", res.Status)
	}

	cst := time.FixedZone("CST", 8*3600)
	tomorrow := time.Now().In(cst).Add(24 * time.Hour)
	for _, f := range []url.Values{
		{"sku_id": {fmt.Sprint(skus[0])}, "stock": {"5"}, "price": {"1.00"}},
		{"sku_id": {fmt.Sprint(skus[1])}, "stock": {"5"}, "price": {"1.00"},
			"start": {tomorrow.Format("2006-01-02T15:04")}, "end": {tomorrow.Add(time.Hour).Format("2006-01-02T15:04")}},
	} {
		if res := admin.Do(http.MethodPost, "/admin/seckill/", f); res.Status != http.StatusFound {
			t.Fatalf("open %v: status %d\n%.1500s", f, res.Status, res.Body)
		}
	}
	page = admin.Get("/admin/seckill/")
	if n := strings.Count(page.Body, `data-testid="sale-state"`); n != 2 {
		t.Fatalf("%d sales listed, want 2", n)
	}
	for _, phase := range []string{`data-phase="live"><span class="tag seckill-live">进行中</span>`, `data-phase="upcoming"><span class="tag">未开始</span>`} {
		if !strings.Contains(page.Body, phase) {
			t.Errorf("no %s on the page", phase)
		}
	}
}
