package handlers

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/templates"
)

// OrderDetail shows one of the buyer's orders: /orders/detail/<order_id>/.
// Its lines, delivery address, pay method and amounts, the payment, a
// timeline from its placing through every status change
// (tb_order_event), and the buttons that apply in its status. Someone
// else's or an unknown order is 404.
func (h *Handlers) OrderDetail(c *gin.Context) {
	u := currentUser(c)
	id := c.Param("order_id")
	if id == "" || len(id) > models.MaxOrderIDLen {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	d, err := h.Orders.DetailOf(c.Request.Context(), u.ID, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	o := d.Order
	l := lang(c)
	v := templates.OrderDetailView{
		Page: h.page(c, templates.Tf(l, "order.label", o.OrderID)),
		Order: templates.OrderView{
			OrderID: o.OrderID, Created: o.CreateTime, Status: o.Status, PayMethod: o.PayMethod,
			Count: o.TotalCount, Freight: o.Freight, Total: o.TotalAmount,
			Lines: orderLineViews(o.Lines, d.SKUs),
		},
		Goods:     decimal.Zero,
		Receiver:  d.Address.Receiver,
		Mobile:    d.Address.Mobile,
		Address:   strings.Join([]string{d.Address.Province, d.Address.City, d.Address.District, d.Address.Place}, " "),
		CanReview: o.Status == models.StatusUncomment,
	}
	for _, line := range v.Order.Lines {
		v.Goods = v.Goods.Add(line.Amount)
	}
	for _, p := range d.Payments {
		v.Payment = &templates.PaymentFact{TradeID: p.TradeID, Time: p.CreateTime, Amount: p.Amount, ToRefund: p.ToRefund,
			Refunded: p.RefundTime != nil, Offline: p.Offline}
	}
	v.Timeline = timeline(o, d.Events)
	h.render(c, http.StatusOK, templates.OrderDetail(v))
}

// timeline is an order's life as its buyer reads it: placed at its
// create_time, then each status change, by the buyer ("you"), by staff,
// or by the shop itself (a payment, an expiry). Staff are not named.
func timeline(o models.Order, events []models.OrderEvent) []templates.TimelineEntry {
	out := []templates.TimelineEntry{{Time: o.CreateTime, What: "placed", To: initialStatus(o, events), By: "you"}}
	for _, e := range events {
		entry := templates.TimelineEntry{Time: e.CreateTime, What: e.Why, To: e.ToStatus, By: "shop"}
		if e.FromStatus == nil {
			continue // a placing, shown above from create_time
		}
		switch e.Why {
		case order.WhyPaid, order.WhyCanceled, order.WhyExpired, order.WhyShipped,
			order.WhyReceived, order.WhyCompleted, order.WhyReviewed, order.WhyRefunded:
		case order.WhyPaidOffline:
			entry.What = "paid" // staff took the payment; the buyer reads "paid, by shop staff"
		default:
			entry.What = "changed"
		}
		switch {
		case e.UserID == nil:
		case *e.UserID == o.UserID:
			entry.By = "you"
		default:
			entry.By = "staff"
		}
		out = append(out, entry)
	}
	return out
}

// initialStatus is the status an order was placed in: the first change's
// from, or its status now when it never changed.
func initialStatus(o models.Order, events []models.OrderEvent) int {
	for _, e := range events {
		if e.FromStatus != nil {
			return *e.FromStatus
		}
	}
	return o.Status
}
