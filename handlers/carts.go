package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// A logged-in user's cart lives in Redis (carts.Store); an anonymous
// visitor's lives in a signed cookie (carts.Cookie) and moves into Redis at
// login (mergeCookieCart). Both obey the same limits. The endpoints below
// are written once against shopperCart, which is either of them.
type shopperCart interface {
	Add(ctx context.Context, skuID int64, count int, selected bool) (int, error)
	Set(ctx context.Context, skuID int64, count int, selected bool) (int, error)
	Remove(ctx context.Context, skuID int64) error
	SelectAll(ctx context.Context, selected bool) error
	Lines(ctx context.Context) ([]carts.Line, error)
	Count(ctx context.Context) (int, error)
}

// cartOf is the cart of whoever sent the request.
func (h *Handlers) cartOf(c *gin.Context) shopperCart {
	if u := currentUser(c); u != nil {
		return redisCart{store: h.Carts, uid: u.ID}
	}
	return &cookieCart{h: h, c: c, cart: h.readCartCookie(c)}
}

type redisCart struct {
	store *carts.Store
	uid   int64
}

func (r redisCart) Add(ctx context.Context, skuID int64, count int, selected bool) (int, error) {
	return r.store.Add(ctx, r.uid, skuID, count, selected)
}

func (r redisCart) Set(ctx context.Context, skuID int64, count int, selected bool) (int, error) {
	return r.store.Set(ctx, r.uid, skuID, count, selected)
}

func (r redisCart) Remove(ctx context.Context, skuID int64) error {
	return r.store.Remove(ctx, r.uid, skuID)
}

func (r redisCart) SelectAll(ctx context.Context, selected bool) error {
	return r.store.SelectAll(ctx, r.uid, selected)
}

func (r redisCart) Lines(ctx context.Context) ([]carts.Line, error) { return r.store.Lines(ctx, r.uid) }

func (r redisCart) Count(ctx context.Context) (int, error) { return r.store.Count(ctx, r.uid) }

// cookieCart writes the cookie back after every change.
type cookieCart struct {
	h    *Handlers
	c    *gin.Context
	cart *carts.Cookie
}

func (k *cookieCart) Add(_ context.Context, skuID int64, count int, selected bool) (int, error) {
	n, err := k.cart.Add(skuID, count, selected)
	if err != nil {
		return 0, err
	}
	return n, k.h.writeCartCookie(k.c, k.cart)
}

func (k *cookieCart) Set(_ context.Context, skuID int64, count int, selected bool) (int, error) {
	n, err := k.cart.Set(skuID, count, selected)
	if err != nil {
		return 0, err
	}
	return n, k.h.writeCartCookie(k.c, k.cart)
}

func (k *cookieCart) Remove(_ context.Context, skuID int64) error {
	k.cart.Remove(skuID)
	return k.h.writeCartCookie(k.c, k.cart)
}

func (k *cookieCart) SelectAll(_ context.Context, selected bool) error {
	k.cart.SelectAll(selected)
	return k.h.writeCartCookie(k.c, k.cart)
}

func (k *cookieCart) Lines(context.Context) ([]carts.Line, error) { return k.cart.Lines(), nil }

func (k *cookieCart) Count(context.Context) (int, error) { return k.cart.Count(), nil }

// readCartCookie returns the visitor's cookie cart. A missing cookie is an
// empty cart, and so is one that fails its signature check or does not
// decode: the next change replaces it.
func (h *Handlers) readCartCookie(c *gin.Context) *carts.Cookie {
	ck, err := c.Request.Cookie(carts.CookieName)
	if err != nil {
		return &carts.Cookie{}
	}
	cart, err := carts.DecodeCookie(h.CookieKey, ck.Value)
	if err != nil {
		h.Log.Info("cart cookie ignored", "err", err)
	}
	return cart
}

// writeCartCookie stores the cart in the visitor's cookie, or deletes the
// cookie when the cart is empty. Returns carts.ErrFull if it would not fit.
func (h *Handlers) writeCartCookie(c *gin.Context, cart *carts.Cookie) error {
	if cart.Len() == 0 {
		h.deleteCartCookie(c)
		return nil
	}
	v, err := cart.Encode(h.CookieKey)
	if err != nil {
		return err
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: carts.CookieName, Value: v, Path: "/", MaxAge: carts.CookieMaxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies})
	return nil
}

func (h *Handlers) deleteCartCookie(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: carts.CookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies})
}

