package models_test

import (
	"context"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/static"
)

// demoSKUs loads the demo catalog and returns its SKUs by name.
func demoSKUs(t *testing.T, db testenv.DB) map[string]models.SKU {
	t.Helper()
	ctx := context.Background()
	if loaded, err := db.Store.Catalog.LoadDemo(ctx); err != nil || !loaded {
		t.Fatalf("LoadDemo = %v, %v", loaded, err)
	}
	ids := make([]int64, 100)
	for i := range ids {
		ids[i] = int64(i + 1)
	}
	all, err := db.Store.Catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]models.SKU{}
	for _, k := range all {
		out[k.Name] = k
	}
	return out
}

// choiceText writes a product page's choices as "spec: option->target"
// lines, "*" marking the current option and "-" an option with no SKU.
func choiceText(specs []models.SpecChoice) []string {
	var out []string
	for _, sp := range specs {
		var b strings.Builder
		b.WriteString(sp.Spec.Name + ":")
		for _, o := range sp.Options {
			b.WriteString(" " + o.Option.Value)
			switch {
			case o.Current:
				b.WriteString("*")
			case o.SKU == nil:
				b.WriteString("-")
			default:
				b.WriteString("->" + o.SKU.Name)
			}
		}
		out = append(out, b.String())
	}
	return out
}

func TestSpecSwitching(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			skus := demoSKUs(t, db)
			const (
				k70      = "小米 Redmi K70 "
				iphone   = "Apple iPhone 15 "
				airpods  = "Apple AirPods Pro (第二代) USB-C 充电盒"
				xiaomi14 = "小米 Xiaomi 14 "
			)
			for _, tc := range []struct {
				name string
				sku  string
				want []string
			}{
				{"every combination exists", k70 + "128GB 黑色", []string{
					"存储: 128GB* 256GB->" + k70 + "256GB 黑色",
					"颜色: 黑色* 白色->" + k70 + "128GB 白色",
				}},
				{"the other choice is kept", k70 + "256GB 白色", []string{
					"存储: 128GB->" + k70 + "128GB 白色 256GB*",
					"颜色: 黑色->" + k70 + "256GB 黑色 白色*",
				}},
				{"missing combinations are disabled", iphone + "128GB 粉色", []string{
					"存储: 128GB* 256GB-",
					"颜色: 黑色->" + iphone + "128GB 黑色 粉色* 蓝色-",
				}},
				{"a sold-out SKU is still a choice", iphone + "256GB 黑色", []string{
					"存储: 128GB->" + iphone + "128GB 黑色 256GB*",
					"颜色: 黑色* 粉色- 蓝色->" + iphone + "256GB 蓝色",
				}},
				{"a withdrawn SKU is no choice", xiaomi14 + "12GB+256GB 白色", []string{
					"版本: 8GB+256GB- 12GB+256GB* 16GB+512GB- 16GB+1TB-",
					"颜色: 白色* 黑色- 岩石青- 雪山粉-",
				}},
				{"a SKU without specifications has no choice", airpods, nil},
			} {
				t.Run(tc.name, func(t *testing.T) {
					k, ok := skus[tc.sku]
					if !ok {
						t.Fatalf("no demo sku %q", tc.sku)
					}
					d, err := db.Store.Catalog.SKUDetailByID(ctx, k.ID)
					if err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(tc.want, choiceText(d.Specs)); diff != "" {
						t.Errorf("choices of %s (-want +got):\n%s", tc.sku, diff)
					}
				})
			}

			// SKUForOptions: the SKU of a combination, by option ids.
			d, err := db.Store.Catalog.SKUDetailByID(ctx, skus[k70+"128GB 黑色"].ID)
			if err != nil {
				t.Fatal(err)
			}
			opt := map[string]int64{}
			for _, sp := range d.Specs {
				for _, o := range sp.Options {
					opt[o.Option.Value] = o.Option.ID
				}
			}
			spu := d.SKU.SPUID
			got, err := db.Store.Catalog.SKUForOptions(ctx, spu, []int64{opt["白色"], opt["256GB"]})
			if err != nil || got.Name != k70+"256GB 白色" {
				t.Errorf("SKUForOptions(256GB, 白色) = %v, %v; want %s", got, err, k70+"256GB 白色")
			}
			pink, err := db.Store.Catalog.SKUDetailByID(ctx, skus[iphone+"128GB 粉色"].ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Store.Catalog.SKUForOptions(ctx, pink.SKU.SPUID, []int64{pink.Specs[0].Options[1].Option.ID, pink.Specs[1].Options[1].Option.ID}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("SKUForOptions(256GB, 粉色) error = %v, want ErrNotFound", err)
			}
			for _, tc := range []struct {
				name string
				ids  []int64
			}{
				{"one specification missing", []int64{opt["256GB"]}},
				{"two options of one specification", []int64{opt["128GB"], opt["256GB"]}},
				{"an option of another product", []int64{opt["256GB"], pink.Specs[1].Options[0].Option.ID}},
				{"no option", nil},
			} {
				if _, err := db.Store.Catalog.SKUForOptions(ctx, spu, tc.ids); !errors.Is(err, models.ErrInvalid) {
					t.Errorf("SKUForOptions, %s: error = %v, want ErrInvalid", tc.name, err)
				}
			}

			// The database keeps one option per specification.
			sqlDB, err := db.Store.SQL()
			if err != nil {
				t.Fatal(err)
			}
			q := "INSERT INTO tb_sku_specification (create_time, update_time, sku_id, spec_id, option_id) VALUES (CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, ?, ?, ?)"
			if db.Name == "postgres" {
				q = strings.NewReplacer("?, ?, ?", "$1, $2, $3").Replace(q)
			}
			if _, err := sqlDB.Exec(q, d.SKU.ID, d.Specs[0].Spec.ID, opt["256GB"]); err == nil {
				t.Error("a second option for one specification was accepted")
			}
			if _, err := sqlDB.Exec(q, skus[airpods].ID, d.Specs[0].Spec.ID, opt["白色"]); err == nil {
				t.Error("an option filed under another specification was accepted")
			}
		})
	}
}

