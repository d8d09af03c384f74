package models

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// PageSize is how many SKUs one list or search page holds.
const PageSize = 8

// MaxQueryLen bounds a search query, in characters.
const MaxQueryLen = 50

// Sort is the order of a category list.
type Sort string

// Sort orders, as in the Django shop.
const (
	SortDefault   Sort = "default" // newest first
	SortPrice     Sort = "price"   // cheapest first
	SortPriceDesc Sort = "-price"  // dearest first
	SortHot       Sort = "hot"     // best-selling first
)

// Catalog is what shoppers browse: categories, SPUs and launched SKUs.
type Catalog struct{ handle }

// ParseSort returns the sort named s; "price_desc" is another name of
// SortPriceDesc, and anything unknown is SortDefault.
func ParseSort(s string) Sort {
	switch Sort(s) {
	case SortPrice, SortPriceDesc, SortHot:
		return Sort(s)
	case "price_desc":
		return SortPriceDesc
	}
	return SortDefault
}

// orderBy is the ORDER BY clause of a sort; the id breaks ties so that
// pages never overlap.
func (s Sort) orderBy() string {
	switch s {
	case SortPrice:
		return "price ASC, id ASC"
	case SortPriceDesc:
		return "price DESC, id ASC"
	case SortHot:
		return "sales DESC, id ASC"
	}
	return "create_time DESC, id DESC"
}

// Shelf is a top-level category with a few of its launched SKUs.
type Shelf struct {
	Category Category
	SKUs     []SKU
}

// SKUPage is one page of launched SKUs.
type SKUPage struct {
	Number int // 1-based
	Pages  int // at least 1, even when there is nothing to show
	Total  int // SKUs over all pages
	SKUs   []SKU
}

// SKUDetail is a SKU with its product, category and sibling variants.
type SKUDetail struct {
	SKU      SKU
	SPU      SPU
	Category Category
	Path     []Category // the category's levels, top first, for breadcrumbs
	Brand    *Brand     // nil: the SPU has none
	Variants []SKU      // the SPU's launched SKUs in id order
	// Specs is one choice per specification of the SPU; empty for a SKU
	// without specifications (Variants then lists the alternatives).
	Specs   []SpecChoice
	Gallery []SKUImage // in order; empty: the default image alone
}

// Categories returns the top-level categories in id order.
func (s *Catalog) Categories(ctx context.Context) ([]Category, error) {
	var out []Category
	if err := s.db.WithContext(ctx).Where("parent_id IS NULL").Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("top-level categories: %w", err)
	}
	return out, nil
}

// Shelves returns the top-level categories in id order, each with up to
// perCategory of the launched SKUs in it or below it, best-selling first.
func (s *Catalog) Shelves(ctx context.Context, perCategory int) ([]Shelf, error) {
	t, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	cats := t.children[0]
	out := make([]Shelf, 0, len(cats))
	for _, c := range cats {
		var skus []SKU
		err := s.launched(ctx).Where("category_id IN ?", t.subtree(c.ID)).
			Order(SortHot.orderBy()).Limit(perCategory).Find(&skus).Error
		if err != nil {
			return nil, fmt.Errorf("skus of category %d: %w", c.ID, err)
		}
		out = append(out, Shelf{Category: c, SKUs: skus})
	}
	return out, nil
}

// CategoryByID returns one category. Returns ErrNotFound.
func (s *Catalog) CategoryByID(ctx context.Context, id int64) (*Category, error) {
	var c Category
	if err := s.db.WithContext(ctx).First(&c, id).Error; err != nil {
		return nil, fmt.Errorf("category %d: %w", id, translate(err))
	}
	return &c, nil
}

// CategorySKUs returns page number (1-based) of the launched SKUs of a
// category and the categories below it, in the given sort. (The Django
// shop lists third-level categories only; the first two levels list their
// whole subtree, so the menu's every level and SKUs filed under a top
// level, from before three levels, all list.) Returns ErrNotFound if the
// category does not exist or the page is out of range; an empty category
// has one empty page.
func (s *Catalog) CategorySKUs(ctx context.Context, categoryID int64, sort Sort, number int) (*Category, SKUPage, error) {
	t, err := s.tree(ctx)
	if err != nil {
		return nil, SKUPage{}, err
	}
	c, ok := t.byID[categoryID]
	if !ok {
		return nil, SKUPage{}, fmt.Errorf("category %d: %w", categoryID, ErrNotFound)
	}
	q := s.launched(ctx).Where("category_id IN ?", t.subtree(categoryID))
	pg, err := paginate(q, sort.orderBy(), number)
	if err != nil {
		return nil, SKUPage{}, fmt.Errorf("category %d page %d: %w", categoryID, number, err)
	}
	return &c, pg, nil
}