// cartCount is the mini cart badge: the total quantity in the cart.
func (h *Handlers) cartCount(c *gin.Context) int {
	n, err := h.cartOf(c).Count(c.Request.Context())
	if err != nil {
		h.Log.Warn("mini cart count", "err", err)
		return 0
	}
	return n
}

// mergeCookieCart moves the anonymous cookie cart into the user's Redis
// cart at login (see carts.Store.Merge for the rule) and deletes the
// cookie. It never fails the login: a cookie that does not decode is
// dropped, and if Redis fails the cookie is kept for the next login.
func (h *Handlers) mergeCookieCart(c *gin.Context, uid int64) {
	ck, err := c.Request.Cookie(carts.CookieName)
	if err != nil {
		return
	}
	cart, err := carts.DecodeCookie(h.CookieKey, ck.Value)
	if err != nil {
		h.Log.Info("cart cookie ignored at login", "user", uid, "err", err)
		h.deleteCartCookie(c)
		return
	}
	skipped, err := h.Carts.Merge(c.Request.Context(), uid, cart.Lines())
	if err != nil {
		h.Log.Warn("merge cookie cart at login", "user", uid, "err", err)
		return
	}
	if skipped > 0 {
		h.Log.Info("cookie cart lines skipped at login: cart full", "user", uid, "skipped", skipped)
	}
	h.deleteCartCookie(c)
}

// cartBody is the JSON the cart endpoints take. Pointers tell a missing
// field from a zero one; wrong JSON types are refused by bindJSON.
type cartBody struct {
	SKUID    *int64 `json:"sku_id"`
	Count    *int   `json:"count"`
	Selected *bool  `json:"selected"`
}

func (b cartBody) skuID() (int64, error) {
	switch {
	case b.SKUID == nil:
		return 0, badField("sku_id", "err.field.missing")
	case *b.SKUID < 1:
		return 0, badField("sku_id", "cart.field.sku_id")
	}
	return *b.SKUID, nil
}

func (b cartBody) count() (int, error) {
	switch {
	case b.Count == nil:
		return 0, badField("count", "err.field.missing")
	case *b.Count < 1 || *b.Count > carts.MaxCount:
		return 0, badField("count", "cart.field.count")
	}
	return *b.Count, nil
}

// selected defaults to true, as in the Django shop.
func (b cartBody) selected() bool { return b.Selected == nil || *b.Selected }

// lineInput reads {sku_id, count, selected?} and returns the SKU, which
// must be on sale. The price always comes from the database.
func (h *Handlers) lineInput(c *gin.Context) (*models.SKU, int, bool, error) {
	var b cartBody
	if err := bindJSON(c, &b); err != nil {
		return nil, 0, false, err
	}
	id, err := b.skuID()
	if err != nil {
		return nil, 0, false, err
	}
	n, err := b.count()
	if err != nil {
		return nil, 0, false, err
	}
	// A SKU withdrawn in another process may still be put in a cart for
	// up to CacheTTL; the order commit refuses it.
	sku, err := h.skus.get(c.Request.Context(), id, h.Store.Catalog.SKUByID)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return nil, 0, false, reject("cart.unknown_sku")
	case err != nil:
		return nil, 0, false, err
	case !sku.IsLaunched:
		return nil, 0, false, fmt.Errorf("sku %d: %w", id, models.ErrNotLaunched)
	}
	return sku, n, b.selected(), nil
}

