package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// dataAttrs returns the value of attr on every element with data-testid=id.
func dataAttrs(page, id, attr string) []string {
	var out []string
	for _, tag := range strings.Split(page, "<") {
		if !strings.Contains(tag, `data-testid="`+id+`"`) {
			continue
		}
		_, rest, ok := strings.Cut(tag, attr+`="`)
		if !ok {
			continue
		}
		v, _, _ := strings.Cut(rest, `"`)
		out = append(out, v)
	}
	return out
}

func TestOrderDetail(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			e := newOrderEnv(t, db, nil, nil)
			alice, bob := e.buyer(), e.buyer()
			phone, case_ := e.sku("华为 Mate 手机", "3999.00", 10), e.sku("手机壳", "29.50", 10)
			e.put(alice, phone, 1, true)
			e.put(alice, case_, 2, true)
			_, body := commit(t, alice, map[string]any{"address_id": alice.address, "pay_method": models.PayOnline})
			id := body["order_id"].(string)
			orders := e.shop.Handlers.Orders

			page := alice.Get("/orders/detail/" + id + "/")
			if page.Status != http.StatusOK {
				t.Fatalf("detail: %d\n%.2000s", page.Status, page.Body)
			}
			for _, tt := range []struct{ id, want string }{
				{"order-status", "待支付"},
				{"order-goods", "¥4058.00"},
				{"order-freight", "¥10.00"},
				{"order-total", "¥4068.00"},
				{"order-pay-method", "支付宝"},
				{"receiver", "张三"},
				{"receiver-mobile", "13800138000"},
				{"receiver-address", "北京市 北京市 海淀区 中关村大街 1 号"},
			} {
				if got := oneTestid(t, page.Body, tt.id); got != tt.want {
					t.Errorf("%s: %q, want %q", tt.id, got, tt.want)
				}
			}
			if got, want := testids(page.Body, "line-name"), []string{"华为 Mate 手机", "手机壳"}; !cmp.Equal(got, want) {
				t.Errorf("lines %q, want %q", got, want)
			}
			if got, want := testids(page.Body, "line-amount"), []string{"¥3999.00", "¥59.00"}; !cmp.Equal(got, want) {
				t.Errorf("line amounts %q, want %q", got, want)
			}
			if n := strings.Count(page.Body, `<img src="/static/img/logo.svg"`); n < 2 {
				t.Errorf("%d line images, want 2", n)
			}
			if got := dataAttrs(page.Body, "timeline-entry", "data-what"); !cmp.Equal(got, []string{"placed"}) {
				t.Errorf("timeline of a new order %q, want [placed]", got)
			}
			for _, action := range []string{"pay", "cancel"} {
				if len(dataAttrs(page.Body, action, "data-order-id")) != 1 {
					t.Errorf("an unpaid online order does not offer %s", action)
				}
			}
			if strings.Contains(page.Body, `data-testid="payment-trade"`) {
				t.Error("an unpaid order shows a payment")
			}

			// Paid, shipped by staff, received by the buyer.
			if _, err := orders.RecordPayment(ctx, order.Payment{OrderID: id, TradeID: "2026113022001400000000000001", Amount: decimal.RequireFromString("4068.00")}); err != nil {
				t.Fatal(err)
			}
			staff := testenv.CreateUser(t, db.Store, "staffer01")
			if err := orders.ShipOrder(ctx, id, &staff.ID); err != nil {
				t.Fatal(err)
			}
			page = alice.Get("/orders/detail/" + id + "/")
			if got := oneTestid(t, page.Body, "payment-trade"); got != "2026113022001400000000000001" {
				t.Errorf("trade %q", got)
			}
			oneTestid(t, page.Body, "payment-time")
			if got := dataAttrs(page.Body, "timeline-entry", "data-what"); !cmp.Equal(got, []string{"placed", "paid", "shipped"}) {
				t.Errorf("timeline %q, want placed, paid, shipped", got)
			}
			if strings.Contains(page.Body, "staffer01") {
				t.Error("the buyer's page names the staff member")
			}
			if len(dataAttrs(page.Body, "receive", "data-order-id")) != 1 || len(dataAttrs(page.Body, "pay", "data-order-id")) != 0 {
				t.Error("a shipped order must offer receipt and not payment")
			}
			if res := alice.Do(http.MethodPost, "/orders/"+id+"/receive/", map[string]any{}); res.Code(t) != 0 {
				t.Fatalf("receive: %s", res.Body)
			}
			page = alice.Get("/orders/detail/" + id + "/")
			if got := oneTestid(t, page.Body, "review"); got != "去评价" {
				t.Errorf("review link %q", got)
			}
			if got := dataAttrs(page.Body, "review", "href"); len(got) != 1 || got[0] != "/orders/comment/?order_id="+id {
				t.Errorf("review link to %q", got)
			}

			// Only the owner, and only order ids.
			for _, tt := range []struct {
				name   string
				client orderBuyer
				path   string
			}{
				{"someone else's order", bob, "/orders/detail/" + id + "/"},
				{"unknown order", alice, "/orders/detail/20990101000000000000001000001/"},
				{"too long an id", alice, "/orders/detail/" + strings.Repeat("1", 65) + "/"},
			} {
				if res := tt.client.Get(tt.path); res.Status != http.StatusNotFound {
					t.Errorf("%s: %d, want 404", tt.name, res.Status)
				}
			}
			anon := e.shop.NewClient(t)
			if res := anon.Get("/orders/detail/" + id + "/"); res.Status != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), "/login/?next=") {
				t.Errorf("anonymous: %d to %q, want a redirect to the login page", res.Status, res.Header.Get("Location"))
			}

			// Linked from my orders and from the success page.
			if got := dataAttrs(alice.Get("/orders/info/1/").Body, "order-detail-link", "href"); !cmp.Equal(got, []string{"/orders/detail/" + id + "/"}) {
				t.Errorf("my orders link to %q", got)
			}
			if got := dataAttrs(alice.Get("/orders/success/?order_id="+id).Body, "order-detail-link", "href"); !cmp.Equal(got, []string{"/orders/detail/" + id + "/"}) {
				t.Errorf("the success page links to %q", got)
			}
		})
	}
}