func TestGalleryOrder(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			skus := demoSKUs(t, db)
			k := skus["Apple AirPods Pro (第二代) USB-C 充电盒"]
			images := func() []string {
				t.Helper()
				g, err := db.Store.Catalog.Gallery(ctx, k.ID)
				if err != nil {
					t.Fatal(err)
				}
				out := []string{}
				for _, img := range g {
					out = append(out, strings.TrimPrefix(img.Image, "/static/img/sku/"))
				}
				return out
			}
			want := []string{"airpodspro.svg", "airpodspro-detail.svg", "airpodspro-box.svg"}
			if diff := cmp.Diff(want, images()); diff != "" {
				t.Fatalf("demo gallery (-want +got):\n%s", diff)
			}
			added, err := db.Store.Admin.AddGalleryImage(ctx, k.ID, "/media/0123456789abcdef0123456789abcdef.png")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, "/media/0123456789abcdef0123456789abcdef.png")
			if diff := cmp.Diff(want, images()); diff != "" {
				t.Errorf("after add (-want +got):\n%s", diff)
			}
			g, _ := db.Store.Catalog.Gallery(ctx, k.ID)
			for _, step := range []struct {
				name string
				id   int64
				by   int
				want []string
			}{
				{"last one earlier", added.ID, -1, []string{"airpodspro.svg", "airpodspro-detail.svg", "/media/0123456789abcdef0123456789abcdef.png", "airpodspro-box.svg"}},
				{"again", added.ID, -1, []string{"airpodspro.svg", "/media/0123456789abcdef0123456789abcdef.png", "airpodspro-detail.svg", "airpodspro-box.svg"}},
				{"to the front", added.ID, -1, []string{"/media/0123456789abcdef0123456789abcdef.png", "airpodspro.svg", "airpodspro-detail.svg", "airpodspro-box.svg"}},
				{"the first earlier changes nothing", added.ID, -1, []string{"/media/0123456789abcdef0123456789abcdef.png", "airpodspro.svg", "airpodspro-detail.svg", "airpodspro-box.svg"}},
				{"the box later changes nothing", g[2].ID, 1, []string{"/media/0123456789abcdef0123456789abcdef.png", "airpodspro.svg", "airpodspro-detail.svg", "airpodspro-box.svg"}},
				{"the first later", added.ID, 1, []string{"airpodspro.svg", "/media/0123456789abcdef0123456789abcdef.png", "airpodspro-detail.svg", "airpodspro-box.svg"}},
			} {
				if err := db.Store.Admin.MoveGalleryImage(ctx, k.ID, step.id, step.by); err != nil {
					t.Fatalf("%s: %v", step.name, err)
				}
				if diff := cmp.Diff(step.want, images()); diff != "" {
					t.Errorf("%s (-want +got):\n%s", step.name, diff)
				}
			}
			removed, err := db.Store.Admin.RemoveGalleryImage(ctx, k.ID, g[0].ID)
			if err != nil || removed.Image != "/static/img/sku/airpodspro.svg" {
				t.Fatalf("remove = %v, %v", removed, err)
			}
			want = []string{"/media/0123456789abcdef0123456789abcdef.png", "airpodspro-detail.svg", "airpodspro-box.svg"}
			if diff := cmp.Diff(want, images()); diff != "" {
				t.Errorf("after remove (-want +got):\n%s", diff)
			}

			// Refusals change nothing.
			other := skus["Apple iPhone 15 128GB 黑色"]
			og, _ := db.Store.Catalog.Gallery(ctx, other.ID)
			for _, tc := range []struct {
				name string
				err  error
				want error
			}{
				{"add to an unknown sku", func() error { _, err := db.Store.Admin.AddGalleryImage(ctx, 99999, "/media/x.png"); return err }(), models.ErrNotFound},
				{"add an empty path", func() error { _, err := db.Store.Admin.AddGalleryImage(ctx, k.ID, ""); return err }(), models.ErrInvalid},
				{"add another site's picture", func() error {
					_, err := db.Store.Admin.AddGalleryImage(ctx, k.ID, "//evil.example/x.png")
					return err
				}(), models.ErrInvalid},
				{"add a long path", func() error {
					_, err := db.Store.Admin.AddGalleryImage(ctx, k.ID, "/media/"+strings.Repeat("a", models.MaxImageLen))
					return err
				}(), models.ErrInvalid},
				{"remove another sku's image", func() error { _, err := db.Store.Admin.RemoveGalleryImage(ctx, k.ID, og[0].ID); return err }(), models.ErrNotFound},
				{"move another sku's image", db.Store.Admin.MoveGalleryImage(ctx, k.ID, og[0].ID, 1), models.ErrNotFound},
			} {
				if !errors.Is(tc.err, tc.want) {
					t.Errorf("%s: error = %v, want %v", tc.name, tc.err, tc.want)
				}
			}
			if diff := cmp.Diff(want, images()); diff != "" {
				t.Errorf("after refusals (-want +got):\n%s", diff)
			}
			for i := len(want); i < models.MaxGallery; i++ {
				if _, err := db.Store.Admin.AddGalleryImage(ctx, k.ID, "/static/img/logo.svg"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := db.Store.Admin.AddGalleryImage(ctx, k.ID, "/static/img/logo.svg"); !errors.Is(err, models.ErrTooMany) {
				t.Errorf("add past MaxGallery: error = %v, want ErrTooMany", err)
			}
		})
	}
}