// SKUDetailByID returns a SKU with its SPU, category and launched
// variants. A withdrawn SKU is returned too, with IsLaunched false: the
// caller decides who may see it. Returns ErrNotFound.
func (s *Catalog) SKUDetailByID(ctx context.Context, id int64) (*SKUDetail, error) {
	k, err := s.SKUByID(ctx, id)
	if err != nil {
		return nil, err
	}
	d := SKUDetail{SKU: *k}
	db := s.db.WithContext(ctx)
	if err := db.First(&d.SPU, k.SPUID).Error; err != nil {
		return nil, fmt.Errorf("spu %d of sku %d: %w", k.SPUID, id, translate(err))
	}
	if err := db.First(&d.Category, k.CategoryID).Error; err != nil {
		return nil, fmt.Errorf("category %d of sku %d: %w", k.CategoryID, id, translate(err))
	}
	if d.SPU.BrandID != nil {
		if d.Brand, err = s.BrandByID(ctx, *d.SPU.BrandID); err != nil {
			return nil, err
		}
	}
	if d.Path, err = s.CategoryPath(ctx, k.CategoryID); err != nil {
		return nil, err
	}
	comb, err := s.combinations(ctx, k.SPUID)
	if err != nil {
		return nil, err
	}
	d.Variants = comb.skus
	if len(comb.specs) == 0 {
		if err := s.launched(ctx).Where("spu_id = ?", k.SPUID).Order("id").Find(&d.Variants).Error; err != nil {
			return nil, fmt.Errorf("variants of spu %d: %w", k.SPUID, err)
		}
	}
	d.Specs = comb.choices(k.ID)
	if d.Gallery, err = s.Gallery(ctx, k.ID); err != nil {
		return nil, err
	}
	return &d, nil
}

// PopularSKUs returns the n best-selling launched SKUs, for an empty
// search or an empty shelf.
func (s *Catalog) PopularSKUs(ctx context.Context, n int) ([]SKU, error) {
	var out []SKU
	if err := s.launched(ctx).Order(SortHot.orderBy()).Limit(n).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("popular skus: %w", err)
	}
	return out, nil
}

// SearchSKUs returns page number (1-based) of the launched SKUs whose name
// or caption contains q, ignoring case, best-selling first. q is taken
// literally: % and _ are not wildcards. Returns ErrInvalid if q is blank or
// longer than MaxQueryLen characters, and ErrNotFound if the page is out of
// range; no match is one empty page.
func (s *Catalog) SearchSKUs(ctx context.Context, q string, number int) (SKUPage, error) {
	q = strings.TrimSpace(q)
	if q == "" || utf8.RuneCountInString(q) > MaxQueryLen {
		return SKUPage{}, fmt.Errorf("search %q: %w: the query must be 1 to %d characters", q, ErrInvalid, MaxQueryLen)
	}
	pattern := "%" + escapeLike(strings.ToLower(q)) + "%"
	// LOWER on both sides: PostgreSQL's LIKE is case-sensitive. '!' as the
	// escape character reads the same in every dialect's string literals,
	// unlike a backslash.
	where := s.launched(ctx).Where("(LOWER(name) LIKE ? ESCAPE '!' OR LOWER(caption) LIKE ? ESCAPE '!')", pattern, pattern)
	pg, err := paginate(where, SortHot.orderBy(), number)
	if err != nil {
		return SKUPage{}, fmt.Errorf("search %q page %d: %w", q, number, err)
	}
	return pg, nil
}

// escapeLike makes every LIKE wildcard in s literal, for ESCAPE '!'.
func escapeLike(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// launched starts a query over the SKUs shoppers may see.
func (s *Catalog) launched(ctx context.Context) *gorm.DB {
	return s.db.WithContext(ctx).Model(&SKU{}).Where("is_launched = ?", true)
}

// paginate counts the rows of q and loads page number in the given order.
// Returns ErrNotFound if number is out of range.
func paginate(q *gorm.DB, orderBy string, number int) (SKUPage, error) {
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return SKUPage{}, err
	}
	pages := max(1, int((total+PageSize-1)/PageSize))
	if number < 1 || number > pages {
		return SKUPage{}, ErrNotFound
	}
	pg := SKUPage{Number: number, Pages: pages, Total: int(total)}
	err := q.Session(&gorm.Session{}).Order(orderBy).Offset((number - 1) * PageSize).Limit(PageSize).Find(&pg.SKUs).Error
	if err != nil {
		return SKUPage{}, err
	}
	return pg, nil
}

// SKUByID returns one SKU, launched or not. Returns ErrNotFound.
func (s *Catalog) SKUByID(ctx context.Context, id int64) (*SKU, error) {
	var k SKU
	if err := s.db.WithContext(ctx).First(&k, id).Error; err != nil {
		return nil, fmt.Errorf("sku %d: %w", id, translate(err))
	}
	return &k, nil
}

// SKUsByIDs returns the SKUs with these ids, in ascending id order; ids that
// do not exist are simply missing from the result.
func (s *Catalog) SKUsByIDs(ctx context.Context, ids []int64) ([]SKU, error) {
	var out []SKU
	if len(ids) == 0 {
		return out, nil
	}
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("skus %v: %w", ids, err)
	}
	return out, nil
}
