package handlers_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// validAddress is a body that POST /addresses/create/ accepts.
func validAddress() map[string]any {
	return map[string]any{"receiver": "张三", "province": "北京市", "city": "北京市", "district": "海淀区",
		"place": "中关村大街 1 号", "mobile": "13800138000", "tel": "010-62345678", "email": "zs@example.com", "title": "家"}
}

// picked is validAddress with its region picked by ids.
func picked(province, city, district int64) map[string]any {
	m := validAddress()
	m["province_id"], m["city_id"], m["district_id"] = province, city, district
	return m
}

func addressesOf(t *testing.T, db testenv.DB, uid int64) []models.Address {
	t.Helper()
	list, err := db.Store.Addresses.Addresses(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func defaultOf(t *testing.T, db testenv.DB, uid int64) int64 {
	t.Helper()
	u, err := db.Store.Accounts.UserByID(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	if u.DefaultAddressID == nil {
		return 0
	}
	return *u.DefaultAddressID
}

func addressPath(id int64, suffix string) string {
	return "/addresses/" + strconv.FormatInt(id, 10) + "/" + suffix
}

func TestAddressEndpointsNeedLogin(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	owner := testenv.CreateUser(t, db.Store, "owner1")
	a := testenv.CreateAddress(t, db.Store, owner.ID)
	c := shop.NewClient(t)
	c.Get("/login/")
	tests := []struct {
		method, path string
	}{
		{http.MethodPost, "/addresses/create/"},
		{http.MethodPut, addressPath(a.ID, "")},
		{http.MethodDelete, addressPath(a.ID, "")},
		{http.MethodPut, addressPath(a.ID, "default/")},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			res := c.Do(tt.method, tt.path, validAddress())
			if res.Status != http.StatusUnauthorized || res.Code(t) != 4101 {
				t.Errorf("status %d, body %s; want 401 with code 4101", res.Status, res.Body)
			}
		})
	}
	if res := c.Get("/addresses/"); res.Status != http.StatusFound || res.Header.Get("Location") != "/login/?next=%2Faddresses%2F" {
		t.Errorf("GET /addresses/: status %d to %q, want 302 to the login page", res.Status, res.Header.Get("Location"))
	}
	if got := addressesOf(t, db, owner.ID); len(got) != 1 || got[0].IsDeleted {
		t.Errorf("anonymous requests changed the address book: %+v", got)
	}
}

func TestAddressBookThroughHTTP(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			u := testenv.CreateUser(t, db.Store, "owner1")
			c := shop.NewClient(t)
			c.Login(t, "owner1", testenv.Password)
			c.Get("/addresses/")

			res := c.Do(http.MethodPost, "/addresses/create/", validAddress())
			body := res.JSON(t)
			if res.Status != http.StatusOK || body["code"] != 0.0 {
				t.Fatalf("create: status %d, body %s", res.Status, res.Body)
			}
			got := body["address"].(map[string]any)
			id := int64(got["id"].(float64))
			want := validAddress()
			want["id"] = float64(id)
			want["province_id"], want["city_id"], want["district_id"] = nil, nil, nil
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("created address (-want +got):\n%s", diff)
			}
			if d := defaultOf(t, db, u.ID); d != id {
				t.Errorf("the first address is not the default: default %d, want %d", d, id)
			}

			noTitle := validAddress()
			delete(noTitle, "title")
			delete(noTitle, "tel")
			delete(noTitle, "email")
			noTitle["receiver"] = "李四"
			res = c.Do(http.MethodPost, "/addresses/create/", noTitle)
			second := res.JSON(t)["address"].(map[string]any)
			if second["title"] != "李四" || second["tel"] != "" || second["email"] != "" {
				t.Errorf("second address: title %q tel %q email %q, want the receiver and empty", second["title"], second["tel"], second["email"])
			}
			secondID := int64(second["id"].(float64))

			page := c.Get("/addresses/")
			if page.Status != http.StatusOK || strings.Count(page.Body, `data-testid="address"`) != 2 ||
				strings.Count(page.Body, `data-testid="default-badge"`) != 1 || !strings.Contains(page.Body, "中关村大街 1 号") {
				t.Errorf("the address book page does not list 2 addresses with one default:\n%s", page.Body)
			}

			upd := validAddress()
			upd["place"] = "上地十街 10 号"
			upd["title"] = ""
			res = c.Do(http.MethodPut, addressPath(id, ""), upd)
			if res.Code(t) != 0 {
				t.Fatalf("update: %s", res.Body)
			}
			if a, _ := db.Store.Addresses.AddressOf(context.Background(), u.ID, id); a.Place != "上地十街 10 号" || a.Title != "张三" {
				t.Errorf("after update: place %q title %q, want the new place and the receiver as title", a.Place, a.Title)
			}

			if res := c.Do(http.MethodPut, addressPath(secondID, "default/"), "{}"); res.Code(t) != 0 {
				t.Fatalf("set default: %s", res.Body)
			}
			if d := defaultOf(t, db, u.ID); d != secondID {
				t.Errorf("default %d, want %d", d, secondID)
			}
			if res := c.Do(http.MethodDelete, addressPath(secondID, ""), "{}"); res.Code(t) != 0 {
				t.Fatalf("delete: %s", res.Body)
			}
			if d := defaultOf(t, db, u.ID); d != id {
				t.Errorf("after deleting the default, default %d, want the remaining %d", d, id)
			}
			if res := c.Do(http.MethodDelete, addressPath(secondID, ""), "{}"); res.Status != http.StatusNotFound || res.Code(t) != 404 {
				t.Errorf("deleting it again: status %d body %s, want 404", res.Status, res.Body)
			}
			if n := len(addressesOf(t, db, u.ID)); n != 1 {
				t.Errorf("%d live addresses, want 1", n)
			}
		})
	}
}

