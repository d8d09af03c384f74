package templates

import (
	"fmt"
	"time"

	"github.com/shopspring/decimal"
)

// LowStock is the stock at or under which a product page warns "only N left".
const LowStock = 5

// Card is a SKU as a product card or a product page shows it.
type Card struct {
	ID          int64
	Name        string
	Caption     string
	Price       decimal.Decimal
	MarketPrice decimal.Decimal
	Image       string
	Stock       int
	Sales       int
}

// URL is the SKU's product page.
func (c Card) URL() string { return "/detail/" + i64(c.ID) + "/" }

// Discounted reports whether the market price is above the price, so it is
// worth showing struck through.
func (c Card) Discounted() bool { return c.MarketPrice.GreaterThan(c.Price) }

// CategoryLink is a category as a link.
type CategoryLink struct {
	ID     int64
	Name   string
	Active bool
	Href   string // where the link leads instead of the list ("": the list)
}

// URL is where the link leads: Href, or the first page of the category's
// list.
func (c CategoryLink) URL() string {
	if c.Href != "" {
		return c.Href
	}
	return "/list/" + i64(c.ID) + "/1/"
}

// MenuGroup is a row of the home page's category menu (a channel group).
type MenuGroup struct {
	Name    string
	Entries []MenuEntry
}

// MenuEntry is a first-level category of the menu with the levels below.
type MenuEntry struct {
	Category CategoryLink
	Subs     []MenuSub
}

// MenuSub is a second-level category with its third-level ones.
type MenuSub struct {
	Category CategoryLink
	Leaves   []CategoryLink
}

// SaleCard is a flash sale as the home and product pages announce it.
type SaleCard struct {
	SKU   Card // Price is the everyday price
	Price decimal.Decimal
	Start time.Time
	End   time.Time
	Live  bool // started; otherwise upcoming
	Now   time.Time
}

// URL is the sale's page.
func (s SaleCard) URL() string { return "/seckill/" + i64(s.SKU.ID) + "/" }

// countdownText writes a time left as static/js/detail.js does:
// "1d 02:03:04", or "02:03:04" under a day.
func countdownText(d time.Duration) string {
	sec := max(0, int64(d/time.Second))
	hms := fmt.Sprintf("%02d:%02d:%02d", sec/3600%24, sec/60%60, sec%60)
	if days := sec / 86400; days > 0 {
		return fmt.Sprintf("%dd %s", days, hms)
	}
	return hms
}

// Shelf is a home page row: a category and some of its SKUs.
type Shelf struct {
	Category CategoryLink
	Cards    []Card
}

// HomeView is the home page.
type HomeView struct {
	Page
	Categories []CategoryLink
	Menu       []MenuGroup
	Sales      []SaleCard // running or starting soon
	Shelves    []Shelf
}

// SortOption is a tab of the list page.
type SortOption struct {
	Key    string // default, price, price_desc or hot
	URL    string
	Active bool
}

// ListView is a category's list page.
type ListView struct {
	Page
	Breadcrumbs []CategoryLink // top level first, the category last
	// Subcategories is the level below the category, or a third level's
	// siblings (the category marked Active).
	Subcategories []CategoryLink
	Category      CategoryLink
	Categories    []CategoryLink
	Sorts         []SortOption
	Total         int
	Cards         []Card
	Pager         Pager
}

// Variant is another SKU of the same product, as a link on a product page.
type Variant struct {
	URL     string
	Label   string
	Current bool
	SoldOut bool
}

// DetailView is a product page.
type DetailView struct {
	Page
	SKU         Card
	ProductName string
	Description string
	Brand       string // "" when the product has none
	Category    CategoryLink
	Breadcrumbs []CategoryLink // top level first
	Gallery     []string       // picture URLs, the first shown first; at least one
	Specs       []SpecView     // one choice per specification; empty: Variants
	Variants    []Variant
	MaxCount    int       // the most one add-to-cart may ask for
	Sale        *SaleCard // the SKU's flash sale, running or soon; nil for none
	Reviews     SKUReviewsView
}

// SpecView is one specification of a product page and its options.
type SpecView struct {
	Name    string
	Options []SpecOptionView
}

// SpecOptionView is one option: a link to the SKU with it and the other
// current choices, or disabled (URL "") when there is no such SKU.
type SpecOptionView struct {
	Label   string
	URL     string
	Current bool
	SoldOut bool
}

// SearchView is the search page; Query empty shows a hint instead of results.
type SearchView struct {
	Page
	Total   int
	Cards   []Card
	Pager   Pager
	Popular []Card // best sellers, offered when the query is empty or finds nothing
}

// Pager is the page links under a list.
type Pager struct {
	Number, Pages int
	Prev, Next    string // empty on the first and last page
	Links         []PageLink
}

// PageLink is one numbered link of a Pager; URL empty is a gap ("…").
type PageLink struct {
	Number  int
	URL     string
	Current bool
}

// NewPager builds the links for page number of pages; url gives page n's
// address. Long ranges show the first and last pages and two around the
// current one, with gaps between.
func NewPager(number, pages int, url func(n int) string) Pager {
	p := Pager{Number: number, Pages: pages}
	if number > 1 {
		p.Prev = url(number - 1)
	}
	if number < pages {
		p.Next = url(number + 1)
	}
	gap := false
	for n := 1; n <= pages; n++ {
		if n != 1 && n != pages && (n < number-2 || n > number+2) {
			if !gap {
				p.Links = append(p.Links, PageLink{})
				gap = true
			}
			continue
		}
		gap = false
		p.Links = append(p.Links, PageLink{Number: n, URL: url(n), Current: n == number})
	}
	return p
}