// CartAdd adds to a line: POST /carts/ {sku_id, count, selected?=true}.
// It answers {code:0, errmsg, cart_count} (cart_count: the new badge).
func (h *Handlers) CartAdd(c *gin.Context) {
	sku, n, sel, err := h.lineInput(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	cart := h.cartOf(c)
	if _, err := cart.Add(ctx, sku.ID, n, sel); err != nil {
		h.fail(c, err)
		return
	}
	total, err := cart.Count(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	ok(c, gin.H{"cart_count": total})
}

// CartUpdate sets a line: PUT /carts/ {sku_id, count, selected?=true}. It
// answers {code:0, errmsg, cart_sku:{id, name, default_image_url, price,
// count, selected, amount}, cart_count}, money as "12.00".
func (h *Handlers) CartUpdate(c *gin.Context) {
	sku, n, sel, err := h.lineInput(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	cart := h.cartOf(c)
	if _, err := cart.Set(ctx, sku.ID, n, sel); err != nil {
		h.fail(c, err)
		return
	}
	total, err := cart.Count(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	ok(c, gin.H{"cart_count": total, "cart_sku": gin.H{
		"id":                sku.ID,
		"name":              sku.Name,
		"default_image_url": skuImage(sku),
		"price":             sku.Price.StringFixed(2),
		"count":             n,
		"selected":          sel,
		"amount":            sku.Price.Mul(decimal.NewFromInt(int64(n))).StringFixed(2),
	}})
}

// CartDelete removes a line: DELETE /carts/ {sku_id}. The SKU need not
// exist any more, so that a withdrawn or deleted one can be removed.
func (h *Handlers) CartDelete(c *gin.Context) {
	var b cartBody
	if err := bindJSON(c, &b); err != nil {
		h.fail(c, err)
		return
	}
	id, err := b.skuID()
	if err != nil {
		h.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	cart := h.cartOf(c)
	if err := cart.Remove(ctx, id); err != nil {
		h.fail(c, err)
		return
	}
	total, err := cart.Count(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	ok(c, gin.H{"cart_count": total})
}

// CartSelectAll selects or clears every line: PUT /carts/selection/
// {selected: bool}.
func (h *Handlers) CartSelectAll(c *gin.Context) {
	var b struct {
		Selected *bool `json:"selected"`
	}
	if err := bindJSON(c, &b); err != nil {
		h.fail(c, err)
		return
	}
	if b.Selected == nil {
		h.fail(c, badField("selected", "err.field.missing"))
		return
	}
	if err := h.cartOf(c).SelectAll(c.Request.Context(), *b.Selected); err != nil {
		h.fail(c, err)
		return
	}
	ok(c, nil)
}

// CartSimple is the mini cart: GET /carts/simple/ answers
// {code:0, errmsg, cart_skus:[{id, name, count, default_image_url}]},
// leaving out SKUs that no longer exist.
func (h *Handlers) CartSimple(c *gin.Context) {
	lines, skus, err := h.cartSKUs(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]gin.H, 0, len(lines))
	for _, l := range lines {
		sku, found := skus[l.SKUID]
		if !found {
			continue
		}
		out = append(out, gin.H{"id": sku.ID, "name": sku.Name, "count": l.Count, "default_image_url": skuImage(sku)})
	}
	ok(c, gin.H{"cart_skus": out})
}

// CartPage is the cart: GET /carts/. Lines whose SKU was withdrawn or
// deleted are shown as unavailable and left out of the totals.
func (h *Handlers) CartPage(c *gin.Context) {
	lines, skus, err := h.cartSKUs(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := templates.CartView{
		Page:           h.page(c, templates.T(lang(c), "cart.title")),
		Lines:          make([]templates.CartLine, 0, len(lines)),
		SelectedAmount: decimal.Zero,
		MaxCount:       carts.MaxCount,
	}
	available, selected := 0, 0
	for _, l := range lines {
		line := templates.CartLine{SKUID: l.SKUID, Count: l.Count, Selected: l.Selected, Image: skuImage(nil)}
		if sku, found := skus[l.SKUID]; found {
			line.Name, line.Image, line.Price = sku.Name, skuImage(sku), sku.Price
			line.Available = sku.IsLaunched
			line.Amount = sku.Price.Mul(decimal.NewFromInt(int64(l.Count)))
		}
		if line.Available {
			available++
			if line.Selected {
				selected++
				v.SelectedCount += line.Count
				v.SelectedAmount = v.SelectedAmount.Add(line.Amount)
			}
		}
		v.Lines = append(v.Lines, line)
	}
	v.AllSelected = available > 0 && selected == available
	h.render(c, http.StatusOK, templates.CartPage(v))
}

// cartSKUs returns the shopper's cart lines and their SKUs by id; a SKU
// that no longer exists is missing from the map.
func (h *Handlers) cartSKUs(c *gin.Context) ([]carts.Line, map[int64]*models.SKU, error) {
	ctx := c.Request.Context()
	lines, err := h.cartOf(c).Lines(ctx)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.SKUID
	}
	list, err := h.Store.Catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	skus := make(map[int64]*models.SKU, len(list))
	for i := range list {
		skus[list[i].ID] = &list[i]
	}
	return lines, skus, nil
}

// skuImage is a SKU's picture, or the shop's logo when it has none (or the
// SKU is gone).
func skuImage(sku *models.SKU) string {
	if sku == nil || sku.DefaultImage == "" {
		return "/static/img/logo.svg"
	}
	return sku.DefaultImage
}