func TestAddressesOfOthersAreNotFound(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			alice := testenv.CreateUser(t, db.Store, "alice1")
			testenv.CreateUser(t, db.Store, "mallory")
			a := testenv.CreateAddress(t, db.Store, alice.ID)
			gone := testenv.CreateAddress(t, db.Store, alice.ID)
			if err := db.Store.Addresses.DeleteAddress(context.Background(), alice.ID, gone.ID); err != nil {
				t.Fatal(err)
			}
			before := addressesOf(t, db, alice.ID)

			c := shop.NewClient(t)
			c.Login(t, "mallory", testenv.Password)
			c.Get("/addresses/")
			tests := []struct {
				name, method, path string
			}{
				{"update someone else's", http.MethodPut, addressPath(a.ID, "")},
				{"delete someone else's", http.MethodDelete, addressPath(a.ID, "")},
				{"default someone else's", http.MethodPut, addressPath(a.ID, "default/")},
				{"update a deleted one", http.MethodPut, addressPath(gone.ID, "")},
				{"update an unknown id", http.MethodPut, addressPath(a.ID+1000, "")},
				{"delete an unknown id", http.MethodDelete, addressPath(a.ID+1000, "")},
				{"id not a number", http.MethodPut, "/addresses/abc/"},
				{"id negative", http.MethodDelete, "/addresses/-1/"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					res := c.Do(tt.method, tt.path, validAddress())
					if res.Status != http.StatusNotFound || res.Code(t) != 404 {
						t.Errorf("status %d body %s, want 404 with code 404", res.Status, res.Body)
					}
				})
			}
			if diff := cmp.Diff(before, addressesOf(t, db, alice.ID), cmpTimes); diff != "" {
				t.Errorf("alice's addresses changed (-before +after):\n%s", diff)
			}
			if d := defaultOf(t, db, alice.ID); d != a.ID {
				t.Errorf("alice's default is %d, want %d", d, a.ID)
			}
		})
	}
}

// cmpTimes ignores the timestamps, whose precision varies by database.
var cmpTimes = cmp.FilterPath(func(p cmp.Path) bool {
	name := p.Last().String()
	return name == ".CreateTime" || name == ".UpdateTime"
}, cmp.Ignore())

