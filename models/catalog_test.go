package models_test

import (
	"context"
	"errors"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/static"
)

// fixtureSKU is a row of the catalog fixture.
type fixtureSKU struct {
	id, spu, category int64
	name, caption     string
	price             string
	sales             int
	minute            int // create_time offset
	launched          bool
}

// Category 1 "Alpha" holds 11 launched SKUs and one withdrawn one that
// would lead every sort; 3 "Child" sits under Alpha with one more, which
// Alpha's list shows too (12: two pages); 2 "Empty" holds none.
var fixtureSKUs = []fixtureSKU{
	{1, 1, 1, "MiXeD Case Phone", "plain", "10.00", 5, 1, true},
	{2, 1, 1, "100% Cotton Tee", "", "20.00", 50, 2, true},
	{3, 1, 1, "snake_case mug", "", "30.00", 7, 3, true},
	{4, 1, 1, `back\slash poster`, "", "5.50", 9, 4, true},
	{5, 1, 1, "华为 Mate 手机", "国产旗舰", "4999.00", 100, 5, true},
	{6, 1, 1, "bang! lamp", "", "15.00", 3, 6, true},
	{7, 1, 1, "item a", "has 中文 说明", "99.99", 0, 7, true},
	{8, 1, 1, "item b", "", "1.00", 12, 8, true},
	{9, 1, 1, "item c", "", "12.34", 12, 8, true},
	{10, 1, 1, "item d", "", "10.00", 1, 9, true},
	{11, 1, 1, "fifty50 speaker", "", "70.00", 2, 10, true},
	{12, 1, 1, "withdrawn Cotton 100% plain", "", "0.50", 999, 11, false},
	{13, 2, 3, "child item", "", "8.00", 4, 12, true},
}

// loadFixture writes the fixture with plain SQL.
func loadFixture(t *testing.T, db testenv.DB) {
	t.Helper()
	t0 := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	exec(t, db, "INSERT INTO tb_goods_category (id, create_time, update_time, name, parent_id) VALUES (1, ?, ?, 'Alpha', NULL), (2, ?, ?, 'Empty', NULL), (3, ?, ?, 'Child', 1)",
		t0, t0, t0, t0, t0, t0)
	exec(t, db, "INSERT INTO tb_spu (id, create_time, update_time, name, sales, comments, category_id, desc_detail) VALUES (1, ?, ?, 'Fixture SPU', 0, 0, 1, ''), (2, ?, ?, 'Other SPU', 0, 0, 3, '')",
		t0, t0, t0, t0)
	for _, k := range fixtureSKUs {
		at := t0.Add(time.Duration(k.minute) * time.Minute)
		exec(t, db, "INSERT INTO tb_sku (id, create_time, update_time, name, caption, spu_id, category_id, price, cost_price, market_price, stock, sales, comments, is_launched, default_image) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 10, ?, 0, ?, '')",
			k.id, at, at, k.name, k.caption, k.spu, k.category, k.price, k.sales, k.launched)
	}
}

