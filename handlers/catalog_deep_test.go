package handlers_test

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// categoryIDs is every demo category id by name (the names are unique).
func categoryIDs(t *testing.T, db testenv.DB) map[string]int64 {
	t.Helper()
	all, err := db.Store.Admin.AllCategories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, c := range all {
		out[c.Name] = c.ID
	}
	return out
}

func listPath(id int64) string { return "/list/" + strconv.FormatInt(id, 10) + "/1/" }

// The catalog's depth: the category menu, breadcrumbs over three levels,
// both price sorts, the gallery, one choice per specification, the
// stepper and 立即购买, and flash sales announced on the home and product
// pages.
func TestCatalogDeepPages(t *testing.T) {
	const (
		k70      = "小米 Redmi K70 "
		iphone   = "Apple iPhone 15 "
		airpods  = "Apple AirPods Pro (第二代) USB-C 充电盒"
		mate60   = "华为 HUAWEI Mate 60 Pro 12GB+256GB 雅川青"
		liveSale = "1999.00"
	)
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			shop, skus, _ := demoShop(t, db)
			cats := categoryIDs(t, db)
			now := time.Now()
			for _, s := range []models.SaleInput{
				{SKUID: skus[k70+"128GB 黑色"].ID, Stock: 5, Price: decimal.RequireFromString(liveSale), Start: now.Add(-time.Minute), End: now.Add(time.Hour)},
				{SKUID: skus[iphone+"128GB 黑色"].ID, Stock: 5, Price: decimal.RequireFromString("4999.00"), Start: now.Add(2 * time.Hour), End: now.Add(3 * time.Hour)},
				{SKUID: skus[mate60].ID, Stock: 5, Price: decimal.RequireFromString("5999.00"), Start: now.Add(72 * time.Hour), End: now.Add(73 * time.Hour)},
			} {
				if _, err := db.Store.Sales.OpenSale(ctx, s); err != nil {
					t.Fatal(err)
				}
			}
			seckill := func(name string) string { return `href="/seckill/` + strconv.FormatInt(skus[name].ID, 10) + `/"` }
			option := regexp.MustCompile(`<(a|span) class="variant([^"]*)"(?: href="([^"]*)")?[^>]*data-testid="spec-option" data-spec="([^"]*)" data-value="([^"]*)"`)
			// options lists a product page's options as "spec value -> path",
			// "spec value (current)" or "spec value (disabled)".
			options := func(body string) []string {
				var out []string
				for _, m := range option.FindAllStringSubmatch(body, -1) {
					switch {
					case strings.Contains(m[2], "current"):
						out = append(out, m[4]+" "+m[5]+" (current)")
					case m[1] == "span":
						out = append(out, m[4]+" "+m[5]+" (disabled)")
					default:
						out = append(out, m[4]+" "+m[5]+" -> "+m[3])
					}
				}
				return out
			}
			for _, tc := range []struct {
				name    string
				path    string
				want    []string
				notWant []string
				options []string
			}{
				{"home menu and sale zone", "/", []string{
					`data-testid="category-menu"`, `data-testid="menu-l1">手机<`, `data-testid="menu-l2">手机通讯<`,
					`href="` + listPath(cats["游戏手机"]) + `" data-testid="menu-l3">游戏手机<`, `data-testid="menu-l3">微单相机<`,
					`data-testid="sale-zone"`, seckill(k70 + "128GB 黑色"), seckill(iphone + "128GB 黑色"), "秒杀进行中", "秒杀即将开始",
					`data-testid="sale-price">¥1999.00<`, `data-testid="shelf"`,
				}, []string{seckill(mate60)}, nil},
				{"list of a third level", listPath(cats["游戏手机"]), []string{
					`<a href="/list/1/1/" data-testid="crumb">手机</a>`, `<a href="` + listPath(cats["手机通讯"]) + `" data-testid="crumb">手机通讯</a>`,
					`<span aria-current="page" data-testid="crumb">游戏手机</span>`, "共 4 件商品",
					`href="` + listPath(cats["游戏手机"]) + `?sort=-price" data-testid="sort-price_desc">价格从高到低<`,
					`data-testid="sort-price">价格从低到高<`,
					`<a href="` + listPath(cats["手机"]) + `">手机</a>`, `<a href="` + listPath(cats["游戏手机"]) + `" aria-current="page">游戏手机</a>`,
				}, nil, nil},
				{"list of a second level", listPath(cats["手机通讯"]), []string{`data-testid="subcategory-nav"`,
					`<a href="` + listPath(cats["手机"]) + `">手机</a>`, `<a href="` + listPath(cats["游戏手机"]) + `">游戏手机</a>`, "共 14 件商品"},
					[]string{`aria-current="page">游戏手机<`}, nil},
				{"product with two specifications", detailPath(skus[k70+"128GB 黑色"]), []string{
					`<a href="/list/1/1/" data-testid="crumb">手机</a>`, `data-testid="crumb">游戏手机</a>`,
					`data-testid="brand">小米<`, `src="/static/img/sku/redmik70-black.svg" alt="小米 Redmi K70 128GB 黑色" width="400" height="400" data-testid="gallery-main"`,
					`href="/static/img/sku/redmik70-detail.svg" data-src="/static/img/sku/redmik70-detail.svg" data-testid="gallery-thumb"`,
					`data-testid="qty-minus"`, `data-testid="qty-plus"`, `data-testid="buy-now">立即购买<`, `data-testid="buy-bar"`,
					`data-testid="sale-banner"`, `data-testid="sale-banner-price">¥1999.00<`, `>还剩 00:`, `href="/seckill/` + strconv.FormatInt(skus[k70+"128GB 黑色"].ID, 10) + `/" data-testid="sale-banner-link"`,
				}, []string{`data-testid="variants"`}, []string{
					"存储 128GB (current)", "存储 256GB -> " + detailPath(skus[k70+"256GB 黑色"]),
					"颜色 黑色 (current)", "颜色 白色 -> " + detailPath(skus[k70+"128GB 白色"]),
				}},
				{"the choices keep the other specification", detailPath(skus[k70+"256GB 白色"]), nil, []string{`data-testid="sale-banner"`}, []string{
					"存储 128GB -> " + detailPath(skus[k70+"128GB 白色"]), "存储 256GB (current)",
					"颜色 黑色 -> " + detailPath(skus[k70+"256GB 黑色"]), "颜色 白色 (current)",
				}},
				{"a combination that does not exist is disabled", detailPath(skus[iphone+"128GB 粉色"]), []string{`title="暂无此组合"`}, nil, []string{
					"存储 128GB (current)", "存储 256GB (disabled)",
					"颜色 黑色 -> " + detailPath(skus[iphone+"128GB 黑色"]), "颜色 粉色 (current)", "颜色 蓝色 (disabled)",
				}},
				{"upcoming sale on the product page", detailPath(skus[iphone+"128GB 黑色"]), []string{`data-testid="sale-banner"`, "秒杀即将开始",
					`data-testid="sale-banner-price">¥4999.00<`, `>还有 01:`}, nil, nil},
				{"a sale days away is not announced", detailPath(skus[mate60]), nil, []string{`data-testid="sale-banner"`}, nil},
				{"a product without specifications", detailPath(skus[airpods]), []string{`data-testid="gallery-thumb"`, `data-testid="brand">Apple<`}, []string{`data-testid="specs"`}, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					res := shop.NewClient(t).Get(tc.path)
					if res.Status != http.StatusOK {
						t.Fatalf("GET %s: status %d\n%s", tc.path, res.Status, res.Body)
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
					if tc.options != nil {
						got := options(res.Body)
						if strings.Join(got, "\n") != strings.Join(tc.options, "\n") {
							t.Errorf("GET %s: options\n got %q\nwant %q", tc.path, got, tc.options)
						}
					}
				})
			}

			// The same in English.
			c := shop.NewClient(t)
			c.Get("/lang/?to=en&next=/")
			res := c.Get(detailPath(skus[k70+"128GB 黑色"]))
			for _, w := range []string{"Buy now", "Flash sale on now", "Brand", `aria-label="More"`} {
				if !strings.Contains(res.Body, w) {
					t.Errorf("English product page lacks %q", w)
				}
			}
		})
	}
}

// A channel's stored URL becomes the menu's link only when it is a path
// of this site or an http(s) address; anything else links the category's
// list.
func TestHomeMenuChannelURLs(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	shop, _, _ := demoShop(t, db)
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ url, want string }{
		{"javascript:alert(1)", `href="/list/1/1/"`},
		{"//evil.example/", `href="/list/1/1/"`},
		{`/\evil.example/`, `href="/list/1/1/"`},
		{"https://shouji.example/", `href="https://shouji.example/"`},
		{"/search/?q=phone", `href="/search/?q=phone"`},
	} {
		if _, err := sqlDB.Exec("UPDATE tb_goods_channel SET url = ? WHERE category_id = 1", tc.url); err != nil {
			t.Fatal(err)
		}
		body := shop.NewClient(t).Get("/").Body
		i := strings.Index(body, `data-testid="menu-l1">手机<`)
		if i < 0 {
			t.Fatal("no phones entry in the menu")
		}
		panel := body[i:]
		panel = panel[:strings.Index(panel, "</p>")]
		if !strings.Contains(panel, tc.want) {
			t.Errorf("channel url %q: menu link %q, want %s", tc.url, panel, tc.want)
		}
	}
}
