package handlers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/templates"
)

// Order pages and the order commit. The commit itself is
// models.Orders.PlaceOrder; these handlers read the selected cart lines,
// hand them over and tidy the cart afterwards.

const (
	// commitTimeout bounds one commit, its retries included; past it the
	// buyer gets 503 and no order.
	commitTimeout = 5 * time.Second
	// cartCleanup bounds the removal of ordered lines from the cart, which
	// runs even if the buyer has gone.
	cartCleanup = 2 * time.Second
	// commitLock is how long a commit may hold its cart's checkout lock:
	// the commit, then the clean-up. A lock left by a crash expires then.
	commitLock = commitTimeout + cartCleanup + time.Second
	// ordersPerPage is the size of a page of "my orders".
	ordersPerPage = 5
)

// OrderSettlement shows the checkout page: the user's addresses, the
// selected cart lines at today's prices, freight, the total, pay methods
// and a fresh one-time commit token.
func (h *Handlers) OrderSettlement(c *gin.Context) {
	u := currentUser(c)
	ctx := c.Request.Context()
	v := templates.SettlementView{
		Page:  h.page(c, templates.T(lang(c), "order.settlement.title")),
		Token: newCommitToken(),
	}
	lines, err := h.Carts.Selected(ctx, u.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	if len(lines) > 0 {
		items := make([]order.Item, len(lines))
		for i, l := range lines {
			items[i] = order.Item{SKUID: l.SKUID, Count: l.Count}
		}
		bill, err := h.Orders.Bill(ctx, items)
		if err != nil {
			h.fail(c, err)
			return
		}
		priced := make(map[int64]models.BillLine, len(bill.Lines))
		for _, b := range bill.Lines {
			priced[b.SKU.ID] = b
		}
		v.Freight, v.Goods = bill.Freight, decimal.Zero
		for _, l := range lines {
			b, ok := priced[l.SKUID]
			lv := templates.OrderLineView{SKUID: l.SKUID, Count: l.Count, Image: "/static/img/logo.svg"}
			if ok {
				lv.Name, lv.Price, lv.Amount, lv.Detailed, lv.OnSale = b.SKU.Name, b.SKU.Price, b.Amount, true, b.SKU.IsLaunched
				if b.SKU.DefaultImage != "" {
					lv.Image = b.SKU.DefaultImage
				}
			}
			if lv.OnSale {
				v.TotalCount += lv.Count
				v.Goods = v.Goods.Add(lv.Amount)
			}
			v.Lines = append(v.Lines, lv)
		}
		v.Payable = v.Goods.Add(v.Freight)
		addrs, def, err := h.Store.Addresses.AddressBook(ctx, u.ID)
		if err != nil {
			h.fail(c, err)
			return
		}
		v.Addresses = addressChoices(addrs, def)
	}
	// The token is good for one order: a page from the cache would carry
	// a spent one.
	c.Header("Cache-Control", "no-store")
	h.render(c, http.StatusOK, templates.Settlement(v))
}

// addressChoices lists the addresses with the default one checked, or the
// first when there is no default.
func addressChoices(addrs []models.Address, defaultID *int64) []templates.AddressChoice {
	out := make([]templates.AddressChoice, len(addrs))
	checked := false
	for i, a := range addrs {
		out[i] = templates.AddressChoice{
			ID: a.ID, Receiver: a.Receiver, Mobile: a.Mobile,
			Region:  strings.Join([]string{a.Province, a.City, a.District, a.Place}, " "),
			Default: defaultID != nil && *defaultID == a.ID,
		}
		if out[i].Default {
			out[i].Checked, checked = true, true
		}
	}
	if !checked && len(out) > 0 {
		out[0].Checked = true
	}
	return out
}

// newCommitToken is 128 random bits in hex.
func newCommitToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// flexInt is an integer sent as a JSON number or as a string of digits:
// the Django shop's scripts send ids read from form inputs, as strings.
type flexInt int64

func (n *flexInt) UnmarshalJSON(b []byte) error {
	s := string(b)
	if unq, err := strconv.Unquote(s); err == nil && strings.HasPrefix(s, `"`) {
		s = unq
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return &json.UnmarshalTypeError{Value: "non-integer " + string(b), Type: reflect.TypeFor[int64]()}
	}
	*n = flexInt(v)
	return nil
}

// commitBody is the JSON of POST /orders/commit/.
type commitBody struct {
	AddressID *flexInt `json:"address_id"`
	PayMethod *flexInt `json:"pay_method"`
	Token     string   `json:"token"` // optional: the settlement page's one-time token
}

// addressIDOf checks a body's address_id: present and positive.
func addressIDOf(v *flexInt) (int64, error) {
	switch {
	case v == nil:
		return 0, badField("address_id", "err.field.missing")
	case *v < 1:
		return 0, badField("address_id", "err.field.type")
	}
	return int64(*v), nil
}

// OrderCommit turns the selected cart lines into an order: {address_id,
// pay_method, token?} -> {code:0, errmsg, order_id}. Short stock, an empty
// selection, a SKU not on sale and an address that is not the user's are
// business rejections (HTTP 200, code 400); malformed input is HTTP 400;
// running out of time under contention, or the database or Redis failing,
// is 503. A token already used answers with its order again; without a
// token, the cart's version is the token. A checkout of a cart that
// another one still holds after carts.LockWait is 429.
func (h *Handlers) OrderCommit(c *gin.Context) {
	u := currentUser(c)
	var body commitBody
	if err := bindJSON(c, &body); err != nil {
		h.fail(c, err)
		return
	}
	addressID, err := addressIDOf(body.AddressID)
	if err != nil {
		h.fail(c, err)
		return
	}
	switch {
	case body.PayMethod == nil:
		h.fail(c, badField("pay_method", "err.field.missing"))
		return
	case *body.PayMethod != models.PayCash && *body.PayMethod != models.PayOnline:
		h.fail(c, badField("pay_method", "order.pay_method_invalid"))
		return
	case len(body.Token) > 64:
		h.fail(c, badField("token", "order.token_invalid"))
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), commitTimeout)
	defer cancel()
	req := order.PlaceRequest{UserID: u.ID, AddressID: addressID, PayMethod: int(*body.PayMethod), Token: body.Token}
	o, err := h.orderCart(ctx, c, req)
	if errors.Is(err, carts.ErrLocked) {
		c.Header("Retry-After", "1")
		err = errors.Join(&statusError{Status: http.StatusTooManyRequests}, err)
	}
	if err != nil {
		h.fail(c, commitError(err))
		return
	}
	ok(c, gin.H{"errmsg": templates.T(lang(c), "order.placed"), "order_id": o.OrderID})
}