// exec runs one statement, with ? placeholders in every dialect.
func exec(t *testing.T, db testenv.DB, q string, args ...any) {
	t.Helper()
	if db.Name == "postgres" {
		var b strings.Builder
		n := 0
		for _, r := range q {
			if r == '?' {
				n++
				b.WriteString("$" + strconv.Itoa(n))
				continue
			}
			b.WriteRune(r)
		}
		q = b.String()
	}
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sqlDB.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func names(skus []models.SKU) []string {
	out := []string{}
	for _, k := range skus {
		out = append(out, k.Name)
	}
	return out
}

func fixtureNames(ids ...int64) []string {
	out := []string{}
	for _, id := range ids {
		out = append(out, fixtureSKUs[id-1].name)
	}
	return out
}

// wantOrder is the launched fixture SKUs of category 1 and its child 3 in
// a sort, worked out independently of the SQL.
func wantOrder(s models.Sort) []string {
	var rows []fixtureSKU
	for _, k := range fixtureSKUs {
		if (k.category == 1 || k.category == 3) && k.launched {
			rows = append(rows, k)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		switch s {
		case models.SortPrice:
			pa, pb := decimal.RequireFromString(a.price), decimal.RequireFromString(b.price)
			if !pa.Equal(pb) {
				return pa.LessThan(pb)
			}
			return a.id < b.id
		case models.SortPriceDesc:
			pa, pb := decimal.RequireFromString(a.price), decimal.RequireFromString(b.price)
			if !pa.Equal(pb) {
				return pa.GreaterThan(pb)
			}
			return a.id < b.id
		case models.SortHot:
			if a.sales != b.sales {
				return a.sales > b.sales
			}
			return a.id < b.id
		}
		if a.minute != b.minute {
			return a.minute > b.minute
		}
		return a.id > b.id
	})
	out := []string{}
	for _, k := range rows {
		out = append(out, k.name)
	}
	return out
}

func TestParseSort(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"default", "default"}, {"price", "price"}, {"hot", "hot"},
		{"-price", "-price"}, {"price_desc", "-price"},
		{"", "default"}, {"PRICE", "default"}, {"-sales", "default"}, {"price desc", "default"},
	} {
		if got := models.ParseSort(tc.in); string(got) != tc.want {
			t.Errorf("ParseSort(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCategorySKUs(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			loadFixture(t, db)

			for _, s := range []models.Sort{models.SortDefault, models.SortPrice, models.SortPriceDesc, models.SortHot} {
				t.Run(string(s), func(t *testing.T) {
					var got []string
					for n := 1; n <= 2; n++ {
						c, pg, err := db.Store.Catalog.CategorySKUs(ctx, 1, s, n)
						if err != nil {
							t.Fatalf("page %d: %v", n, err)
						}
						if c.Name != "Alpha" || pg.Number != n || pg.Pages != 2 || pg.Total != 12 {
							t.Errorf("page %d: category %q, number %d, pages %d, total %d; want Alpha, %d, 2, 12", n, c.Name, pg.Number, pg.Pages, pg.Total, n)
						}
						got = append(got, names(pg.SKUs)...)
					}
					if diff := cmp.Diff(wantOrder(s), got); diff != "" {
						t.Errorf("order (-want +got):\n%s", diff)
					}
				})
			}

			_, pg, err := db.Store.Catalog.CategorySKUs(ctx, 2, models.SortDefault, 1)
			if err != nil || len(pg.SKUs) != 0 || pg.Pages != 1 || pg.Total != 0 {
				t.Errorf("empty category page 1: %d skus, %d pages, total %d, err %v; want 0, 1, 0, nil", len(pg.SKUs), pg.Pages, pg.Total, err)
			}

			for _, tc := range []struct {
				name     string
				category int64
				page     int
			}{
				{"page past the end", 1, 3},
				{"page zero", 1, 0},
				{"negative page", 1, -1},
				{"empty category page 2", 2, 2},
				{"unknown category", 99, 1},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, _, err := db.Store.Catalog.CategorySKUs(ctx, tc.category, models.SortDefault, tc.page)
					if !errors.Is(err, models.ErrNotFound) {
						t.Errorf("CategorySKUs(%d, page %d) error = %v, want ErrNotFound", tc.category, tc.page, err)
					}
				})
			}
		})
	}
}