func TestAddressValidation(t *testing.T) {
	with := func(k string, v any) map[string]any {
		m := validAddress()
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name  string
		body  any
		field string
	}{
		{"no receiver", with("receiver", nil), "receiver"},
		{"blank receiver", with("receiver", "   "), "receiver"},
		{"receiver of 21 characters", with("receiver", strings.Repeat("名", 21)), "receiver"},
		{"receiver a number", with("receiver", 5), "receiver"},
		{"no province", with("province", ""), "province"},
		{"long city", with("city", strings.Repeat("市", 21)), "city"},
		{"no district", with("district", nil), "district"},
		{"place of 51 characters", with("place", strings.Repeat("路", 51)), "place"},
		{"no mobile", with("mobile", nil), "mobile"},
		{"bad mobile", with("mobile", "1380013800"), "mobile"},
		{"bad tel", with("tel", "12345"), "tel"},
		{"tel too long", with("tel", "010-2345678923456789-12"), "tel"},
		{"bad email", with("email", "not-an-email"), "email"},
		{"email with a name", with("email", "Zhang <zs@example.com>"), "email"},
		{"email over 30", with("email", strings.Repeat("e", 20)+"@example.com"), "email"},
		{"title of 21 characters", with("title", strings.Repeat("题", 21)), "title"},
		{"receiver with a bidi override", with("receiver", "张\u202E三"), "receiver"},
		{"receiver of zero-width spaces", with("receiver", "\u200B\u200B"), "receiver"},
		{"city of a hangul filler", with("city", "\u3164"), "city"},
		{"place with NUL", with("place", "中关村\x00大街"), "place"},
		{"title with ESC", with("title", "\x1b[2J家"), "title"},
		{"title with an isolate", with("title", "家\u2066"), "title"},
		{"district of another city", picked(110000, 110100, 440305), "district"},
		{"city of another province", picked(110000, 440300, 440305), "city"},
		{"unknown province", picked(990000, 110100, 110108), "province"},
		{"district as province", picked(110108, 110100, 110108), "province"},
		{"no district id", picked(110000, 110100, 0), "district"},
		{"province id a string", with("province_id", "110000"), "province_id"},
		{"malformed JSON", `{"receiver": "张三",`, "body"},
		{"two JSON values", `{} {}`, "body"},
		{"not an object", `[1, 2]`, "body"},
	}
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			u := testenv.CreateUser(t, db.Store, "typist")
			a := testenv.CreateAddress(t, db.Store, u.ID)
			before := addressesOf(t, db, u.ID)
			c := shop.NewClient(t)
			c.Login(t, "typist", testenv.Password)
			c.Get("/addresses/")
			for _, tt := range tests {
				for _, ep := range []struct{ method, path string }{
					{http.MethodPost, "/addresses/create/"},
					{http.MethodPut, addressPath(a.ID, "")},
				} {
					t.Run(tt.name+" "+ep.method, func(t *testing.T) {
						res := c.Do(ep.method, ep.path, tt.body)
						if res.Status != http.StatusBadRequest || res.Code(t) != 400 {
							t.Fatalf("status %d body %s, want 400 with code 400", res.Status, res.Body)
						}
						body := res.JSON(t)
						if msg, _ := body["errmsg"].(string); !strings.Contains(msg, tt.field) {
							t.Errorf("errmsg %q does not name the field %q", msg, tt.field)
						}
						if body["field"] != tt.field || body["reason"] == "" {
							t.Errorf("field %v reason %v, want the field %q and its reason", body["field"], body["reason"], tt.field)
						}
					})
				}
			}
			if diff := cmp.Diff(before, addressesOf(t, db, u.ID), cmpTimes); diff != "" {
				t.Errorf("bad requests changed the address book (-before +after):\n%s", diff)
			}
		})
	}
}

func TestAddressLimitUnderConcurrency(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			u := testenv.CreateUser(t, db.Store, "hoarder")
			for range 15 {
				testenv.CreateAddress(t, db.Store, u.ID)
			}
			c := shop.NewClient(t)
			c.Login(t, "hoarder", testenv.Password)
			c.Get("/addresses/")
			results := make([]testenv.Response, 10)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() { results[i] = c.Do(http.MethodPost, "/addresses/create/", validAddress()) })
			}
			wg.Wait()
			codes := map[int]int{}
			for _, res := range results {
				if res.Status != http.StatusOK {
					t.Errorf("status %d body %s, want 200", res.Status, res.Body)
					continue
				}
				codes[res.Code(t)]++
			}
			if diff := cmp.Diff(map[int]int{0: 5, 400: 5}, codes); diff != "" {
				t.Errorf("answer codes (-want +got):\n%s", diff)
			}
			if n := len(addressesOf(t, db, u.ID)); n != models.MaxAddresses {
				t.Errorf("%d addresses, want %d", n, models.MaxAddresses)
			}
			res := c.Do(http.MethodPost, "/addresses/create/", validAddress())
			if msg, _ := res.JSON(t)["errmsg"].(string); res.Status != http.StatusOK || res.Code(t) != 400 || !strings.Contains(msg, "上限") {
				t.Errorf("the 21st: status %d body %s, want 200 with code 400 and the limit message", res.Status, res.Body)
			}
		})
	}
}

// TestAddressTextMessages: a refused text says why in words.
func TestAddressTextMessages(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	testenv.CreateUser(t, db.Store, "typist")
	c := shop.NewClient(t)
	c.Login(t, "typist", testenv.Password)
	c.Get("/addresses/")
	for value, want := range map[string]string{"张\u202E三": "不能包含控制字符或文字方向控制符", "\u200B": "不能只由不可见字符组成"} {
		body := validAddress()
		body["receiver"] = value
		res := c.Do(http.MethodPost, "/addresses/create/", body)
		if msg, _ := res.JSON(t)["errmsg"].(string); res.Status != http.StatusBadRequest || !strings.Contains(msg, want) {
			t.Errorf("receiver %q: %d %q, want 400 saying %q", value, res.Status, msg, want)
		}
	}
}

