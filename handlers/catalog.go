package handlers

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// shelfSize is how many SKUs each home page shelf shows.
const shelfSize = 4

// Home shows the categories, each with its best-selling launched SKUs.
func (h *Handlers) Home(c *gin.Context) {
	shelves, err := h.Store.Catalog.Shelves(c.Request.Context(), shelfSize)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := templates.HomeView{Page: h.page(c, templates.T(lang(c), "catalog.home_title"))}
	for _, s := range shelves {
		link := categoryLink(s.Category, 0)
		v.Categories = append(v.Categories, link)
		v.Shelves = append(v.Shelves, templates.Shelf{Category: link, Cards: cards(s.SKUs)})
	}
	h.render(c, http.StatusOK, templates.Home(v))
}

// List shows a page of a category's launched SKUs:
// /list/:category_id/:page/?sort=default|price|hot. An unknown sort is the
// default one; an unknown category or a page out of range is 404.
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
	base := "/list/" + strconv.FormatInt(id, 10) + "/"
	pageURL := func(n int) string { return base + itoa(n) + "/?sort=" + string(sort) }
	v := templates.ListView{
		Page:     h.page(c, cat.Name),
		Category: categoryLink(*cat, id),
		Total:    pg.Total,
		Cards:    cards(pg.SKUs),
		Pager:    templates.NewPager(pg.Number, pg.Pages, pageURL),
	}
	for _, k := range cats {
		v.Categories = append(v.Categories, categoryLink(k, id))
	}
	for _, s := range []models.Sort{models.SortDefault, models.SortPrice, models.SortHot} {
		v.Sorts = append(v.Sorts, templates.SortOption{
			Key:    string(s),
			URL:    base + "1/?sort=" + string(s),
			Active: s == sort,
		})
	}
	h.render(c, http.StatusOK, templates.List(v))
}

// Detail shows one launched SKU, with its newest reviews: /detail/:sku_id/.
// A withdrawn or unknown SKU is 404.
func (h *Handlers) Detail(c *gin.Context) {
	id, err := pathID(c, "sku_id")
	if err != nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	d, err := h.Store.Catalog.SKUDetailByID(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	if !d.SKU.IsLaunched {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	v := templates.DetailView{
		Page:        h.page(c, d.SKU.Name),
		SKU:         card(d.SKU),
		ProductName: d.SPU.Name,
		Description: d.SPU.DescDetail,
		Category:    categoryLink(d.Category, d.Category.ID),
		MaxCount:    max(1, min(d.SKU.Stock, carts.MaxCount)),
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
	if v.Reviews, err = h.skuReviews(c.Request.Context(), id); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, templates.Detail(v))
}

// Search shows the launched SKUs whose name or caption contains ?q=, a page
// (?page=) at a time. An empty q shows a hint; a q over the length limit is
// 400; a page that is not a number or out of range is 404.
func (h *Handlers) Search(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	p := h.page(c, templates.T(lang(c), "nav.search"))
	p.Query = q
	v := templates.SearchView{Page: p}
	if q == "" {
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

func categoryLink(k models.Category, active int64) templates.CategoryLink {
	return templates.CategoryLink{ID: k.ID, Name: k.Name, Active: k.ID == active}
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
