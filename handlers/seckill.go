package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// The flash sale (秒杀): the shopper's page, the buy and result endpoints,
// and the staff page. The sale itself is internal/seckill's Engine.

// SeckillLimits caps how often one client may try to buy in a flash sale,
// counted in this process before the buy reaches Redis (admission). A
// zero field takes its default.
type SeckillLimits struct {
	PerUser int // buy attempts per user per second; default 5
	PerIP   int // buy attempts per client IP per second; default 1,000
}

func (l SeckillLimits) withDefaults() SeckillLimits {
	if l.PerUser <= 0 {
		l.PerUser = 5
	}
	if l.PerIP <= 0 {
		l.PerIP = 1000
	}
	return l
}

// seckillTimeout bounds one buy.
const seckillTimeout = 3 * time.Second

// seckillBody is the JSON of POST /seckill/<sku_id>/.
type seckillBody struct {
	AddressID *flexInt `json:"address_id"`
}

// SeckillBuy tries to buy one unit of the SKU's flash sale: {address_id}
// -> {code:0, order_id, status:"queued"}. Sold out, not started, ended,
// already bought, no sale and someone else's address are business
// rejections (HTTP 200, code 400); too many tries is 429. Late buyers get
// "sold out" from this process's memory, then the per-user and per-IP
// limits run, also in memory, and only then does the buy reach Redis.
func (h *Handlers) SeckillBuy(c *gin.Context) {
	u := currentUser(c)
	sku, err := pathID(c, "sku_id")
	if err != nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	var body seckillBody
	if err := bindJSON(c, &body); err != nil {
		h.fail(c, err)
		return
	}
	addressID, err := addressIDOf(body.AddressID)
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.Seckill.Refuse(sku); err != nil {
		h.fail(c, err)
		return
	}
	now := h.Now()
	for _, l := range []struct {
		limit *admission
		key   string
	}{
		{h.buyersLimit, strconv.FormatInt(u.ID, 10)},
		{h.ipsLimit, c.ClientIP()},
	} {
		if ok, retry := l.limit.allow(l.key, now); !ok {
			setRetryAfter(c, retry)
			h.fail(c, &statusError{Status: http.StatusTooManyRequests})
			return
		}
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), seckillTimeout)
	defer cancel()
	owned, err := h.addresses.get(ctx, addressKey{u.ID, addressID}, h.addressOwned)
	if err != nil {
		h.fail(c, err)
		return
	}
	if !owned {
		h.fail(c, reject("order.address_invalid"))
		return
	}
	oid, err := h.Seckill.Buy(ctx, sku, u.ID, addressID)
	if err != nil {
		h.fail(c, err)
		return
	}
	ok(c, gin.H{"errmsg": templates.T(lang(c), "seckill.queued"), "order_id": oid, "status": string(seckill.Queued)})
}

// SeckillKnown answers a buy that this process can refuse from memory
// (the sale is sold out, or has not started: seckill.Engine.Known) before
// the session is read or the database touched, so that the crowd that
// clicks after the last unit is gone, or a moment too early, costs almost
// nothing. It runs before Authenticate: any visitor gets the refusal,
// which changes nothing and says only what the sale's page shows. The
// CSRF check has already run (web.withCSRF); every other buy goes on to
// SeckillBuy.
func (h *Handlers) SeckillKnown(c *gin.Context) {
	if sku, err := pathID(c, "sku_id"); err == nil {
		if err := h.Seckill.Refuse(sku); err != nil {
			h.fail(c, err)
			return
		}
	}
	c.Next()
}

