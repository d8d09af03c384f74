package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// The admin pages (/admin/, staff only: StaffRequired guards the group).
// Forms are plain POST forms; after a POST the browser is redirected (PRG)
// with a one-time flash message in a short-lived cookie.

// beijing is Beijing time: "today" on the dashboard and the order list's
// dates are days there.
var beijing = time.FixedZone("CST", 8*3600)

const flashCookie = "shop_flash"

// flash leaves a message for the next admin page: a key of the
// admin.flash.* catalog, whether it is an error, and an optional number.
// The cookie holds no text, so a forged one can only pick a message.
func (h *Handlers) flash(c *gin.Context, key string, isErr bool, n ...int) {
	v := "ok|" + key
	if isErr {
		v = "err|" + key
	}
	if len(n) > 0 {
		v += "|" + strconv.Itoa(n[0])
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(v), Path: "/admin/", MaxAge: 60,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies})
}

// takeFlash reads and clears the flash message.
func (h *Handlers) takeFlash(c *gin.Context) templates.Flash {
	raw, err := c.Cookie(flashCookie)
	if err != nil || raw == "" {
		return templates.Flash{}
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: flashCookie, Value: "", Path: "/admin/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies})
	parts := strings.Split(raw, "|")
	if len(parts) < 2 || !strings.HasPrefix(parts[1], "admin.flash.") || !templates.Has(parts[1]) {
		return templates.Flash{}
	}
	f := templates.Flash{Error: parts[0] == "err", Text: templates.T(lang(c), parts[1])}
	if !strings.Contains(f.Text, "%d") {
		return f
	}
	// A message that takes a number shows only with one.
	if len(parts) != 3 {
		return templates.Flash{}
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		return templates.Flash{}
	}
	f.Text = templates.Tf(lang(c), parts[1], n)
	return f
}

// back redirects to path after a POST, with a flash message.
func (h *Handlers) back(c *gin.Context, path, key string, isErr bool, n ...int) {
	h.flash(c, key, isErr, n...)
	c.Redirect(http.StatusSeeOther, path)
}

func (h *Handlers) adminPage(c *gin.Context, titleKey, section string) templates.AdminPage {
	return templates.AdminPage{Page: h.page(c, templates.T(lang(c), titleKey)), Section: section, Flash: h.takeFlash(c)}
}

// queryInt reads an optional positive integer parameter; empty is 0.
func queryInt(c *gin.Context, name string) (int64, error) {
	v := strings.TrimSpace(c.Query(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, badField(name, "err.field.type")
	}
	return n, nil
}

// pageParam reads ?page=, 1 when absent.
func pageParam(c *gin.Context) (int, error) {
	n, err := queryInt(c, "page")
	if err != nil || n > 1_000_000 {
		return 0, badField("page", "err.field.type")
	}
	return max(1, int(n)), nil
}

// pageURL is the current list with another page number.
func pageURL(c *gin.Context) func(int) string {
	q := c.Request.URL.Query()
	return func(n int) string {
		q.Set("page", strconv.Itoa(n))
		return c.Request.URL.Path + "?" + q.Encode()
	}
}

func idParam(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, &statusError{Status: http.StatusNotFound}
	}
	return id, nil
}

func (h *Handlers) staffID(c *gin.Context) int64 { return currentUser(c).ID }

// AdminDashboard is /admin/: today's orders, revenue and units, low stock
// and recent orders.
func (h *Handlers) AdminDashboard(c *gin.Context) {
	ctx := c.Request.Context()
	now := h.Now().In(beijing)
	d, err := h.Store.Admin.Dashboard(ctx, time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, beijing))
	if err != nil {
		h.fail(c, err)
		return
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, beijing)
	charts, err := h.Store.Admin.Charts(ctx, today.AddDate(0, 0, 1-models.ChartDays), models.ChartDays)
	if err != nil {
		h.fail(c, err)
		return
	}
	sales, err := h.Store.Sales.Sales(ctx, dashboardSales)
	if err != nil {
		h.fail(c, err)
		return
	}
	names, err := h.skuNames(ctx, sales)
	if err != nil {
		h.fail(c, err)
		return
	}
	v := templates.AdminDashboardView{
		AdminPage: h.adminPage(c, "admin.dashboard", templates.SectionHome),
		Orders:    d.Orders, Canceled: d.Canceled, Revenue: d.Revenue, Units: d.Units,
		LowCount: d.LowCount, Low: skuRows(d.LowStock), Recent: orderRows(d.Recent, d.Buyers),
		Days: models.ChartDays,
	}
	v.DayCharts, v.Categories = dayCharts(lang(c), charts), categoryBars(charts.Categories)
	for _, s := range sales {
		v.Sales = append(v.Sales, templates.ShareBar{Label: "#" + strconv.FormatInt(s.ID, 10) + " " + names[s.SKUID],
			Value: float64(s.Sold), Max: float64(s.Stock), Text: strconv.Itoa(s.Sold) + " / " + strconv.Itoa(s.Stock)})
	}
	h.render(c, http.StatusOK, templates.AdminDashboard(v))
}

