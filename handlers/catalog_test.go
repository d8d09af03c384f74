package handlers_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// demoShop serves the shop on db with the demo catalog loaded, and returns
// every SKU by name and every category id by name.
func demoShop(t *testing.T, db testenv.DB) (*testenv.Shop, map[string]models.SKU, map[string]int64) {
	t.Helper()
	ctx := context.Background()
	shop := testenv.NewShop(t, db)
	if loaded, err := db.Store.Catalog.LoadDemo(ctx); err != nil || !loaded {
		t.Fatalf("LoadDemo = %v, %v", loaded, err)
	}
	ids := make([]int64, 200)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	all, err := db.Store.Catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	skus := map[string]models.SKU{}
	for _, k := range all {
		skus[k.Name] = k
	}
	cats, err := db.Store.Catalog.Categories(ctx)
	if err != nil {
		t.Fatal(err)
	}
	catIDs := map[string]int64{}
	for _, c := range cats {
		catIDs[c.Name] = c.ID
	}
	return shop, skus, catIDs
}

var cardName = regexp.MustCompile(`data-testid="sku-name">([^<]*)<`)

// cardNames lists the product names in page order.
func cardNames(body string) []string {
	out := []string{}
	for _, m := range cardName.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// launchedIn lists the launched SKUs of a category and the ones below it,
// ordered by less.
func launchedIn(t *testing.T, db testenv.DB, skus map[string]models.SKU, category int64, less func(a, b models.SKU) bool) []string {
	t.Helper()
	all, err := db.Store.Admin.AllCategories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	in := map[int64]bool{category: true}
	for range 3 {
		for _, c := range all {
			if c.ParentID != nil && in[*c.ParentID] {
				in[c.ID] = true
			}
		}
	}
	var rows []models.SKU
	for _, k := range skus {
		if in[k.CategoryID] && k.IsLaunched {
			rows = append(rows, k)
		}
	}
	sort.Slice(rows, func(i, j int) bool { return less(rows[i], rows[j]) })
	out := []string{}
	for _, k := range rows {
		out = append(out, k.Name)
	}
	return out
}

func detailPath(k models.SKU) string { return "/detail/" + strconv.FormatInt(k.ID, 10) + "/" }

func TestCatalogPages(t *testing.T) {
	const (
		black     = "Apple iPhone 15 128GB 黑色"
		black256  = "Apple iPhone 15 256GB 黑色"
		pink      = "Apple iPhone 15 128GB 粉色"
		blue      = "Apple iPhone 15 256GB 蓝色"
		withdrawn = "小米 Xiaomi 14 8GB+256GB 雪山粉"
	)
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop, skus, cats := demoShop(t, db)
			phones := "/list/" + strconv.FormatInt(cats["手机"], 10) + "/"
			for _, tc := range []struct {
				name    string
				path    string
				status  int
				want    []string
				notWant []string
			}{
				{"home", "/", http.StatusOK,
					[]string{"<title>首页 - 美多商城</title>", `data-testid="sku-card"`, "手机", "笔记本电脑", "耳机音箱", "相机", "智能手表",
						"小米 Xiaomi 14 12GB+256GB 白色", "¥3999.00", "Apple AirPods Pro (第二代) USB-C 充电盒", "¥1899.00", `href="` + phones + `1/"`},
					[]string{withdrawn}},
				{"list page 1", phones + "1/", http.StatusOK,
					[]string{"<title>手机 - 美多商城</title>", "共 14 件商品", `href="` + phones + `2/?sort=default"`, `data-testid="price">¥2799.00<`},
					[]string{withdrawn}},
				{"list page 2 keeps the sort", phones + "2/?sort=hot", http.StatusOK,
					[]string{`href="` + phones + `1/?sort=hot"`, `aria-current="page" aria-label="第 2 页"`},
					[]string{withdrawn}},
				{"list page past the end", phones + "3/", http.StatusNotFound, []string{`data-testid="error-page"`}, nil},
				{"list page zero", phones + "0/", http.StatusNotFound, nil, nil},
				{"list page not a number", phones + "abc/", http.StatusNotFound, nil, nil},
				{"list unknown category", "/list/999999/1/", http.StatusNotFound, nil, nil},
				{"list category not a number", "/list/abc/1/", http.StatusNotFound, nil, nil},
				{"detail", detailPath(skus[black]), http.StatusOK,
					[]string{"<title>" + black + " - 美多商城</title>", `data-testid="price">¥5999.00<`, `data-testid="market-price">¥6299.00<`,
						`data-testid="stock-state">有货<`, `<label for="quantity">`, `data-testid="quantity"`, `data-testid="add-to-cart">加入购物车<`,
						`href="` + detailPath(skus[black256]) + `"`, `href="` + detailPath(skus[pink]) + `"`, `src="/static/js/detail.js"`},
					[]string{`data-testid="add-to-cart" disabled`}},
				{"detail low stock", detailPath(skus[pink]), http.StatusOK, []string{`data-testid="stock-state">仅剩 3 件<`}, nil},
				{"detail sold out", detailPath(skus[blue]), http.StatusOK,
					[]string{`data-testid="stock-state">已售罄<`, `data-testid="add-to-cart" disabled`}, nil},
				{"detail withdrawn", detailPath(skus[withdrawn]), http.StatusNotFound, []string{`data-testid="error-page"`}, []string{withdrawn}},
				{"detail unknown", "/detail/999999/", http.StatusNotFound, nil, nil},
				{"detail zero", "/detail/0/", http.StatusNotFound, nil, nil},
				{"detail not a number", "/detail/abc/", http.StatusNotFound, nil, nil},
				{"search", "/search/?q=IPHONE", http.StatusOK,
					[]string{"找到 4 件与“IPHONE”相关的商品", black, pink, blue, black256, `value="IPHONE"`}, nil},
				{"search empty suggests best sellers", "/search/?q=+", http.StatusOK,
					[]string{`data-testid="search-hint"`, `data-testid="popular"`, "热销商品", "Apple AirPods Pro (第二代) USB-C 充电盒"}, []string{`data-testid="sku-grid"`}},
				{"search wildcard finds nothing, suggests best sellers", "/search/?q=%25", http.StatusOK,
					[]string{`data-testid="search-none"`, `data-testid="popular"`}, []string{`data-testid="sku-grid"`}},
				{"search withdrawn", "/search/?q=雪山粉", http.StatusOK, []string{`data-testid="search-none"`}, nil},
				{"search paged", "/search/?q=GB", http.StatusOK, []string{`href="/search/?page=2&amp;q=GB"`}, nil},
				{"search page past the end", "/search/?q=GB&page=9", http.StatusNotFound, nil, nil},
				{"search page not a number", "/search/?q=GB&page=x", http.StatusNotFound, nil, nil},
				{"search too long", "/search/?q=" + strings.Repeat("a", models.MaxQueryLen+1), http.StatusBadRequest, []string{"搜索词最多 50 个字"}, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := shop.NewClient(t).Get(tc.path)
					if res.Status != tc.status {
						t.Fatalf("GET %s: status %d, want %d\n%s", tc.path, res.Status, tc.status, res.Body)
					}
					if !strings.Contains(res.Body, `<meta name="csrf-token" content="`) {
						t.Errorf("GET %s: no CSRF meta tag", tc.path)
					}
					for _, w := range tc.want {
						if !strings.Contains(res.Body, w) {
							t.Errorf("GET %s: body lacks %q", tc.path, w)
						}
					}
					for _, w := range tc.notWant {
						if strings.Contains(res.Body, w) {
							t.Errorf("GET %s: body has %q", tc.path, w)
						}
					}
				})
			}
		})
	}
}