// orderCart places an order of the selected lines of the user's cart,
// and removes them from the cart. It holds the cart's checkout lock from
// before it reads the cart until the ordered lines have left it, so a
// second checkout of the cart waits for the first, then finds them gone
// (or, after carts.LockWait, gets carts.ErrLocked).
func (h *Handlers) orderCart(ctx context.Context, c *gin.Context, req order.PlaceRequest) (*models.Order, error) {
	unlock, err := h.Carts.Lock(ctx, req.UserID, commitLock)
	if err != nil {
		return nil, err
	}
	defer h.unlockCart(c, req.UserID, unlock)
	sel, err := h.Carts.Checkout(ctx, req.UserID)
	if err != nil {
		return nil, err
	}
	if req.Token == "" && len(sel.Lines) > 0 {
		// Without the client's token, the cart's version is the token: if
		// the lock expired mid-commit, a second commit of the same cart
		// gets the first one's order back instead of a second order.
		req.Token = cartToken(sel.Version)
	}
	for _, l := range sel.Lines {
		req.Items = append(req.Items, order.Item{SKUID: l.SKUID, Count: l.Count})
	}
	o, err := h.Orders.PlaceOrder(ctx, req)
	if err != nil {
		return nil, err
	}
	h.clearCart(c, req.UserID, o)
	return o, nil
}

// cartToken is the commit token of a version of a cart.
func cartToken(version string) string { return "cart:" + version }

// unlockCart releases the cart's checkout lock. If Redis fails here, the
// lock expires on its own (commitLock).
func (h *Handlers) unlockCart(c *gin.Context, uid int64, unlock func(context.Context) error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), cartCleanup)
	defer cancel()
	if err := unlock(ctx); err != nil {
		h.Log.Warn("cart checkout lock not released", "user", uid, "err", err)
	}
}

// commitError turns PlaceOrder's one ErrNotFound, the address's, into a
// refusal; fail (handlers.go) answers the rest.
func commitError(err error) error {
	if errors.Is(err, models.ErrNotFound) {
		return reject("order.address_invalid")
	}
	return err
}

// clearCart removes the ordered lines from the cart. The order stands
// whatever Redis says, so a failure is retried a little, then logged, and
// the buyer is still told the order is placed.
func (h *Handlers) clearCart(c *gin.Context, uid int64, o *models.Order) {
	ids := make([]int64, len(o.Lines))
	for i, l := range o.Lines {
		ids[i] = l.SKUID
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), cartCleanup)
	defer cancel()
	var err error
	for attempt := range 3 {
		if err = h.Carts.Remove(ctx, uid, ids...); err == nil {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(attempt+1) * 20 * time.Millisecond):
			continue
		}
		break
	}
	h.Log.Warn("order placed, but its lines are still in the cart", "user", uid, "order", o.OrderID, "skus", ids, "err", err)
}