// dashboardSales is how many of the latest flash sales the dashboard charts.
const dashboardSales = 6

// dayCharts are the dashboard's three charts of a value a day.
func dayCharts(l templates.Lang, c *models.Charts) []templates.BarChart {
	orders := templates.BarChart{ID: "orders", Title: templates.Tf(l, "admin.chart.orders", len(c.Days))}
	revenue := templates.BarChart{ID: "revenue", Title: templates.Tf(l, "admin.chart.revenue", len(c.Days))}
	users := templates.BarChart{ID: "users", Title: templates.Tf(l, "admin.chart.users", len(c.Days))}
	var nOrders, nUsers int64
	total := decimal.Zero
	for _, d := range c.Days {
		day := templates.DayLabel(d.Start)
		orders.Bars = append(orders.Bars, templates.Bar{Label: day, Value: float64(d.Orders), Text: strconv.FormatInt(d.Orders, 10)})
		revenue.Bars = append(revenue.Bars, templates.Bar{Label: day, Value: templates.Yuan(d.Revenue), Text: "¥" + d.Revenue.StringFixed(2)})
		users.Bars = append(users.Bars, templates.Bar{Label: day, Value: float64(d.NewUsers), Text: strconv.FormatInt(d.NewUsers, 10)})
		nOrders, nUsers, total = nOrders+d.Orders, nUsers+d.NewUsers, total.Add(d.Revenue)
	}
	orders.Summary = templates.Tf(l, "admin.chart.total_orders", nOrders)
	revenue.Summary = templates.Tf(l, "admin.chart.total_revenue", "¥"+total.StringFixed(2))
	users.Summary = templates.Tf(l, "admin.chart.total_users", nUsers)
	return []templates.BarChart{orders, revenue, users}
}

// categoryBars are units per category, against the best seller.
func categoryBars(cats []models.CategoryUnits) []templates.ShareBar {
	var out []templates.ShareBar
	for _, k := range cats {
		out = append(out, templates.ShareBar{Label: k.Name, Value: float64(k.Units), Max: float64(cats[0].Units),
			Text: strconv.FormatInt(k.Units, 10)})
	}
	return out
}

func skuRows(skus []models.SKU) []templates.AdminSKURow {
	out := make([]templates.AdminSKURow, len(skus))
	for i, k := range skus {
		out[i] = templates.AdminSKURow{ID: k.ID, Name: k.Name, Price: k.Price, Stock: k.Stock, Sales: k.Sales,
			Threshold: k.LowStockThreshold, Launched: k.IsLaunched}
	}
	return out
}

func orderRows(orders []models.Order, names map[int64]string) []templates.AdminOrderRow {
	out := make([]templates.AdminOrderRow, len(orders))
	for i, o := range orders {
		out[i] = templates.AdminOrderRow{OrderID: o.OrderID, Created: o.CreateTime, Buyer: names[o.UserID],
			Count: o.TotalCount, Total: o.TotalAmount, Status: o.Status, PayMethod: o.PayMethod}
	}
	return out
}

// categoryOptions lists the categories for a <select>; first is the
// choice with value "" ("all" in a filter, "choose" in a form).
func (h *Handlers) categoryOptions(c *gin.Context, selected int64, firstKey string) ([]templates.Option, map[int64]string, error) {
	cats, err := h.Store.Admin.AllCategories(c.Request.Context())
	if err != nil {
		return nil, nil, err
	}
	names := map[int64]string{}
	opts := []templates.Option{{Value: "", Label: templates.T(lang(c), firstKey), Selected: selected == 0}}
	for _, k := range cats {
		names[k.ID] = k.Name
		opts = append(opts, templates.Option{Value: strconv.FormatInt(k.ID, 10), Label: k.Name, Selected: k.ID == selected})
	}
	return opts, names, nil
}