func TestMenuAndBreadcrumbs(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			skus := demoSKUs(t, db)
			menu, err := db.Store.Catalog.Menu(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, g := range menu {
				line := g.Name + ":"
				for _, e := range g.Entries {
					line += " " + e.Category.Name + "("
					for i, c2 := range e.Children {
						if i > 0 {
							line += ";"
						}
						line += c2.Category.Name + "["
						for j, c3 := range c2.Children {
							if j > 0 {
								line += ","
							}
							line += c3.Category.Name
						}
						line += "]"
					}
					line += ")"
				}
				got = append(got, line)
			}
			want := []string{
				"手机 相机: 手机(手机通讯[手机,游戏手机];手机配件[手机壳,充电器]) 相机(摄影摄像[微单相机,单反相机])",
				"电脑 办公: 笔记本电脑(电脑整机[轻薄本,商务本];电脑配件[键盘,鼠标])",
				"影音 穿戴: 耳机音箱(影音娱乐[耳机,音箱]) 智能手表(智能穿戴[智能手表,手环])",
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("menu (-want +got):\n%s", diff)
			}
			if u := menu[0].Entries[0].URL; u != "/list/1/1/" {
				t.Errorf("phones channel url = %q, want /list/1/1/", u)
			}

			d, err := db.Store.Catalog.SKUDetailByID(ctx, skus["小米 Redmi K70 256GB 白色"].ID)
			if err != nil {
				t.Fatal(err)
			}
			var path []string
			for _, c := range d.Path {
				path = append(path, c.Name)
			}
			if diff := cmp.Diff([]string{"手机", "手机通讯", "游戏手机"}, path); diff != "" {
				t.Errorf("breadcrumbs (-want +got):\n%s", diff)
			}
			if d.Brand == nil || d.Brand.Name != "小米" {
				t.Errorf("brand = %+v, want 小米", d.Brand)
			}
			if len(d.Gallery) != 3 {
				t.Errorf("gallery of %d images, want 3", len(d.Gallery))
			}
			for _, img := range d.Gallery {
				if _, err := fs.Stat(static.Files, strings.TrimPrefix(img.Image, "/static/")); err != nil {
					t.Errorf("gallery image %s: %v", img.Image, err)
				}
			}
			if _, err := db.Store.Catalog.CategoryPath(ctx, 9999); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("path of an unknown category: %v, want ErrNotFound", err)
			}

			// The list of a top level shows its whole subtree; of a leaf,
			// the leaf's SKUs.
			for _, tc := range []struct {
				name  string
				id    int64
				total int
			}{
				{"phones, top level", 1, 14},
				{"gaming phones, third level", d.SKU.CategoryID, 4},
				{"phone cases, empty third level", d.Path[1].ID + 3, 0},
			} {
				_, pg, err := db.Store.Catalog.CategorySKUs(ctx, tc.id, models.SortDefault, 1)
				if err != nil || pg.Total != tc.total {
					t.Errorf("%s: total %d, err %v; want %d", tc.name, pg.Total, err, tc.total)
				}
			}

			pop, err := db.Store.Catalog.PopularSKUs(ctx, 3)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"Apple AirPods Pro (第二代) USB-C 充电盒", "小米 Xiaomi 14 12GB+256GB 白色", "漫步者 EDIFIER M230 蓝牙音箱 经典黑"}, names(pop)); diff != "" {
				t.Errorf("popular (-want +got):\n%s", diff)
			}
		})
	}
}