// OrderSuccess confirms an order of the user's: ?order_id=...; someone
// else's or an unknown order is 404.
func (h *Handlers) OrderSuccess(c *gin.Context) {
	u := currentUser(c)
	id := c.Query("order_id")
	if id == "" || len(id) > 64 {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	o, err := h.Orders.OrderOf(c.Request.Context(), u.ID, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, templates.OrderSuccess(templates.OrderSuccessView{
		Page:    h.page(c, templates.T(lang(c), "order.success.title")),
		OrderID: o.OrderID, Amount: o.TotalAmount, PayMethod: o.PayMethod, Status: o.Status,
	}))
}

// orderTabs are the status tabs of "my orders": the ?status= value, its
// label and the statuses it shows.
var orderTabs = []struct {
	key, label string
	statuses   []int
}{
	{"", "order.tab.all", nil},
	{"1", "order.tab.unpaid", []int{models.StatusUnpaid}},
	{"2", "order.tab.unsend", []int{models.StatusUnsend}},
	{"3", "order.tab.unreceived", []int{models.StatusUnreceived}},
	{"4", "order.tab.uncomment", []int{models.StatusUncomment}},
	{"done", "order.tab.done", []int{models.StatusFinished, models.StatusCanceled}},
}

// orderTab reads ?status=: a tab's key, "all", or 5 or 6 alone (shown
// under the "done" tab). It returns the tab's key, for links, and the
// statuses to show; anything else is a fieldError.
func orderTab(raw string) (key string, statuses []int, err error) {
	switch raw {
	case "all":
		return "", nil, nil
	case "5", "6":
		return raw, []int{int(raw[0] - '0')}, nil
	}
	for _, t := range orderTabs {
		if t.key == raw {
			return t.key, t.statuses, nil
		}
	}
	return "", nil, badField("status", "order.tab_invalid")
}

// OrderList shows a page of the user's orders, newest first, of one
// status tab (?status=, all by default), with the tabs above. Page 1 of
// no orders is an empty list; a page past the last is 404; an unknown
// status is 400, saying which values there are.
func (h *Handlers) OrderList(c *gin.Context) {
	u := currentUser(c)
	number, err := strconv.Atoi(c.Param("page"))
	if err != nil || number < 1 {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	key, statuses, err := orderTab(c.Query("status"))
	if err != nil {
		h.fail(c, err)
		return
	}
	pg, err := h.Orders.UserOrdersIn(c.Request.Context(), u.ID, statuses, number, ordersPerPage)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := templates.OrdersView{
		Page:  h.page(c, templates.T(lang(c), "order.list.title")),
		Pager: templates.NewPager(pg.Page, pg.Pages, func(n int) string { return templates.OrdersURL(key, n) }),
	}
	for _, t := range orderTabs {
		current := t.key == key || (t.key == "done" && (key == "5" || key == "6"))
		v.Tabs = append(v.Tabs, templates.OrderTab{Key: t.key, Label: t.label, Current: current})
	}
	for _, o := range pg.Orders {
		ov := templates.OrderView{
			OrderID: o.OrderID, Created: o.CreateTime, Status: o.Status, PayMethod: o.PayMethod,
			Count: o.TotalCount, Freight: o.Freight, Total: o.TotalAmount,
		}
		ov.Lines = orderLineViews(o.Lines, pg.SKUs)
		v.Orders = append(v.Orders, ov)
	}
	h.render(c, http.StatusOK, templates.Orders(v))
}

// orderLineViews are an order's lines at the prices paid, with the names
// and images of the SKUs that still exist.
func orderLineViews(lines []models.OrderLine, skus map[int64]models.SKU) []templates.OrderLineView {
	out := make([]templates.OrderLineView, 0, len(lines))
	for _, l := range lines {
		lv := templates.OrderLineView{SKUID: l.SKUID, Count: l.Count, Price: l.Price,
			Amount: l.Price.Mul(decimal.NewFromInt(int64(l.Count))), Image: "/static/img/logo.svg"}
		if k, ok := skus[l.SKUID]; ok {
			lv.Name, lv.Detailed = k.Name, true
			if k.DefaultImage != "" {
				lv.Image = k.DefaultImage
			}
		}
		out = append(out, lv)
	}
	return out
}