// AdminSKUs lists SKUs with search and filters.
func (h *Handlers) AdminSKUs(c *gin.Context) {
	h.skuList(c, false)
}

// AdminLowStock lists the SKUs at or below their threshold.
func (h *Handlers) AdminLowStock(c *gin.Context) {
	h.skuList(c, true)
}

func (h *Handlers) skuList(c *gin.Context, low bool) {
	page, err := pageParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	f := models.SKUFilter{Query: c.Query("q"), LowStock: low}
	if f.CategoryID, err = queryInt(c, "category"); err != nil {
		h.fail(c, err)
		return
	}
	if f.SPUID, err = queryInt(c, "spu"); err != nil {
		h.fail(c, err)
		return
	}
	launched := c.Query("launched")
	switch launched {
	case "1", "0":
		on := launched == "1"
		f.Launched = &on
	case "":
	default:
		h.fail(c, badField("launched", "err.field.type"))
		return
	}
	skus, pg, err := h.Store.Admin.AdminSKUs(c.Request.Context(), f, page)
	if err != nil {
		h.fail(c, err)
		return
	}
	cats, _, err := h.categoryOptions(c, f.CategoryID, "admin.all")
	if err != nil {
		h.fail(c, err)
		return
	}
	l := lang(c)
	title, section := "admin.nav.skus", templates.SectionSKUs
	if low {
		title, section = "admin.nav.low", templates.SectionLow
	}
	h.render(c, http.StatusOK, templates.AdminSKUs(templates.AdminSKUsView{
		AdminPage:  h.adminPage(c, title, section),
		Query:      f.Query,
		Categories: cats,
		Launched: []templates.Option{
			{Value: "", Label: templates.T(l, "admin.all"), Selected: launched == ""},
			{Value: "1", Label: templates.T(l, "admin.launched"), Selected: launched == "1"},
			{Value: "0", Label: templates.T(l, "admin.withdrawn"), Selected: launched == "0"},
		},
		LowOnly: low,
		Rows:    skuRows(skus),
		Total:   pg.Total,
		Pager:   templates.NewPager(pg.Number, pg.Pages, pageURL(c)),
	}))
}

// AdminNewSKU shows the empty SKU form.
func (h *Handlers) AdminNewSKU(c *gin.Context) {
	h.skuForm(c, http.StatusOK, 0, templates.SKUForm{Threshold: "5", Stock: "0", Launched: true}, nil)
}