// SeckillResult says what became of one of the user's flash-sale orders:
// {code:0, order_id, status: queued|created|failed}, and for a failed one
// its reason (sold out, over the per-user limit, lost when Redis
// restarted, ...); an order that is not the user's is 404.
func (h *Handlers) SeckillResult(c *gin.Context) {
	u := currentUser(c)
	oid := c.Param("order_id")
	if oid == "" || len(oid) > 64 {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	o, err := h.Seckill.Outcome(c.Request.Context(), u.ID, oid)
	if err != nil {
		h.fail(c, err)
		return
	}
	res := gin.H{"order_id": oid, "status": string(o.Status), "errmsg": templates.T(lang(c), "seckill.status."+string(o.Status))}
	if o.Status == seckill.Failed {
		res["reason"] = o.Reason
	}
	ok(c, res)
}

// SeckillPage shows the SKU's flash sale: price, countdown, units left and
// the buy button, live only during the sale (static/js/seckill.js). A SKU
// that never had a sale is 404.
func (h *Handlers) SeckillPage(c *gin.Context) {
	sku, err := pathID(c, "sku_id")
	if err != nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	ctx := c.Request.Context()
	sale, err := h.Store.Sales.LiveSale(ctx, sku)
	if err != nil {
		h.fail(c, err)
		return
	}
	k, err := h.Store.Catalog.SKUByID(ctx, sku)
	if err != nil {
		h.fail(c, err)
		return
	}
	now := h.Now()
	v := templates.SeckillView{
		Page: h.page(c, templates.Tf(lang(c), "seckill.title", k.Name)),
		SKU:  card(*k), SalePrice: sale.Price, Total: sale.Stock, PerUser: sale.PerUser,
		Start: sale.StartTime, End: sale.EndTime, Now: now, Freight: models.Freight,
	}
	if v.SKU.Image == "" {
		v.SKU.Image = "/static/img/logo.svg"
	}
	switch {
	case sale.Status == models.SaleClosed:
		v.Left, v.Phase = sale.Stock-sale.Sold, templates.SalePhaseEnded
	default:
		v.Left = sale.Stock
		if st, err := h.Seckill.State(ctx, sku); err == nil && st.SaleID == sale.ID {
			v.Left = st.Stock
		} else if err != nil && !errors.Is(err, seckill.ErrNoSale) {
			h.fail(c, err)
			return
		}
		v.Phase = templates.SalePhaseLive
		switch {
		case now.Before(sale.StartTime):
			v.Phase = templates.SalePhaseUpcoming
		case !now.Before(sale.EndTime):
			v.Phase = templates.SalePhaseEnded
		case v.Left <= 0:
			v.Phase = templates.SalePhaseSoldOut
		}
	}
	if u := currentUser(c); u != nil {
		addrs, err := h.Store.Addresses.Addresses(ctx, u.ID)
		if err != nil {
			h.fail(c, err)
			return
		}
		v.Addresses = addressChoices(addrs, u.DefaultAddressID)
		if err := h.seckillMine(ctx, &v, sale, u.ID); err != nil {
			h.fail(c, err)
			return
		}
	}
	c.Header("Cache-Control", "no-store")
	h.render(c, http.StatusOK, templates.Seckill(v))
}

// adminSalesShown is how many sales the staff page lists.
const adminSalesShown = 50

// AdminSeckill is the staff page of flash sales: the latest sales with
// their live state and persistence backlog, a form to open one and a
// button to close each open one.
func (h *Handlers) AdminSeckill(c *gin.Context) {
	h.renderAdminSeckill(c, http.StatusOK, templates.SaleForm{PerUser: "1"}, nil, c.Query("done"))
}

func (h *Handlers) renderAdminSeckill(c *gin.Context, status int, f templates.SaleForm, problem error, notice string) {
	ctx := c.Request.Context()
	l := lang(c)
	v := templates.SeckillAdminView{AdminPage: h.adminPage(c, "seckill.admin.title", templates.SectionSeckill), Form: f}
	switch notice {
	case "opened":
		v.Notice = templates.T(l, "seckill.admin.opened")
	case "closed":
		v.Notice = templates.T(l, "seckill.admin.closed")
	}
	if problem != nil {
		v.Problem = problemText(l, problem)
	}
	sales, err := h.Store.Sales.Sales(ctx, adminSalesShown)
	if err != nil {
		h.fail(c, err)
		return
	}
	live, err := h.Seckill.Status(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	byID := map[int64]seckill.SaleStatus{}
	for _, s := range live {
		byID[s.Sale.ID] = s
	}
	names, err := h.skuNames(ctx, sales)
	if err != nil {
		h.fail(c, err)
		return
	}
	choices, err := h.Store.Admin.SKUChoices(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	for _, k := range choices {
		id := strconv.FormatInt(k.ID, 10)
		v.SKUs = append(v.SKUs, templates.Option{Value: id, Selected: id == f.SKUID,
			Label: templates.Tf(l, "seckill.admin.sku_option", k.Name, k.Stock, k.Price.StringFixed(2))})
	}
	now := h.Now()
	for _, s := range sales {
		row := templates.SaleRow{
			ID: s.ID, SKUID: s.SKUID, SKUName: names[s.SKUID], Price: s.Price, Stock: s.Stock, PerUser: s.PerUser,
			Start: s.StartTime, End: s.EndTime, Open: s.Status == models.SaleOpen, Sold: s.Sold,
			Phase: templates.SaleAdminPhase(s.Status == models.SaleOpen, s.StartTime, s.EndTime, now),
		}
		// Sold is the database's count: Redis's may differ while orders
		// wait to be persisted (Queued), or after Redis lost the sale.
		if st, ok := byID[s.ID]; ok {
			row.InRedis, row.Queued, row.Oldest = st.InRedis, st.Queued, st.Oldest
		}
		v.Sales = append(v.Sales, row)
	}
	h.render(c, status, templates.SeckillAdmin(v))
}

// skuNames are the names of the sales' SKUs, by SKU id.
func (h *Handlers) skuNames(ctx context.Context, sales []models.Sale) (map[int64]string, error) {
	ids := make([]int64, len(sales))
	for i, s := range sales {
		ids[i] = s.SKUID
	}
	skus, err := h.Store.Catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	names := make(map[int64]string, len(skus))
	for _, k := range skus {
		names[k.ID] = k.Name
	}
	return names, nil
}

// problemText says what is wrong with an open or close request.
func problemText(l templates.Lang, err error) string {
	var fe *fieldError
	var se *models.StockError
	switch {
	case errors.As(err, &fe):
		return templates.Tf(l, "err.field", fe.Field, templates.T(l, fe.Reason))
	case errors.As(err, &se):
		return templates.Tf(l, "seckill.admin.short", se.Left)
	case errors.Is(err, models.ErrDuplicate):
		return templates.T(l, "seckill.admin.duplicate")
	case errors.Is(err, models.ErrNotLaunched):
		return templates.T(l, "cart.not_launched")
	case errors.Is(err, seckill.ErrLocked):
		return templates.T(l, "seckill.admin.locked")
	}
	return templates.T(l, "seckill.admin.invalid")
}

// shopZone is the time zone of the staff form's times: China Standard
// Time, UTC+8, with no daylight saving.
func shopZone() *time.Location { return time.FixedZone("CST", 8*3600) }

// AdminSeckillOpen opens a flash sale from the staff form: sku_id, stock,
// price, per_user (default 1), start and end (datetime-local in UTC+8;
// start empty is now, end empty is an hour after the start). Then back to
// the list (302); a refused form is shown again (400).
func (h *Handlers) AdminSeckillOpen(c *gin.Context) {
	f := templates.SaleForm{
		SKUID: strings.TrimSpace(c.PostForm("sku_id")), Stock: strings.TrimSpace(c.PostForm("stock")),
		Price: strings.TrimSpace(c.PostForm("price")), PerUser: strings.TrimSpace(c.PostForm("per_user")),
		Start: strings.TrimSpace(c.PostForm("start")), End: strings.TrimSpace(c.PostForm("end")),
	}
	in, err := h.saleInput(f)
	if err == nil {
		in.StaffID = currentUser(c).ID
		_, err = h.Seckill.Open(c.Request.Context(), in)
		var se *models.StockError
		if err != nil && !errors.As(err, &se) && !errors.Is(err, models.ErrDuplicate) &&
			!errors.Is(err, models.ErrNotLaunched) && !errors.Is(err, models.ErrInvalid) {
			h.fail(c, err)
			return
		}
	}
	if err != nil {
		h.renderAdminSeckill(c, http.StatusBadRequest, f, err, "")
		return
	}
	c.Redirect(http.StatusFound, "/admin/seckill/?done=opened")
}

// saleInput parses the staff form.
func (h *Handlers) saleInput(f templates.SaleForm) (models.SaleInput, error) {
	var in models.SaleInput
	var err error
	if in.SKUID, err = strconv.ParseInt(f.SKUID, 10, 64); err != nil || in.SKUID < 1 {
		return in, badField("sku_id", "err.field.type")
	}
	if in.Stock, err = strconv.Atoi(f.Stock); err != nil || in.Stock < 1 {
		return in, badField("stock", "seckill.admin.positive")
	}
	if in.Price, err = decimal.NewFromString(f.Price); err != nil || in.Price.IsNegative() || !in.Price.Equal(in.Price.Round(2)) {
		return in, badField("price", "seckill.admin.price_bad")
	}
	in.PerUser = 1
	if f.PerUser != "" {
		if in.PerUser, err = strconv.Atoi(f.PerUser); err != nil || in.PerUser < 1 || in.PerUser > 100 {
			return in, badField("per_user", "seckill.admin.per_user_bad")
		}
	}
	in.Start = h.Now()
	if f.Start != "" {
		if in.Start, err = time.ParseInLocation("2006-01-02T15:04", f.Start, shopZone()); err != nil {
			return in, badField("start", "seckill.admin.time")
		}
	}
	in.End = in.Start.Add(time.Hour)
	if f.End != "" {
		if in.End, err = time.ParseInLocation("2006-01-02T15:04", f.End, shopZone()); err != nil {
			return in, badField("end", "seckill.admin.time")
		}
	}
	if !in.End.After(in.Start) || !in.End.After(h.Now()) {
		return in, badField("end", "seckill.admin.window")
	}
	return in, nil
}

// AdminSeckillClose closes an open sale now: buys stop, what was bought is
// persisted, and the unsold units go back to the SKU. Then back to the
// list (302).
func (h *Handlers) AdminSeckillClose(c *gin.Context) {
	id, err := pathID(c, "id")
	if err != nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 30*time.Second)
	defer cancel()
	if _, err := h.Seckill.Close(ctx, id); err != nil {
		if errors.Is(err, seckill.ErrLocked) {
			h.renderAdminSeckill(c, http.StatusConflict, templates.SaleForm{PerUser: "1"}, err, "")
			return
		}
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusFound, "/admin/seckill/?done=closed")
}

// addressOwned reports whether the address is the user's and not deleted.
func (h *Handlers) addressOwned(ctx context.Context, k addressKey) (bool, error) {
	_, err := h.Store.Addresses.AddressOf(ctx, k.uid, k.id)
	if errors.Is(err, models.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