// A cancel by the buyer and an expiry show as such in the timeline.
func TestOrderDetailTimelineCancel(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	e := newOrderEnv(t, db, nil, nil)
	b := e.buyer()
	id := e.placeCash(t, b, e.sku("a", "1.00", 10))
	if res := b.Do(http.MethodPost, "/orders/"+id+"/cancel/", map[string]any{}); res.Code(t) != 0 {
		t.Fatal(res.Body)
	}
	page := b.Get("/orders/detail/" + id + "/")
	if got := dataAttrs(page.Body, "timeline-entry", "data-what"); !cmp.Equal(got, []string{"placed", "canceled"}) {
		t.Errorf("timeline %q", got)
	}
	if !strings.Contains(page.Body, "订单已取消") || !strings.Contains(page.Body, "· 您") {
		t.Errorf("the cancel is not shown as the buyer's:\n%.3000s", page.Body)
	}
	if got := oneTestid(t, page.Body, "order-status"); got != "已取消" {
		t.Errorf("status %q", got)
	}
	if strings.Contains(page.Body, `data-order-action="`) {
		t.Error("a canceled order offers actions")
	}
}

func TestOrderListTabs(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			e := newOrderEnv(t, db, nil, nil)
			b, other := e.buyer(), e.buyer()
			sku := e.sku("a", "1.00", 1000)
			var unpaid []string
			for range 6 {
				e.put(b, sku, 1, true)
				_, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": models.PayOnline})
				unpaid = append(unpaid, body["order_id"].(string))
			}
			unsend := e.placeCash(t, b, sku)
			review := e.received(t, b, sku)
			canceled := e.placeCash(t, b, sku)
			if err := e.shop.Handlers.Orders.CancelOrder(ctx, canceled, nil, ""); err != nil {
				t.Fatal(err)
			}
			e.placeCash(t, other, sku)

			ids := func(path string) []string {
				t.Helper()
				res := b.Get(path)
				if res.Status != http.StatusOK {
					t.Fatalf("%s: %d", path, res.Status)
				}
				return testids(res.Body, "order-id")
			}
			rev := func(s []string) []string {
				out := make([]string, len(s))
				for i, v := range s {
					out[len(s)-1-i] = v
				}
				return out
			}
			for _, tt := range []struct {
				path string
				want []string
			}{
				{"/orders/info/1/?status=1", rev(unpaid)[:5]},
				{"/orders/info/2/?status=1", rev(unpaid)[5:]},
				{"/orders/info/1/?status=2", []string{unsend}},
				{"/orders/info/1/?status=3", nil},
				{"/orders/info/1/?status=4", []string{review}},
				{"/orders/info/1/?status=done", []string{canceled}},
				{"/orders/info/1/?status=6", []string{canceled}},
				{"/orders/info/1/?status=5", nil},
				{"/orders/info/1/", []string{canceled, review, unsend, unpaid[5], unpaid[4]}},
				{"/orders/info/1/?status=all", []string{canceled, review, unsend, unpaid[5], unpaid[4]}},
				{"/orders/info/2/", rev(unpaid)[2:]},
			} {
				if got := ids(tt.path); !cmp.Equal(got, tt.want) {
					t.Errorf("%s: orders %q, want %q", tt.path, got, tt.want)
				}
			}
			page := b.Get("/orders/info/1/?status=1")
			if got := dataAttrs(page.Body, "page-next", "href"); !cmp.Equal(got, []string{"/orders/info/2/?status=1"}) {
				t.Errorf("the next page of a tab is %q, want it to keep the tab", got)
			}
			if got := dataAttrs(page.Body, "order-tab", "data-tab"); !cmp.Equal(got, []string{"", "1", "2", "3", "4", "done"}) {
				t.Errorf("tabs %q", got)
			}
			if !strings.Contains(page.Body, `aria-current="page" data-testid="order-tab" data-tab="1"`) {
				t.Error("the unpaid tab is not marked current")
			}
			if got := testids(b.Get("/orders/info/1/?status=3").Body, "orders-empty"); len(got) != 1 {
				t.Errorf("an empty tab shows %q", got)
			}
			for _, tt := range []struct {
				path string
				want int
			}{
				{"/orders/info/2/?status=2", http.StatusNotFound},
				{"/orders/info/3/?status=1", http.StatusNotFound},
				{"/orders/info/2/?status=3", http.StatusNotFound},
				{"/orders/info/1/?status=7", http.StatusBadRequest},
				{"/orders/info/1/?status=paid", http.StatusBadRequest},
				{"/orders/info/1/?status=1%27%20OR%201=1", http.StatusBadRequest},
			} {
				res := b.Get(tt.path)
				if res.Status != tt.want {
					t.Errorf("%s: %d, want %d", tt.path, res.Status, tt.want)
				}
				if tt.want == http.StatusBadRequest && !strings.Contains(res.Body, "status") {
					t.Errorf("%s: the error does not name the parameter:\n%.2000s", tt.path, res.Body)
				}
			}
		})
	}
}
