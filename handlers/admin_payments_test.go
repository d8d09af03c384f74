package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// placeOnline commits an online order (status 1) of one unit of sku.
func (e *adminEnv) placeOnline(t *testing.T, b orderBuyer, sku int64, pay int) string {
	t.Helper()
	e.put(b, sku, 1, true)
	_, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": pay})
	id, _ := body["order_id"].(string)
	if id == "" {
		t.Fatalf("commit: %v", body)
	}
	return id
}

// payState is everything marking paid or refunding may change.
func (e *adminEnv) payState(id string) string {
	e.t.Helper()
	return strings.Join([]string{
		"status " + strconv.Itoa(e.int("SELECT COALESCE(MAX(status), 0) FROM tb_order_info WHERE order_id = ?", id)),
		"payments " + strconv.Itoa(e.int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ?", id)),
		"refunded " + strconv.Itoa(e.int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ? AND refund_time IS NOT NULL", id)),
		"events " + strconv.Itoa(e.int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ?", id)),
		"stock " + strconv.Itoa(e.int("SELECT stock FROM tb_sku WHERE id = 1")),
	}, ", ")
}

// Staff mark an unpaid online order paid offline, with a reason: once,
// shown on the staff's and the buyer's pages; every refusal says why and
// changes nothing.
func TestAdminMarkPaid(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAdminEnv(t, db)
			b := e.buyer()
			online, cash := e.placeOnline(t, b, 1, models.PayOnline), e.placeOnline(t, b, 1, models.PayCash)
			mark := func(id, reason string) (testenv.Response, string) {
				t.Helper()
				res := e.staff.Do(http.MethodPost, "/admin/orders/"+id+"/paid/", url.Values{"reason": {reason}})
				if res.Status != http.StatusSeeOther {
					return res, ""
				}
				return res, oneTestid(t, e.staff.Get("/admin/orders/"+id+"/").Body, "flash")
			}
			for _, tt := range []struct {
				name, id, reason, flash string
			}{
				{"no reason", online, "   ", "请填写说明（不超过 200 字）"},
				{"a reason too long", online, strings.Repeat("款", order.MaxReason+1), "请填写说明（不超过 200 字）"},
				{"a reason with a control character", online, "cash \x1b[31m", "说明不能包含控制字符或文字方向控制符，也不能只有不可见字符"},
				{"a cash order", cash, "paid at the counter", "货到付款的订单无需标记支付"},
			} {
				before := e.payState(tt.id)
				if _, flash := mark(tt.id, tt.reason); flash != tt.flash {
					t.Errorf("%s: flash %q, want %q", tt.name, flash, tt.flash)
				}
				if after := e.payState(tt.id); after != before {
					t.Errorf("%s: %s, was %s", tt.name, after, before)
				}
			}
			if res, _ := mark("20240101000000000000001123456", "paid at the counter"); res.Status != http.StatusNotFound {
				t.Errorf("an unknown order: %d, want 404", res.Status)
			}
			before := e.payState(online)
			if res := e.shopper.Do(http.MethodPost, "/admin/orders/"+online+"/paid/", url.Values{"reason": {"me"}}); res.Status != http.StatusForbidden {
				t.Errorf("a shopper: %d, want 403", res.Status)
			}
			token := e.staff.CSRF
			e.staff.CSRF = ""
			if res := e.staff.Do(http.MethodPost, "/admin/orders/"+online+"/paid/", url.Values{"reason": {"cash"}}); res.Status != http.StatusForbidden {
				t.Errorf("without the CSRF token: %d, want 403", res.Status)
			}
			e.staff.CSRF = token
			if after := e.payState(online); after != before {
				t.Errorf("after refused posts: %s, was %s", after, before)
			}
			if !strings.Contains(e.staff.Get("/admin/orders/"+online+"/").Body, `data-testid="mark-paid-form"`) {
				t.Errorf("the unpaid online order's page has no mark-paid form")
			}
			if strings.Contains(e.staff.Get("/admin/orders/"+cash+"/").Body, `data-testid="mark-paid-form"`) {
				t.Errorf("the cash order's page offers to mark it paid")
			}

			if _, flash := mark(online, "银行转账，流水 889"); flash != "已标记为已支付，订单待发货" {
				t.Errorf("mark paid: flash %q", flash)
			}
			if _, flash := mark(online, "again"); flash != "只有待支付的订单可以标记为已支付" {
				t.Errorf("mark paid again: flash %q", flash)
			}
			page := e.staff.Get("/admin/orders/" + online + "/").Body
			if got := oneTestid(t, page, "order-status"); got != "待发货" {
				t.Errorf("status %q, want 待发货", got)
			}
			if got := oneTestid(t, page, "payment-offline"); got != "线下收款" {
				t.Errorf("payment %q, want 线下收款", got)
			}
			if got := oneTestid(t, page, "event-note"); got != "银行转账，流水 889" {
				t.Errorf("event note %q", got)
			}
			if !strings.Contains(page, `data-why="paid_offline"`) || !strings.Contains(page, "boss01") || strings.Contains(page, `data-testid="mark-paid-form"`) {
				t.Errorf("the order page does not show the offline payment by boss01, or still offers it")
			}
			if got := e.int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND why = ? AND user_id = ? AND note = ?",
				online, order.WhyPaidOffline, e.staffID, "银行转账，流水 889"); got != 1 {
				t.Errorf("%d paid_offline events by staff with the reason, want 1", got)
			}
			detail := b.Get("/orders/detail/" + online + "/").Body
			if !strings.Contains(detail, `data-what="paid"`) || oneTestid(t, detail, "payment-offline") != "线下收款" {
				t.Errorf("the buyer's page does not show the offline payment")
			}
		})
	}
}

