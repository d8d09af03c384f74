package handlers

import (
	"context"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/meiduo/shop/models"
)

// OrderCancel is the buyer canceling their order while it is unpaid or
// awaiting shipment: {code:0}. The stock comes back exactly once, through
// the path staff and the expiry use; a payment already made is flagged to
// refund. Someone else's or an unknown order is 404; another status is a
// refusal (code 400).
func (h *Handlers) OrderCancel(c *gin.Context) {
	h.moveOwnOrder(c, h.Orders.CancelOwnOrder)
}

// OrderReceive is the buyer saying a shipped order arrived: it awaits
// their review. {code:0}; 404 and refusals as OrderCancel.
func (h *Handlers) OrderReceive(c *gin.Context) {
	h.moveOwnOrder(c, h.Orders.ReceiveOrder)
}

// moveOwnOrder applies one of the buyer's own transitions to the order
// in the path: {code:0}, 404 for an id that cannot be the buyer's.
func (h *Handlers) moveOwnOrder(c *gin.Context, move func(ctx context.Context, uid int64, orderID string) error) {
	asJSON(c)
	id := c.Param("order_id")
	if id == "" || len(id) > models.MaxOrderIDLen {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	if err := move(c.Request.Context(), currentUser(c).ID, id); err != nil {
		h.fail(c, err)
		return
	}
	ok(c, nil)
}
