package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/meiduo/shop/internal/testenv"
)

var galleryItem = regexp.MustCompile(`data-testid="gallery-item" data-image-id="(\d+)"><img src="([^"]*)"`)

// galleryOf is the admin page's gallery as "id src" in order.
func galleryOf(body string) (ids []string, srcs []string) {
	for _, m := range galleryItem.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
		srcs = append(srcs, strings.TrimPrefix(m[2], "/static/img/sku/"))
	}
	return ids, srcs
}

// Staff manage a SKU's gallery: add a picture with the upload (it goes
// last), move pictures, remove one; the product page follows. The brand
// and the options show read-only. Refusals change nothing.
func TestAdminGallery(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAdminEnv(t, db)
			ctx := context.Background()
			const (
				sku   = 32 // 小米 Redmi K70 128GB 黑色
				path  = "/admin/skus/32/"
				other = "/admin/skus/1/"
			)
			page := e.staff.Get(path)
			for _, w := range []string{`data-testid="sku-brand">小米<`, "存储：128GB · 颜色：黑色"} {
				if !strings.Contains(page.Body, w) {
					t.Errorf("admin SKU page lacks %q", w)
				}
			}
			ids, srcs := galleryOf(page.Body)
			if want := "redmik70-black.svg redmik70-detail.svg redmik70-box.svg"; strings.Join(srcs, " ") != want {
				t.Fatalf("gallery %q, want %s", srcs, want)
			}
			_, otherIDs := galleryOf(e.staff.Get(other).Body)
			otherPage := e.staff.Get(other)
			otherIDs, _ = galleryOf(otherPage.Body)

			// Refusals change nothing.
			for _, tc := range []struct {
				name   string
				do     func() testenv.Response
				status int
			}{
				{"an svg", func() testenv.Response {
					return upload(t, e.staff, path+"gallery/", "x.png", "image/png", []byte(`<svg xmlns="http://www.w3.org/2000/svg"></svg>`), true)
				}, http.StatusSeeOther},
				{"move by 2", func() testenv.Response {
					return e.staff.Do(http.MethodPost, path+"gallery/"+ids[0]+"/move/", url.Values{"by": {"2"}})
				}, http.StatusBadRequest},
				{"move another SKU's picture", func() testenv.Response {
					return e.staff.Do(http.MethodPost, path+"gallery/"+otherIDs[0]+"/move/", url.Values{"by": {"1"}})
				}, http.StatusNotFound},
				{"remove another SKU's picture", func() testenv.Response {
					return e.staff.Do(http.MethodPost, path+"gallery/"+otherIDs[0]+"/remove/", url.Values{})
				}, http.StatusNotFound},
				{"remove a picture id that is not a number", func() testenv.Response {
					return e.staff.Do(http.MethodPost, path+"gallery/x/remove/", url.Values{})
				}, http.StatusNotFound},
				{"a shopper", func() testenv.Response {
					e.shopper.Visit()
					return e.shopper.Do(http.MethodPost, path+"gallery/"+ids[0]+"/remove/", url.Values{})
				}, http.StatusForbidden},
			} {
				t.Run(tc.name, func(t *testing.T) {
					if res := tc.do(); res.Status != tc.status {
						t.Errorf("status %d, want %d\n%.500s", res.Status, tc.status, res.Body)
					}
					if _, got := galleryOf(e.staff.Get(path).Body); strings.Join(got, " ") != strings.Join(srcs, " ") {
						t.Errorf("gallery %q, want it unchanged", got)
					}
				})
			}
			if got := mediaFiles(t, e.shop.Handlers.MediaDir); len(got) != 0 {
				t.Errorf("media dir holds %q after refusals, want nothing", got)
			}

			res := upload(t, e.staff, path+"gallery/", "photo.png", "image/png", tinyPNG(t), true)
			if res.Status != http.StatusSeeOther || res.Header.Get("Location") != path {
				t.Fatalf("add: %d to %q", res.Status, res.Header.Get("Location"))
			}
			page = e.staff.Get(path)
			if got := oneTestid(t, page.Body, "flash"); got != "图片已添加到图集末尾" {
				t.Errorf("flash %q", got)
			}
			ids, srcs = galleryOf(page.Body)
			if len(srcs) != 4 || !regexp.MustCompile(`^/media/[0-9a-f]{32}\.png$`).MatchString(srcs[3]) {
				t.Fatalf("gallery after add %q, want the upload last", srcs)
			}
			upload := srcs[3]
			for _, step := range []struct {
				action, id string
				by         string
				want       string
			}{
				{"move", ids[3], "-1", "redmik70-black.svg redmik70-detail.svg UP redmik70-box.svg"},
				{"move", ids[0], "1", "redmik70-detail.svg redmik70-black.svg UP redmik70-box.svg"},
				{"remove", ids[1], "", "redmik70-black.svg UP redmik70-box.svg"},
			} {
				body := url.Values{}
				if step.by != "" {
					body.Set("by", step.by)
				}
				res := e.staff.Do(http.MethodPost, path+"gallery/"+step.id+"/"+step.action+"/", body)
				if res.Status != http.StatusSeeOther {
					t.Fatalf("%s %s: status %d", step.action, step.id, res.Status)
				}
				_, got := galleryOf(e.staff.Get(path).Body)
				if g := strings.ReplaceAll(strings.Join(got, " "), upload, "UP"); g != step.want {
					t.Errorf("after %s %s by %s: %s, want %s", step.action, step.id, step.by, g, step.want)
				}
			}

			// The product page shows the gallery in that order.
			detail := e.shop.NewClient(t).Get(fmt.Sprintf("/detail/%d/", sku)).Body
			thumbs := regexp.MustCompile(`data-src="([^"]*)" data-testid="gallery-thumb"`).FindAllStringSubmatch(detail, -1)
			var got []string
			for _, m := range thumbs {
				got = append(got, strings.ReplaceAll(strings.TrimPrefix(m[1], "/static/img/sku/"), upload, "UP"))
			}
			if strings.Join(got, " ") != "redmik70-black.svg UP redmik70-box.svg" {
				t.Errorf("product page gallery %q", got)
			}
			g, err := db.Store.Catalog.Gallery(ctx, sku)
			if err != nil || len(g) != 3 {
				t.Errorf("gallery in the database: %d pictures (%v), want 3", len(g), err)
			}
		})
	}
}
