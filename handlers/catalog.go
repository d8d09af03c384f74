package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// shelfSize is how many SKUs each home page shelf shows.
const shelfSize = 4

// saleSoon is how long before its start a flash sale is announced.
const saleSoon = 24 * time.Hour

// Home shows the category menu, the flash sales running or starting soon,
// and the top-level categories, each with its best-selling launched SKUs.
func (h *Handlers) Home(c *gin.Context) {
	ctx := c.Request.Context()
	shelves, err := h.Store.Catalog.Shelves(ctx, shelfSize)
	if err != nil {
		h.fail(c, err)
		return
	}
	menu, err := h.Store.Catalog.Menu(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	sales, err := h.salesOnShow(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := templates.HomeView{Page: h.page(c, templates.T(lang(c), "catalog.home_title")), Menu: menuView(menu), Sales: sales}
	for _, s := range shelves {
		link := categoryLink(s.Category, 0)
		v.Categories = append(v.Categories, link)
		v.Shelves = append(v.Shelves, templates.Shelf{Category: link, Cards: cards(s.SKUs)})
	}
	h.render(c, http.StatusOK, templates.Home(v))
}

// List shows a page of the launched SKUs of a category and the ones below
// it, with breadcrumbs over its levels:
// /list/:category_id/:page/?sort=default|price|-price|hot (price_desc is
// -price too). An unknown sort is the default one; an unknown category or
// a page out of range is 404.
func (h *Handlers) List(c *gin.Context) {
	id, err1 := pathID(c, "category_id")
	number, err2 := pathID(c, "page")
	if err1 != nil || err2 != nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	ctx := c.Request.Context()
	sort := models.ParseSort(c.Query("sort"))
	cat, pg, err := h.Store.Catalog.CategorySKUs(ctx, id, sort, int(number))
	if err != nil {
		h.fail(c, err)
		return
	}
	cats, err := h.Store.Catalog.Categories(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	path, err := h.Store.Catalog.CategoryPath(ctx, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	base := "/list/" + strconv.FormatInt(id, 10) + "/"
	pageURL := func(n int) string { return base + itoa(n) + "/?sort=" + string(sort) }
	v := templates.ListView{
		Page:        h.page(c, cat.Name),
		Category:    categoryLink(*cat, id),
		Breadcrumbs: categoryLinks(path, id),
		Total:       pg.Total,
		Cards:       cards(pg.SKUs),
		Pager:       templates.NewPager(pg.Number, pg.Pages, pageURL),
	}
	// The top level the category is under stays marked in the chips.
	for _, k := range cats {
		v.Categories = append(v.Categories, categoryLink(k, path[0].ID))
	}
	// The level below: the category's children, or a third level's
	// siblings.
	subs, err := h.Store.Catalog.CategoryChildren(ctx, id)
	if err == nil && len(subs) == 0 && len(path) > 1 {
		subs, err = h.Store.Catalog.CategoryChildren(ctx, path[len(path)-2].ID)
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Subcategories = categoryLinks(subs, id)
	for _, s := range []models.Sort{models.SortDefault, models.SortPrice, models.SortPriceDesc, models.SortHot} {
		key := string(s)
		if s == models.SortPriceDesc {
			key = "price_desc"
		}
		v.Sorts = append(v.Sorts, templates.SortOption{
			Key:    key,
			URL:    base + "1/?sort=" + string(s),
			Active: s == sort,
		})
	}
	h.render(c, http.StatusOK, templates.List(v))
}

// Detail shows one launched SKU: /detail/:sku_id/, with its gallery, one
// choice per specification (each option links to the SKU that has it and
// keeps the other choices), its brand, its flash sale, running or soon,
// and a page of its reviews (?reviews=N, newest first; a value that is
// not a page number shows the first page, one past the last the last). A
// withdrawn or unknown SKU is 404.
func (h *Handlers) Detail(c *gin.Context) {
	id, err := pathID(c, "sku_id")
	if err != nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	ctx := c.Request.Context()
	d, err := h.Store.Catalog.SKUDetailByID(ctx, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	if !d.SKU.IsLaunched {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	sale, err := h.saleOf(ctx, d.SKU)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := templates.DetailView{
		Page:        h.page(c, d.SKU.Name),
		SKU:         card(d.SKU),
		ProductName: d.SPU.Name,
		Description: d.SPU.DescDetail,
		Category:    categoryLink(d.Category, d.Category.ID),
		Breadcrumbs: categoryLinks(d.Path, 0),
		MaxCount:    max(1, min(d.SKU.Stock, carts.MaxCount)),
		Sale:        sale,
	}
	if d.Brand != nil {
		v.Brand = d.Brand.Name
	}
	for _, img := range d.Gallery {
		v.Gallery = append(v.Gallery, img.Image)
	}
	if len(v.Gallery) == 0 {
		v.Gallery = []string{v.SKU.Image}
	}
	for _, sp := range d.Specs {
		sv := templates.SpecView{Name: sp.Spec.Name}
		for _, o := range sp.Options {
			ov := templates.SpecOptionView{Label: o.Option.Value, Current: o.Current}
			if o.SKU != nil {
				ov.URL, ov.SoldOut = card(*o.SKU).URL(), o.SKU.Stock == 0
			}
			sv.Options = append(sv.Options, ov)
		}
		v.Specs = append(v.Specs, sv)
	}
	for _, k := range d.Variants {
		label := strings.TrimSpace(strings.TrimPrefix(k.Name, d.SPU.Name))
		if label == "" {
			label = k.Name
		}
		v.Variants = append(v.Variants, templates.Variant{
			URL:     card(k).URL(),
			Label:   label,
			Current: k.ID == d.SKU.ID,
			SoldOut: k.Stock == 0,
		})
	}
	if v.Reviews, err = h.skuReviewPage(ctx, id, c.Query("reviews")); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, templates.Detail(v))
}

// Search shows the launched SKUs whose name or caption contains ?q=, a page
// (?page=) at a time. An empty q shows a hint, and it and a search that
// finds nothing suggest the best sellers; a q over the length limit is
// 400; a page that is not a number or out of range is 404.
func (h *Handlers) Search(c *gin.Context) {
	var err error
	q := strings.TrimSpace(c.Query("q"))
	p := h.page(c, templates.T(lang(c), "nav.search"))
	p.Query = q
	v := templates.SearchView{Page: p}
	if q == "" {
		if v.Popular, err = h.popular(c); err != nil {
			h.fail(c, err)
			return
		}
		h.render(c, http.StatusOK, templates.Search(v))
		return
	}
	if len([]rune(q)) > models.MaxQueryLen {
		h.fail(c, badField("q", "catalog.q_too_long"))
		return
	}
	number := int64(1)
	if raw := c.Query("page"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 32)
		if err != nil {
			h.fail(c, &statusError{Status: http.StatusNotFound})
			return
		}
		number = n
	}
	pg, err := h.Store.Catalog.SearchSKUs(c.Request.Context(), q, int(number))
	if err != nil {
		h.fail(c, err)
		return
	}
	v.Title = templates.Tf(lang(c), "catalog.search_title", q)
	if pg.Total == 0 {
		if v.Popular, err = h.popular(c); err != nil {
			h.fail(c, err)
			return
		}
	}
	v.Total = pg.Total
	v.Cards = cards(pg.SKUs)
	v.Pager = templates.NewPager(pg.Number, pg.Pages, func(n int) string {
		return "/search/?" + url.Values{"q": {q}, "page": {itoa(n)}}.Encode()
	})
	h.render(c, http.StatusOK, templates.Search(v))
}

// pathID reads a positive decimal path parameter.
func pathID(c *gin.Context, name string) (int64, error) {
	n, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err == nil && n < 1 {
		err = models.ErrNotFound
	}
	return n, err
}

// popularSize is how many best sellers an empty search suggests.
const popularSize = 8

func (h *Handlers) popular(c *gin.Context) ([]templates.Card, error) {
	skus, err := h.Store.Catalog.PopularSKUs(c.Request.Context(), popularSize)
	if err != nil {
		return nil, err
	}
	return cards(skus), nil
}

// salesOnShow is the open flash sales that run now or start within
// saleSoon, soonest end first.
func (h *Handlers) salesOnShow(ctx context.Context) ([]templates.SaleCard, error) {
	open, err := h.Store.Sales.OpenSales(ctx)
	if err != nil {
		return nil, err
	}
	now := h.Now()
	var shown []models.Sale
	var ids []int64
	for _, s := range open {
		if saleShown(s, now) {
			shown = append(shown, s)
			ids = append(ids, s.SKUID)
		}
	}
	if len(shown) == 0 {
		return nil, nil
	}
	skus, err := h.Store.Catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := map[int64]models.SKU{}
	for _, k := range skus {
		byID[k.ID] = k
	}
	var out []templates.SaleCard
	for _, s := range shown {
		if k, ok := byID[s.SKUID]; ok && k.IsLaunched {
			out = append(out, saleCard(s, k, now))
		}
	}
	slices.SortStableFunc(out, func(a, b templates.SaleCard) int { return a.End.Compare(b.End) })
	return out, nil
}

// saleOf is the SKU's flash sale if it runs now or starts within
// saleSoon, or nil.
func (h *Handlers) saleOf(ctx context.Context, k models.SKU) (*templates.SaleCard, error) {
	s, err := h.Store.Sales.LiveSale(ctx, k.ID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	now := h.Now()
	if !saleShown(*s, now) {
		return nil, nil
	}
	sc := saleCard(*s, k, now)
	return &sc, nil
}

// saleShown reports whether an open sale is announced at now: it has not
// ended and starts within saleSoon.
func saleShown(s models.Sale, now time.Time) bool {
	return s.Status == models.SaleOpen && now.Before(s.EndTime) && s.StartTime.Before(now.Add(saleSoon))
}

func saleCard(s models.Sale, k models.SKU, now time.Time) templates.SaleCard {
	return templates.SaleCard{SKU: card(k), Price: s.Price, Start: s.StartTime, End: s.EndTime,
		Live: !now.Before(s.StartTime), Now: now}
}

// menuView is the category menu as the home page shows it.
func menuView(groups []models.MenuGroup) []templates.MenuGroup {
	out := make([]templates.MenuGroup, 0, len(groups))
	for _, g := range groups {
		mg := templates.MenuGroup{Name: g.Name}
		for _, e := range g.Entries {
			me := templates.MenuEntry{Category: categoryLink(e.Category, 0)}
			me.Category.Href = channelURL(e.URL)
			for _, sub := range e.Children {
				ms := templates.MenuSub{Category: categoryLink(sub.Category, 0)}
				for _, leaf := range sub.Children {
					ms.Leaves = append(ms.Leaves, categoryLink(leaf.Category, 0))
				}
				me.Subs = append(me.Subs, ms)
			}
			mg.Entries = append(mg.Entries, me)
		}
		out = append(out, mg)
	}
	return out
}

// channelURL is where a channel's menu entry leads: its URL when that is
// a path of this site or an http(s) address, else "" (the category's
// list), so that no stored value becomes a javascript: link.
func channelURL(u string) string {
	switch {
	case strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") && !strings.HasPrefix(u, "/\\"),
		strings.HasPrefix(u, "https://"), strings.HasPrefix(u, "http://"):
		return u
	}
	return ""
}

func categoryLink(k models.Category, active int64) templates.CategoryLink {
	return templates.CategoryLink{ID: k.ID, Name: k.Name, Active: k.ID == active}
}

func categoryLinks(ks []models.Category, active int64) []templates.CategoryLink {
	out := make([]templates.CategoryLink, 0, len(ks))
	for _, k := range ks {
		out = append(out, categoryLink(k, active))
	}
	return out
}

func card(k models.SKU) templates.Card {
	return templates.Card{
		ID:          k.ID,
		Name:        k.Name,
		Caption:     k.Caption,
		Price:       k.Price,
		MarketPrice: k.MarketPrice,
		Image:       k.DefaultImage,
		Stock:       k.Stock,
		Sales:       k.Sales,
	}
}

func cards(skus []models.SKU) []templates.Card {
	out := make([]templates.Card, 0, len(skus))
	for _, k := range skus {
		out = append(out, card(k))
	}
	return out
}
