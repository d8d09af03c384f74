package handlers

import (
	"github.com/gin-gonic/gin"
)

// cartCount is the mini cart badge: the total quantity in the cart.
func (h *Handlers) cartCount(c *gin.Context) int {
	u := currentUser(c)
	if u == nil {
		return 0
	}
	n, err := h.Carts.Count(c.Request.Context(), u.ID)
	if err != nil {
		h.Log.Warn("mini cart count", "user", u.ID, "err", err)
		return 0
	}
	return n
}

// mergeCookieCart moves the anonymous cookie cart into the user's Redis
// cart at login. TEMPORARY: the carts work replaces this.
func (h *Handlers) mergeCookieCart(c *gin.Context, uid int64) {}