// AdminSKU shows a SKU's form, stock and latest ledger entries.
func (h *Handlers) AdminSKU(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	k, err := h.Store.Catalog.SKUByID(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.skuForm(c, http.StatusOK, id, templates.SKUForm{
		Name: k.Name, Caption: k.Caption, SPU: strconv.FormatInt(k.SPUID, 10), Category: strconv.FormatInt(k.CategoryID, 10),
		Price: k.Price.StringFixed(2), Image: k.DefaultImage, Threshold: strconv.Itoa(k.LowStockThreshold), Launched: k.IsLaunched,
	}, nil)
}

func (h *Handlers) skuForm(c *gin.Context, status int, id int64, form templates.SKUForm, errs map[string]string) {
	ctx := c.Request.Context()
	spuID, _ := strconv.ParseInt(form.SPU, 10, 64)
	catID, _ := strconv.ParseInt(form.Category, 10, 64)
	cats, _, err := h.categoryOptions(c, catID, "admin.err.choose")
	if err != nil {
		h.fail(c, err)
		return
	}
	spus, err := h.Store.Admin.AllSPUs(ctx)
	if err != nil {
		h.fail(c, err)
		return
	}
	spuOpts := []templates.Option{{Value: "", Label: templates.T(lang(c), "admin.err.choose"), Selected: spuID == 0}}
	for _, p := range spus {
		spuOpts = append(spuOpts, templates.Option{Value: strconv.FormatInt(p.ID, 10), Label: p.Name, Selected: p.ID == spuID})
	}
	v := templates.AdminSKUView{AdminPage: h.adminPage(c, "admin.nav.skus", templates.SectionSKUs),
		ID: id, Form: form, Errors: errs, SPUs: spuOpts, Categories: cats}
	if id != 0 {
		k, err := h.Store.Catalog.SKUByID(ctx, id)
		if err != nil {
			h.fail(c, err)
			return
		}
		v.Stock, v.Sales, v.Launched, v.Image = k.Stock, k.Sales, k.IsLaunched, k.DefaultImage
		if err := h.skuCatalogFacts(ctx, &v, k); err != nil {
			h.fail(c, err)
			return
		}
		rows, _, err := h.Store.Ledger.Ledger(ctx, models.LedgerFilter{SKUID: id}, 1)
		if err != nil {
			h.fail(c, err)
			return
		}
		v.Ledger = ledgerRows(rows[:min(len(rows), 10)])
	}
	h.render(c, status, templates.AdminSKU(v))
}

// parseSKUForm reads and checks the SKU form. Messages are keyed by field.
func parseSKUForm(c *gin.Context, l templates.Lang, creating bool) (templates.SKUForm, models.SKUInput, map[string]string) {
	f := templates.SKUForm{
		Name: strings.TrimSpace(c.PostForm("name")), Caption: strings.TrimSpace(c.PostForm("caption")),
		SPU: c.PostForm("spu"), Category: c.PostForm("category"), Price: strings.TrimSpace(c.PostForm("price")),
		Image: strings.TrimSpace(c.PostForm("image")), Threshold: strings.TrimSpace(c.PostForm("threshold")),
		Stock: strings.TrimSpace(c.PostForm("stock")), Launched: c.PostForm("launched") == "1",
	}
	errs := map[string]string{}
	in := models.SKUInput{Name: f.Name, Caption: f.Caption, Image: f.Image, Launched: f.Launched}
	switch {
	case f.Name == "":
		errs["name"] = templates.T(l, "admin.err.required")
	case utf8.RuneCountInString(f.Name) > models.MaxNameLen:
		errs["name"] = templates.T(l, "admin.err.too_long")
	}
	if utf8.RuneCountInString(f.Caption) > models.MaxCaptionLen {
		errs["caption"] = templates.T(l, "admin.err.too_long")
	}
	checkTexts(l, errs, map[string]string{"name": f.Name, "caption": f.Caption}, false)
	var err error
	if in.SPUID, err = strconv.ParseInt(f.SPU, 10, 64); err != nil || in.SPUID < 1 {
		errs["spu"] = templates.T(l, "admin.err.choose")
	}
	if in.CategoryID, err = strconv.ParseInt(f.Category, 10, 64); err != nil || in.CategoryID < 1 {
		errs["category"] = templates.T(l, "admin.err.choose")
	}
	price, err := decimal.NewFromString(f.Price)
	if err != nil || price.IsNegative() || !price.Equal(price.Round(2)) || price.GreaterThan(decimal.New(1e10-1, -2)) {
		errs["price"] = templates.T(l, "admin.err.price")
	}
	in.Price = price
	if f.Image != "" && !models.LocalImage(f.Image) {
		errs["image"] = templates.T(l, "admin.err.image")
	}
	if in.LowStockThreshold, err = strconv.Atoi(f.Threshold); err != nil || in.LowStockThreshold < 0 || in.LowStockThreshold > models.MaxStock {
		errs["threshold"] = templates.T(l, "admin.err.count")
	}
	if creating {
		if in.Stock, err = strconv.Atoi(f.Stock); err != nil || in.Stock < 0 || in.Stock > models.MaxStock {
			errs["stock"] = templates.T(l, "admin.err.count")
		}
	}
	return f, in, errs
}

// AdminCreateSKU creates a SKU from the form.
func (h *Handlers) AdminCreateSKU(c *gin.Context) {
	l := lang(c)
	form, in, errs := parseSKUForm(c, l, true)
	if len(errs) > 0 {
		h.skuForm(c, http.StatusBadRequest, 0, form, errs)
		return
	}
	k, err := h.Store.Admin.CreateSKU(c.Request.Context(), in)
	if errors.Is(err, models.ErrNotFound) {
		h.skuForm(c, http.StatusBadRequest, 0, form, map[string]string{"spu": templates.T(l, "admin.err.choose")})
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.back(c, "/admin/skus/"+strconv.FormatInt(k.ID, 10)+"/", "admin.flash.created", false)
}

// AdminUpdateSKU saves the SKU form (never the stock).
func (h *Handlers) AdminUpdateSKU(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	l := lang(c)
	form, in, errs := parseSKUForm(c, l, false)
	if len(errs) > 0 {
		h.skuForm(c, http.StatusBadRequest, id, form, errs)
		return
	}
	err = h.Store.Admin.UpdateSKU(c.Request.Context(), id, in)
	h.skus.evict(id)
	if errors.Is(err, models.ErrNotFound) {
		if _, err := h.Store.Catalog.SKUByID(c.Request.Context(), id); err != nil {
			h.fail(c, err)
			return
		}
		h.skuForm(c, http.StatusBadRequest, id, form, map[string]string{"spu": templates.T(l, "admin.err.choose")})
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.back(c, c.Request.URL.Path, "admin.flash.saved", false)
}

// AdminLaunchSKU launches (launched=1) or withdraws (launched=0) a SKU.
func (h *Handlers) AdminLaunchSKU(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	on := c.PostForm("launched")
	if on != "0" && on != "1" {
		h.fail(c, badField("launched", "err.field.type"))
		return
	}
	err = h.Store.Admin.SetLaunched(c.Request.Context(), id, on == "1")
	h.skus.evict(id)
	if err != nil {
		h.fail(c, err)
		return
	}
	key := "admin.flash.withdrawn"
	if on == "1" {
		key = "admin.flash.launched"
	}
	h.back(c, "/admin/skus/"+strconv.FormatInt(id, 10)+"/", key, false)
}

// AdminAdjustStock applies a stock change entered as a delta with a reason.
func (h *Handlers) AdminAdjustStock(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	to := "/admin/skus/" + strconv.FormatInt(id, 10) + "/"
	delta, err := strconv.Atoi(strings.TrimSpace(c.PostForm("delta")))
	note := strings.TrimSpace(c.PostForm("note"))
	switch {
	case err != nil || delta == 0 || delta > models.MaxStock || delta < -models.MaxStock:
		h.back(c, to, "admin.flash.bad_delta", true)
		return
	case note == "" || utf8.RuneCountInString(note) > models.MaxNoteLen:
		h.back(c, to, "admin.flash.bad_note", true)
		return
	case models.CheckText(note, false) != "":
		h.back(c, to, "admin.flash.bad_note_text", true)
		return
	}
	e, err := h.Store.Admin.AdjustStock(c.Request.Context(), models.Adjustment{SKUID: id, Delta: delta, StaffID: h.staffID(c), Note: note})
	var se *models.StockError
	if errors.As(err, &se) {
		h.back(c, to, "admin.flash.too_low", true, se.Left)
		return
	}
	var ce *models.StockCapError
	if errors.As(err, &ce) {
		h.back(c, to, "admin.flash.too_high", true, ce.Room)
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.back(c, to, "admin.flash.adjusted", false, e.StockAfter)
}

// AdminSPUs lists products with search and a category filter.
func (h *Handlers) AdminSPUs(c *gin.Context) {
	page, err := pageParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	cat, err := queryInt(c, "category")
	if err != nil {
		h.fail(c, err)
		return
	}
	rows, pg, err := h.Store.Admin.AdminSPUs(c.Request.Context(), c.Query("q"), cat, page)
	if err != nil {
		h.fail(c, err)
		return
	}
	opts, names, err := h.categoryOptions(c, cat, "admin.all")
	if err != nil {
		h.fail(c, err)
		return
	}
	v := templates.AdminSPUsView{AdminPage: h.adminPage(c, "admin.nav.spus", templates.SectionSPUs), Query: c.Query("q"),
		Categories: opts, Total: pg.Total, Pager: templates.NewPager(pg.Number, pg.Pages, pageURL(c))}
	for _, r := range rows {
		v.Rows = append(v.Rows, templates.AdminSPURow{ID: r.ID, Name: r.Name, Category: names[r.CategoryID], Sales: r.Sales, SKUs: r.SKUCount})
	}
	h.render(c, http.StatusOK, templates.AdminSPUs(v))
}

// AdminNewSPU shows the empty product form.
func (h *Handlers) AdminNewSPU(c *gin.Context) {
	h.spuForm(c, http.StatusOK, 0, templates.SPUForm{}, nil)
}

// AdminSPU shows a product's form.
func (h *Handlers) AdminSPU(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	p, err := h.Store.Admin.SPUByID(c.Request.Context(), id)
	if err != nil {
		h.fail(c, err)
		return
	}
	h.spuForm(c, http.StatusOK, id, templates.SPUForm{Name: p.Name, Category: strconv.FormatInt(p.CategoryID, 10), Desc: p.DescDetail}, nil)
}

func (h *Handlers) spuForm(c *gin.Context, status int, id int64, form templates.SPUForm, errs map[string]string) {
	cat, _ := strconv.ParseInt(form.Category, 10, 64)
	opts, _, err := h.categoryOptions(c, cat, "admin.err.choose")
	if err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, status, templates.AdminSPU(templates.AdminSPUView{AdminPage: h.adminPage(c, "admin.nav.spus", templates.SectionSPUs),
		ID: id, Form: form, Errors: errs, Categories: opts}))
}

// checkTexts sets the message of each field whose text models.CheckText
// refuses, unless the field already has one.
func checkTexts(l templates.Lang, errs map[string]string, fields map[string]string, multiline bool) {
	for field, v := range fields {
		if p := models.CheckText(v, multiline); p != "" && errs[field] == "" {
			errs[field] = templates.T(l, textKeys[p])
		}
	}
}

// maxDescLen bounds a product description, in characters.
const maxDescLen = 5000

func parseSPUForm(c *gin.Context, l templates.Lang) (templates.SPUForm, models.SPUInput, map[string]string) {
	f := templates.SPUForm{Name: strings.TrimSpace(c.PostForm("name")), Category: c.PostForm("category"), Desc: strings.TrimSpace(c.PostForm("desc"))}
	errs := map[string]string{}
	in := models.SPUInput{Name: f.Name, Desc: f.Desc}
	switch {
	case f.Name == "":
		errs["name"] = templates.T(l, "admin.err.required")
	case utf8.RuneCountInString(f.Name) > models.MaxNameLen:
		errs["name"] = templates.T(l, "admin.err.too_long")
	}
	var err error
	if in.CategoryID, err = strconv.ParseInt(f.Category, 10, 64); err != nil || in.CategoryID < 1 {
		errs["category"] = templates.T(l, "admin.err.choose")
	}
	if utf8.RuneCountInString(f.Desc) > maxDescLen {
		errs["desc"] = templates.T(l, "admin.err.too_long")
	}
	checkTexts(l, errs, map[string]string{"name": f.Name}, false)
	checkTexts(l, errs, map[string]string{"desc": f.Desc}, true)
	return f, in, errs
}

// AdminCreateSPU creates a product from the form.
func (h *Handlers) AdminCreateSPU(c *gin.Context) {
	l := lang(c)
	form, in, errs := parseSPUForm(c, l)
	if len(errs) > 0 {
		h.spuForm(c, http.StatusBadRequest, 0, form, errs)
		return
	}
	p, err := h.Store.Admin.CreateSPU(c.Request.Context(), in)
	if errors.Is(err, models.ErrNotFound) {
		h.spuForm(c, http.StatusBadRequest, 0, form, map[string]string{"category": templates.T(l, "admin.err.choose")})
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.back(c, "/admin/spus/"+strconv.FormatInt(p.ID, 10)+"/", "admin.flash.created", false)
}

// AdminUpdateSPU saves the product form.
func (h *Handlers) AdminUpdateSPU(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	l := lang(c)
	form, in, errs := parseSPUForm(c, l)
	if len(errs) > 0 {
		h.spuForm(c, http.StatusBadRequest, id, form, errs)
		return
	}
	err = h.Store.Admin.UpdateSPU(c.Request.Context(), id, in)
	if errors.Is(err, models.ErrNotFound) {
		if _, err := h.Store.Admin.SPUByID(c.Request.Context(), id); err != nil {
			h.fail(c, err)
			return
		}
		h.spuForm(c, http.StatusBadRequest, id, form, map[string]string{"category": templates.T(l, "admin.err.choose")})
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	h.back(c, c.Request.URL.Path, "admin.flash.saved", false)
}

// AdminLedger is the stock history, per SKU and reason.
func (h *Handlers) AdminLedger(c *gin.Context) {
	page, err := pageParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	sku, err := queryInt(c, "sku")
	if err != nil {
		h.fail(c, err)
		return
	}
	reason := c.Query("reason")
	rows, pg, err := h.Store.Ledger.Ledger(c.Request.Context(), models.LedgerFilter{SKUID: sku, Reason: reason}, page)
	if err != nil {
		h.fail(c, err)
		return
	}
	l := lang(c)
	reasons := []templates.Option{{Value: "", Label: templates.T(l, "admin.all"), Selected: reason == ""}}
	for _, r := range models.Reasons() {
		reasons = append(reasons, templates.Option{Value: r, Label: templates.T(l, "admin.reason."+r), Selected: r == reason})
	}
	v := templates.AdminLedgerView{AdminPage: h.adminPage(c, "admin.nav.ledger", templates.SectionLedger),
		Reasons: reasons, Rows: ledgerRows(rows), Total: pg.Total, Pager: templates.NewPager(pg.Number, pg.Pages, pageURL(c))}
	if sku > 0 {
		v.SKU = strconv.FormatInt(sku, 10)
	}
	h.render(c, http.StatusOK, templates.AdminLedger(v))
}

func ledgerRows(rows []models.LedgerRow) []templates.LedgerRowView {
	out := make([]templates.LedgerRowView, len(rows))
	for i, r := range rows {
		out[i] = templates.LedgerRowView{ID: r.ID, Time: r.CreateTime, SKUID: r.SKUID, SKUName: r.SKUName, Delta: r.Delta,
			After: r.StockAfter, Reason: r.Reason, Who: r.Username, Note: r.Note}
		if r.OrderID != nil {
			out[i].OrderID = *r.OrderID
		}
	}
	return out
}

// AdminOrders lists orders, filtered by status, buyer and dates.
func (h *Handlers) AdminOrders(c *gin.Context) {
	page, err := pageParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	status, err := queryInt(c, "status")
	if err != nil || status > models.StatusCanceled {
		h.fail(c, badField("status", "err.field.type"))
		return
	}
	f := models.OrderFilter{Status: int(status), Username: strings.TrimSpace(c.Query("user"))}
	from, to := strings.TrimSpace(c.Query("from")), strings.TrimSpace(c.Query("to"))
	if from != "" {
		if f.From, err = time.ParseInLocation(time.DateOnly, from, beijing); err != nil {
			h.fail(c, badField("from", "admin.err.date"))
			return
		}
	}
	if to != "" {
		day, err := time.ParseInLocation(time.DateOnly, to, beijing)
		if err != nil {
			h.fail(c, badField("to", "admin.err.date"))
			return
		}
		f.To = day.AddDate(0, 0, 1)
	}
	orders, names, pg, err := h.Store.Admin.AdminOrders(c.Request.Context(), f, page)
	if err != nil {
		h.fail(c, err)
		return
	}
	l := lang(c)
	statuses := []templates.Option{{Value: "", Label: templates.T(l, "admin.all"), Selected: status == 0}}
	for s := models.StatusUnpaid; s <= models.StatusCanceled; s++ {
		statuses = append(statuses, templates.Option{Value: strconv.Itoa(s), Label: templates.T(l, "order.status."+strconv.Itoa(s)), Selected: int64(s) == status})
	}
	h.render(c, http.StatusOK, templates.AdminOrders(templates.AdminOrdersView{
		AdminPage: h.adminPage(c, "admin.nav.orders", templates.SectionOrders),
		Statuses:  statuses, User: f.Username, From: from, To: to,
		Rows: orderRows(orders, names), Total: pg.Total, Pager: templates.NewPager(pg.Number, pg.Pages, pageURL(c)),
	}))
}

// AdminOrder shows one order with the moves its status allows.
func (h *Handlers) AdminOrder(c *gin.Context) {
	d, err := h.Store.Admin.AdminOrder(c.Request.Context(), c.Param("order_id"))
	if err != nil {
		h.fail(c, err)
		return
	}
	o := d.Order
	view := templates.OrderView{OrderID: o.OrderID, Created: o.CreateTime, Status: o.Status, PayMethod: o.PayMethod,
		Count: o.TotalCount, Freight: o.Freight, Total: o.TotalAmount}
	for _, l := range o.Lines {
		k, ok := d.SKUs[l.SKUID]
		view.Lines = append(view.Lines, templates.OrderLineView{SKUID: l.SKUID, Name: k.Name, Image: k.DefaultImage,
			Price: l.Price, Count: l.Count, Amount: l.Price.Mul(decimal.NewFromInt(int64(l.Count))), Detailed: ok})
	}
	a := d.Address
	v := templates.AdminOrderView{
		AdminPage: h.adminPage(c, "admin.nav.orders", templates.SectionOrders),
		Order:     view, Buyer: d.Buyer, Receiver: a.Receiver, Mobile: a.Mobile,
		Address:     a.Province + a.City + a.District + a.Place,
		CanCancel:   o.Status == models.StatusUnpaid || o.Status == models.StatusUnsend,
		CanShip:     o.Status == models.StatusUnsend,
		CanComplete: o.Status == models.StatusUnreceived || o.Status == models.StatusUncomment,
		CanMarkPaid: o.Status == models.StatusUnpaid && o.PayMethod == models.PayOnline,
	}
	if err := h.orderHistory(c.Request.Context(), d, &v); err != nil {
		h.fail(c, err)
		return
	}
	h.render(c, http.StatusOK, templates.AdminOrder(v))
}

// orderHistory adds an order's payments and status changes to its page.
func (h *Handlers) orderHistory(ctx context.Context, d *models.OrderDetail, v *templates.AdminOrderView) error {
	pays, err := h.Orders.Payments(ctx, d.Order.OrderID)
	if err != nil {
		return err
	}
	for _, p := range pays {
		row := templates.PaymentRow{Time: p.CreateTime, TradeID: p.TradeID, Offline: p.Offline, Amount: p.Amount, ToRefund: p.ToRefund}
		if p.RefundTime != nil {
			row.RefundedAt = *p.RefundTime
		}
		v.Payments = append(v.Payments, row)
	}
	events, err := h.Orders.Events(ctx, d.Order.OrderID)
	if err != nil {
		return err
	}
	names := map[int64]string{d.Order.UserID: d.Buyer}
	for _, e := range events {
		row := templates.OrderEventRow{Time: e.CreateTime, To: e.ToStatus, Why: e.Why, Note: e.Note}
		if e.FromStatus != nil {
			row.From = *e.FromStatus
		}
		if e.UserID != nil {
			name, ok := names[*e.UserID]
			if !ok {
				u, err := h.Store.Accounts.UserByID(ctx, *e.UserID)
				if err != nil {
					return err
				}
				name, names[*e.UserID] = u.Username, u.Username
			}
			row.Who = name
		}
		v.Events = append(v.Events, row)
	}
	return nil
}

// AdminCancelOrder cancels an unpaid or unshipped order; its stock comes
// back once, however many staff click.
func (h *Handlers) AdminCancelOrder(c *gin.Context) {
	staff := h.staffID(c)
	h.moveOrder(c, "admin.flash.canceled", func(ctx context.Context, id string) error {
		return h.Orders.CancelOrder(ctx, id, &staff, "")
	})
}

// AdminShipOrder marks an order awaiting shipment as shipped.
func (h *Handlers) AdminShipOrder(c *gin.Context) {
	staff := h.staffID(c)
	h.moveOrder(c, "admin.flash.shipped", func(ctx context.Context, id string) error {
		return h.Orders.ShipOrder(ctx, id, &staff)
	})
}

// AdminCompleteOrder finishes a shipped order.
func (h *Handlers) AdminCompleteOrder(c *gin.Context) {
	staff := h.staffID(c)
	h.moveOrder(c, "admin.flash.completed", func(ctx context.Context, id string) error {
		return h.Orders.CompleteOrder(ctx, id, &staff)
	})
}

func (h *Handlers) moveOrder(c *gin.Context, okKey string, move func(context.Context, string) error) {
	id := c.Param("order_id")
	to := "/admin/orders/" + url.PathEscape(id) + "/"
	err := move(c.Request.Context(), id)
	switch {
	case errors.Is(err, models.ErrWrongStatus):
		h.back(c, to, "admin.flash.status", true)
	case err != nil:
		h.fail(c, err)
	default:
		h.back(c, to, okKey, false)
	}
}