// Staff see the payments to refund (paid for an order canceled), and mark
// one refunded once, with who and when; refusals change nothing.
func TestAdminRefunds(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAdminEnv(t, db)
			b := e.buyer()
			ctx := context.Background()
			id := e.placeOnline(t, b, 1, models.PayOnline)
			var total string
			if err := e.sql.QueryRow(e.query("SELECT total_amount FROM tb_order_info WHERE order_id = ?"), id).Scan(&total); err != nil {
				t.Fatal(err)
			}
			amount := decimal.RequireFromString(total)
			if res := b.Do(http.MethodPost, "/orders/"+id+"/cancel/", map[string]any{}); res.Code(t) != 0 {
				t.Fatalf("cancel: %s", res.Body)
			}
			out, err := e.shop.Handlers.Orders.RecordPayment(ctx, order.Payment{OrderID: id, TradeID: "2026113022001", Amount: amount})
			if err != nil || out != order.ToRefund {
				t.Fatalf("late payment: %v, %v", out, err)
			}
			if !strings.Contains(e.staff.Get("/admin/").Body, `href="/admin/refunds/"`) {
				t.Errorf("the admin sidebar has no link to the refunds")
			}
			page := e.staff.Get("/admin/refunds/")
			if page.Status != http.StatusOK {
				t.Fatalf("GET /admin/refunds/: %d", page.Status)
			}
			if got := oneTestid(t, page.Body, "refund-trade"); got != "2026113022001" {
				t.Errorf("refund trade %q", got)
			}
			if got := oneTestid(t, page.Body, "refund-amount"); !strings.Contains(got, amount.StringFixed(2)) {
				t.Errorf("refund amount %q, want %s", got, amount.StringFixed(2))
			}
			if !strings.Contains(page.Body, `data-order-id="`+id+`"`) {
				t.Errorf("the refunds page does not list order %s", id)
			}
			refund := func(order, note string) string {
				t.Helper()
				res := e.staff.Do(http.MethodPost, "/admin/refunds/"+order+"/refunded/", url.Values{"note": {note}})
				if res.Status != http.StatusSeeOther {
					t.Fatalf("refund %s: %d", order, res.Status)
				}
				return oneTestid(t, e.staff.Get("/admin/refunds/").Body, "flash")
			}
			before := e.payState(id)
			if got := refund(id, strings.Repeat("退", order.MaxReason+1)); got != "请填写说明（不超过 200 字）" {
				t.Errorf("a note too long: flash %q", got)
			}
			if got := refund("20240101000000000000001123456", ""); got != "该订单没有待退款的支付" {
				t.Errorf("an unknown order: flash %q", got)
			}
			if res := e.shopper.Do(http.MethodPost, "/admin/refunds/"+id+"/refunded/", url.Values{}); res.Status != http.StatusForbidden {
				t.Errorf("a shopper: %d, want 403", res.Status)
			}
			if after := e.payState(id); after != before {
				t.Errorf("after refusals: %s, was %s", after, before)
			}
			if got := refund(id, "原路退回支付宝"); got != "已记录退款" {
				t.Errorf("refund: flash %q", got)
			}
			if got := refund(id, ""); got != "该支付已退款过" {
				t.Errorf("refund again: flash %q", got)
			}
			if got := e.int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND why = ? AND user_id = ?", id, order.WhyRefunded, e.staffID); got != 1 {
				t.Errorf("%d refunded events, want 1", got)
			}
			page = e.staff.Get("/admin/refunds/")
			if strings.Contains(page.Body, `data-testid="mark-refunded"`) || !strings.Contains(page.Body, `data-testid="refunded-by"`) {
				t.Errorf("the refunded payment is still waiting")
			}
			if !strings.Contains(page.Body, "boss01") || !strings.Contains(page.Body, `data-testid="no-refunds"`) {
				t.Errorf("the refunds page does not show the refund by boss01 and nothing waiting")
			}
			orderPage := e.staff.Get("/admin/orders/" + id + "/").Body
			if oneTestid(t, orderPage, "payment-refunded") != "已退款" || oneTestid(t, orderPage, "event-note") != "原路退回支付宝" {
				t.Errorf("the order page does not show the refund")
			}
		})
	}
}
