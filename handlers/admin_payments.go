package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/templates"
)

// Staff's side of payments: marking an unpaid online order paid when the
// money came another way, and the payments to refund.

// staffReason reads a form's reason (trimmed): "" and a flash key when it
// is not one order.MaxReason-bounded line of visible text; required says
// whether it may be empty.
func staffReason(c *gin.Context, field string, required bool) (string, string) {
	r := strings.TrimSpace(c.PostForm(field))
	switch {
	case r == "" && !required:
		return "", ""
	case r == "" || utf8.RuneCountInString(r) > order.MaxReason:
		return "", "admin.flash.bad_reason"
	case models.CheckText(r, false) != "":
		return "", "admin.flash.bad_reason_text"
	}
	return r, ""
}

// AdminMarkPaid records an unpaid online order as paid outside Alipay,
// with the form's required reason (order.MarkPaid): the order moves to
// awaiting shipment once, however many staff click. A cash order, an
// order in another status or a missing reason is refused with a message
// and changes nothing.
func (h *Handlers) AdminMarkPaid(c *gin.Context) {
	id := c.Param("order_id")
	to := "/admin/orders/" + url.PathEscape(id) + "/"
	reason, bad := staffReason(c, "reason", true)
	if bad != "" {
		h.back(c, to, bad, true)
		return
	}
	err := h.Orders.MarkPaid(c.Request.Context(), id, h.staffID(c), reason)
	switch {
	case errors.Is(err, order.ErrNotOnline):
		h.back(c, to, "admin.flash.not_online", true)
	case errors.Is(err, models.ErrWrongStatus):
		h.back(c, to, "admin.flash.not_unpaid", true)
	case err != nil:
		h.fail(c, err)
	default:
		h.back(c, to, "admin.flash.marked_paid", false)
	}
}

// AdminRefunds lists the payments to refund (paid for an order canceled
// first, or canceled after paying): those waiting, oldest first, and the
// latest refunded.
func (h *Handlers) AdminRefunds(c *gin.Context) {
	waiting, done, err := h.Orders.Refunds(c.Request.Context())
	if err != nil {
		h.fail(c, err)
		return
	}
	row := func(r order.Refund) templates.RefundRow {
		out := templates.RefundRow{OrderID: r.OrderID, TradeID: r.TradeID, Offline: r.Offline, Amount: r.Amount, PaidAt: r.PaidAt, RefundedBy: r.RefundedBy}
		if r.RefundedAt != nil {
			out.RefundedAt = *r.RefundedAt
		}
		return out
	}
	v := templates.AdminRefundsView{AdminPage: h.adminPage(c, "admin.nav.refunds", templates.SectionRefunds)}
	for _, r := range waiting {
		v.Waiting = append(v.Waiting, row(r))
	}
	for _, r := range done {
		v.Done = append(v.Done, row(r))
	}
	h.render(c, http.StatusOK, templates.AdminRefunds(v))
}

// AdminMarkRefunded records that the payment to refund of an order was
// refunded, by this staff member, with an optional note
// (order.MarkRefunded): once, however many click.
func (h *Handlers) AdminMarkRefunded(c *gin.Context) {
	const to = "/admin/refunds/"
	note, bad := staffReason(c, "note", false)
	if bad != "" {
		h.back(c, to, bad, true)
		return
	}
	err := h.Orders.MarkRefunded(c.Request.Context(), c.Param("order_id"), h.staffID(c), note)
	switch {
	case errors.Is(err, order.ErrRefunded):
		h.back(c, to, "admin.flash.refunded_before", true)
	case errors.Is(err, models.ErrNotFound):
		h.back(c, to, "admin.flash.no_refund", true)
	case err != nil:
		h.fail(c, err)
	default:
		h.back(c, to, "admin.flash.refunded", false)
	}
}