// An address picked from the region lists keeps the ids and stores the
// regions' own names, whatever names the body carries.
func TestAddressPickedRegion(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop := testenv.NewShop(t, db)
			u := testenv.CreateUser(t, db.Store, "picker")
			c := shop.NewClient(t)
			c.Login(t, "picker", testenv.Password)
			c.Get("/addresses/")
			body := picked(440000, 440300, 440305)
			body["province"], body["city"], body["district"] = "", "", ""
			res := c.Do(http.MethodPost, "/addresses/create/", body)
			if res.Code(t) != 0 {
				t.Fatalf("create: status %d, body %s", res.Status, res.Body)
			}
			id := int64(res.JSON(t)["address"].(map[string]any)["id"].(float64))
			a, err := db.Store.Addresses.AddressOf(context.Background(), u.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			got := []any{a.Province, a.City, a.District, *a.ProvinceID, *a.CityID, *a.DistrictID}
			want := []any{"广东省", "深圳市", "南山区", int64(440000), int64(440300), int64(440305)}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("stored region (-want +got):\n%s", diff)
			}
			typed := validAddress()
			typed["province"], typed["city"], typed["district"] = "广东省", "深圳市", "福田区"
			res = c.Do(http.MethodPost, "/addresses/create/", typed)
			if a := res.JSON(t)["address"].(map[string]any); a["district_id"] != 440304.0 || a["city_id"] != 440300.0 || a["province_id"] != 440000.0 {
				t.Errorf("typed names of a region: ids %v %v %v, want 440000 440300 440304", a["province_id"], a["city_id"], a["district_id"])
			}
			page := c.Get("/addresses/")
			if !strings.Contains(page.Body, `data-district-id="440305"`) || !strings.Contains(page.Body, "广东省 深圳市 南山区") {
				t.Errorf("the address book does not show the picked region:\n%s", page.Body)
			}
			for _, tt := range []struct{ query, want string }{
				{"?done=created&id=" + strconv.FormatInt(id, 10), "新地址已保存"},
				{"?done=default", "已设为默认地址"},
				{"?done=<script>", ""},
			} {
				page := c.Get("/addresses/" + tt.query)
				msg := regexp.MustCompile(`data-testid="address-msg"[^>]*>([^<]*)<`).FindStringSubmatch(page.Body)
				if msg == nil || !strings.Contains(msg[1], tt.want) || tt.want == "" && msg[1] != "" {
					t.Errorf("GET /addresses/%s: message %q, want %q", tt.query, msg, tt.want)
				}
			}
		})
	}
}

func TestAreas(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop := testenv.NewShop(t, db)
	c := shop.NewClient(t)

	res := c.Get("/areas/")
	body := res.JSON(t)
	if res.Status != http.StatusOK || body["code"] != 0.0 || body["errmsg"] != "OK" {
		t.Fatalf("GET /areas/: status %d, body %.200s", res.Status, res.Body)
	}
	provinces := body["province_list"].([]any)
	if len(provinces) != 31 {
		t.Errorf("provinces: got %d, want 31", len(provinces))
	}
	if diff := cmp.Diff(map[string]any{"id": 110000.0, "name": "北京市"}, provinces[0]); diff != "" {
		t.Errorf("first province (-want +got):\n%s", diff)
	}

	tests := []struct {
		name, path string
		status     int
		code       float64
		id         float64 // of sub_data
		subs       int
		firstSub   string
	}{
		{"province", "/areas/440000/", 200, 0, 440000, 21, "广州市"},
		{"city", "/areas/440300/", 200, 0, 440300, 9, "罗湖区"},
		{"city without counties", "/areas/441900/", 200, 0, 441900, 36, "东城街道"},
		{"district", "/areas/440305/", 200, 0, 440305, 0, ""},
		{"unknown id", "/areas/123/", 200, 400, 0, 0, ""},
		{"negative id", "/areas/-1/", 404, 404, 0, 0, ""},
		{"not a number", "/areas/abc/", 404, 404, 0, 0, ""},
		{"too big", "/areas/99999999999999999999/", 404, 404, 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := c.Get(tt.path)
			body := res.JSON(t)
			if res.Status != tt.status || body["code"] != tt.code {
				t.Fatalf("status %d body %.300s, want status %d code %v", res.Status, res.Body, tt.status, tt.code)
			}
			if tt.code != 0 {
				if msg, _ := body["errmsg"].(string); msg == "" {
					t.Errorf("no errmsg in %s", res.Body)
				}
				return
			}
			sub := body["sub_data"].(map[string]any)
			subs := sub["subs"].([]any)
			if sub["id"] != tt.id || sub["name"] == "" || len(subs) != tt.subs {
				t.Errorf("sub_data id %v name %v with %d subs, want %v with %d", sub["id"], sub["name"], len(subs), tt.id, tt.subs)
			}
			if tt.subs > 0 && subs[0].(map[string]any)["name"] != tt.firstSub {
				t.Errorf("first sub %v, want %s", subs[0], tt.firstSub)
			}
		})
	}
}