func TestCatalogListSortOrder(t *testing.T) {
	byNewest := func(a, b models.SKU) bool {
		if !a.CreateTime.Equal(b.CreateTime) {
			return a.CreateTime.After(b.CreateTime)
		}
		return a.ID > b.ID
	}
	byPrice := func(a, b models.SKU) bool {
		if !a.Price.Equal(b.Price) {
			return a.Price.LessThan(b.Price)
		}
		return a.ID < b.ID
	}
	byPriceDesc := func(a, b models.SKU) bool {
		if !a.Price.Equal(b.Price) {
			return a.Price.GreaterThan(b.Price)
		}
		return a.ID < b.ID
	}
	bySales := func(a, b models.SKU) bool {
		if a.Sales != b.Sales {
			return a.Sales > b.Sales
		}
		return a.ID < b.ID
	}
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			shop, skus, cats := demoShop(t, db)
			for _, tc := range []struct {
				name, query string
				less        func(a, b models.SKU) bool
			}{
				{"default", "", byNewest},
				{"price", "?sort=price", byPrice},
				{"price, dearest first", "?sort=-price", byPriceDesc},
				{"price_desc is dearest first too", "?sort=price_desc", byPriceDesc},
				{"hot", "?sort=hot", bySales},
				{"unknown falls back to default", "?sort=-sales", byNewest},
			} {
				t.Run(tc.name, func(t *testing.T) {
					for _, category := range []string{"手机", "耳机音箱"} {
						id := cats[category]
						want := launchedIn(t, db, skus, id, tc.less)
						var got []string
						for n := 1; n <= (len(want)+models.PageSize-1)/models.PageSize; n++ {
							path := "/list/" + strconv.FormatInt(id, 10) + "/" + strconv.Itoa(n) + "/" + tc.query
							res := shop.NewClient(t).Get(path)
							if res.Status != http.StatusOK {
								t.Fatalf("GET %s: status %d", path, res.Status)
							}
							got = append(got, cardNames(res.Body)...)
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("%s sorted %s (-want +got):\n%s", category, tc.name, diff)
						}
					}
				})
			}
		})
	}
}

func TestCatalogInEnglish(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop, _, _ := demoShop(t, db)
	c := shop.NewClient(t)
	if res := c.Get("/lang/?to=en&next=/"); res.Status != http.StatusFound {
		t.Fatalf("switch language: status %d", res.Status)
	}
	res := c.Get("/")
	for _, w := range []string{`<html lang="en">`, "Shop now", "See all", "<title>Home - Meiduo Mall</title>"} {
		if !strings.Contains(res.Body, w) {
			t.Errorf("English home lacks %q", w)
		}
	}
}