func TestSearchSKUs(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			loadFixture(t, db)
			for _, tc := range []struct {
				name, q string
				want    []string
			}{
				{"percent is literal", "%", fixtureNames(2)},
				{"underscore is literal", "_", fixtureNames(3)},
				{"backslash is literal", `\`, fixtureNames(4)},
				{"escape char is literal", "!", fixtureNames(6)},
				{"wildcards only", "%%", []string{}},
				{"underscore does not match any char", "c_t", []string{}},
				{"case-insensitive", "MIXED case", fixtureNames(1)},
				{"withdrawn hidden", "cotton", fixtureNames(2)},
				{"chinese name", "华为", fixtureNames(5)},
				{"chinese caption", "旗舰", fixtureNames(5)},
				{"caption, best-selling first", "plain", fixtureNames(1)},
				{"many, best-selling first", "item", fixtureNames(8, 9, 13, 10, 7)},
				{"digits", "50", fixtureNames(11)},
				{"surrounding spaces trimmed", "  lamp ", fixtureNames(6)},
				{"no match", "nothing-here", []string{}},
				{"longest query", strings.Repeat("码", models.MaxQueryLen), []string{}},
			} {
				t.Run(tc.name, func(t *testing.T) {
					pg, err := db.Store.Catalog.SearchSKUs(ctx, tc.q, 1)
					if err != nil {
						t.Fatalf("SearchSKUs(%q): %v", tc.q, err)
					}
					if diff := cmp.Diff(tc.want, names(pg.SKUs)); diff != "" {
						t.Errorf("SearchSKUs(%q) (-want +got):\n%s", tc.q, diff)
					}
					if pg.Total != len(tc.want) || pg.Pages != 1 {
						t.Errorf("SearchSKUs(%q): total %d, pages %d; want %d, 1", tc.q, pg.Total, pg.Pages, len(tc.want))
					}
				})
			}

			for _, tc := range []struct {
				name, q string
				page    int
				want    error
			}{
				{"blank", "   ", 1, models.ErrInvalid},
				{"too long", strings.Repeat("a", models.MaxQueryLen+1), 1, models.ErrInvalid},
				{"page past the end", "item", 2, models.ErrNotFound},
				{"page zero", "item", 0, models.ErrNotFound},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if _, err := db.Store.Catalog.SearchSKUs(ctx, tc.q, tc.page); !errors.Is(err, tc.want) {
						t.Errorf("SearchSKUs(%q, %d) error = %v, want %v", tc.q, tc.page, err, tc.want)
					}
				})
			}

			// 11 launched SKUs contain an "e" or an "E": two pages.
			var got []string
			for n := 1; n <= 2; n++ {
				pg, err := db.Store.Catalog.SearchSKUs(ctx, "e", n)
				if err != nil {
					t.Fatalf("search e page %d: %v", n, err)
				}
				if pg.Pages != 2 {
					t.Errorf("search e: %d pages, want 2", pg.Pages)
				}
				got = append(got, names(pg.SKUs)...)
			}
			if len(got) != 11 || slices.Contains(got, fixtureSKUs[11].name) {
				t.Errorf("search e over two pages = %q, want the 11 launched SKUs with an e", got)
			}
		})
	}
}

func TestSKUDetailAndShelves(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			loadFixture(t, db)

			d, err := db.Store.Catalog.SKUDetailByID(ctx, 5)
			if err != nil {
				t.Fatal(err)
			}
			if d.SKU.Name != "华为 Mate 手机" || !d.SKU.Price.Equal(decimal.RequireFromString("4999")) || d.SPU.Name != "Fixture SPU" || d.Category.Name != "Alpha" {
				t.Errorf("detail 5 = %q %s, spu %q, category %q; want 华为 Mate 手机 4999, Fixture SPU, Alpha", d.SKU.Name, d.SKU.Price, d.SPU.Name, d.Category.Name)
			}
			var variants []int64
			for _, v := range d.Variants {
				variants = append(variants, v.ID)
			}
			if diff := cmp.Diff([]int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, variants); diff != "" {
				t.Errorf("variants (-want +got):\n%s", diff)
			}

			w, err := db.Store.Catalog.SKUDetailByID(ctx, 12)
			if err != nil || w.SKU.IsLaunched {
				t.Errorf("withdrawn detail: launched %v, err %v; want false, nil", w != nil && w.SKU.IsLaunched, err)
			}
			if _, err := db.Store.Catalog.SKUDetailByID(ctx, 999); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown sku error = %v, want ErrNotFound", err)
			}

			shelves, err := db.Store.Catalog.Shelves(ctx, 4)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, s := range shelves {
				got[s.Category.Name] = names(s.SKUs)
			}
			want := map[string][]string{"Alpha": fixtureNames(5, 2, 8, 9), "Empty": {}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("shelves (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadDemo(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			empty, err := db.Store.Catalog.CatalogEmpty(ctx)
			if err != nil || !empty {
				t.Fatalf("CatalogEmpty on a new database = %v, %v; want true", empty, err)
			}
			for i, want := range []bool{true, false} {
				loaded, err := db.Store.Catalog.LoadDemo(ctx)
				if err != nil || loaded != want {
					t.Fatalf("LoadDemo call %d = %v, %v; want %v, nil", i+1, loaded, err, want)
				}
			}
			if empty, err := db.Store.Catalog.CatalogEmpty(ctx); err != nil || empty {
				t.Errorf("CatalogEmpty after LoadDemo = %v, %v; want false", empty, err)
			}

			sqlDB, err := db.Store.SQL()
			if err != nil {
				t.Fatal(err)
			}
			count := func(q string) int {
				t.Helper()
				var n int
				if err := sqlDB.QueryRow(q).Scan(&n); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				return n
			}
			for _, tc := range []struct {
				name, q string
				want    int
			}{
				{"categories", "SELECT COUNT(*) FROM tb_goods_category", 26},
				{"top levels", "SELECT COUNT(*) FROM tb_goods_category WHERE parent_id IS NULL", 5},
				{"skus not on a third level", "SELECT COUNT(*) FROM tb_sku k JOIN tb_goods_category c3 ON c3.id = k.category_id JOIN tb_goods_category c2 ON c2.id = c3.parent_id WHERE c2.parent_id IS NULL", 0},
				{"top levels without a channel", "SELECT COUNT(*) FROM tb_goods_category c WHERE c.parent_id IS NULL AND NOT EXISTS (SELECT 1 FROM tb_goods_channel ch WHERE ch.category_id = c.id)", 0},
				{"spus", "SELECT COUNT(*) FROM tb_spu", 13},
				{"spus without a brand", "SELECT COUNT(*) FROM tb_spu WHERE brand_id IS NULL", 0},
				{"skus", "SELECT COUNT(*) FROM tb_sku", 35},
				{"skus without a gallery", "SELECT COUNT(*) FROM tb_sku k WHERE NOT EXISTS (SELECT 1 FROM tb_sku_image i WHERE i.sku_id = k.id)", 0},
				{"skus missing an option", "SELECT COUNT(*) FROM tb_sku k JOIN tb_spu_specification sp ON sp.spu_id = k.spu_id WHERE NOT EXISTS (SELECT 1 FROM tb_sku_specification ks WHERE ks.sku_id = k.id AND ks.spec_id = sp.id)", 0},
				{"spus with two specifications", "SELECT COUNT(*) FROM (SELECT spu_id FROM tb_spu_specification GROUP BY spu_id HAVING COUNT(*) = 2) t", 10},
				{"withdrawn", "SELECT COUNT(*) FROM tb_sku WHERE is_launched = FALSE", 1},
				{"orphan skus", "SELECT COUNT(*) FROM tb_sku k LEFT JOIN tb_spu p ON p.id = k.spu_id LEFT JOIN tb_goods_category c ON c.id = k.category_id WHERE p.id IS NULL OR c.id IS NULL OR p.category_id <> k.category_id", 0},
				{"bad prices", "SELECT COUNT(*) FROM tb_sku WHERE price <= 0 OR market_price < price OR cost_price <= 0 OR cost_price >= price", 0},
				{"bad stock", "SELECT COUNT(*) FROM tb_sku WHERE stock < 0 OR stock > 200", 0},
				{"spu sales not the sum of its skus", "SELECT COUNT(*) FROM tb_spu p WHERE p.sales <> (SELECT SUM(k.sales) FROM tb_sku k WHERE k.spu_id = p.id)", 0},
				{"sku-less spus", "SELECT COUNT(*) FROM tb_spu p WHERE NOT EXISTS (SELECT 1 FROM tb_sku k WHERE k.spu_id = p.id)", 0},
			} {
				if got := count(tc.q); got != tc.want {
					t.Errorf("%s: got %d, want %d", tc.name, got, tc.want)
				}
			}
			if n := count("SELECT COUNT(*) FROM tb_sku WHERE stock = 0 AND is_launched = TRUE"); n < 1 {
				t.Errorf("launched sold-out skus: got %d, want at least 1", n)
			}
			if n := count("SELECT COUNT(*) FROM tb_sku WHERE stock BETWEEN 1 AND 5 AND is_launched = TRUE"); n < 1 {
				t.Errorf("launched low-stock skus: got %d, want at least 1", n)
			}

			rows, err := sqlDB.Query("SELECT name, price, default_image FROM tb_sku")
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			for rows.Next() {
				var name, image string
				var price decimal.Decimal
				if err := rows.Scan(&name, &price, &image); err != nil {
					t.Fatal(err)
				}
				if !price.Equal(price.Round(2)) {
					t.Errorf("%s: price %s has more than two decimals", name, price)
				}
				file, ok := strings.CutPrefix(image, "/static/")
				if !ok {
					t.Errorf("%s: image %q is not under /static/", name, image)
					continue
				}
				if _, err := fs.Stat(static.Files, file); err != nil {
					t.Errorf("%s: image %q: %v", name, image, err)
				}
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}

			shelves, err := db.Store.Catalog.Shelves(ctx, 4)
			if err != nil {
				t.Fatal(err)
			}
			if len(shelves) != 5 {
				t.Fatalf("demo shelves: got %d, want 5", len(shelves))
			}
			for _, s := range shelves {
				if len(s.SKUs) < 2 {
					t.Errorf("demo shelf %s: %d skus, want at least 2", s.Category.Name, len(s.SKUs))
				}
			}
		})
	}
}

func TestLoadDemoKeepsAnExistingCatalog(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			loadFixture(t, db)
			loaded, err := db.Store.Catalog.LoadDemo(ctx)
			if err != nil || loaded {
				t.Fatalf("LoadDemo over a catalog = %v, %v; want false, nil", loaded, err)
			}
			cats, err := db.Store.Catalog.Categories(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cats {
				got = append(got, c.Name)
			}
			if diff := cmp.Diff([]string{"Alpha", "Empty"}, got); diff != "" {
				t.Errorf("top-level categories after LoadDemo (-want +got):\n%s", diff)
			}
		})
	}
}
