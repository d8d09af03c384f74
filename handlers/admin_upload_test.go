package handlers_test

import (
	"bytes"
	"context"
	"html"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/meiduo/shop/internal/testenv"
)

// upload posts a multipart form with the file as the field "image" and,
// when withToken, the client's CSRF token, as a browser's upload form does.
func upload(t *testing.T, c *testenv.Client, path, filename, ctype string, data []byte, withToken bool) testenv.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if withToken {
		if err := w.WriteField("csrfmiddlewaretoken", c.CSRF); err != nil {
			t.Fatal(err)
		}
	}
	if filename != "" {
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", `form-data; name="image"; filename="`+filename+`"`)
		hdr.Set("Content-Type", ctype)
		part, err := w.CreatePart(hdr)
		if err != nil {
			t.Fatal(err)
		}
		part.Write(data)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, c.Shop.Server.URL+path, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.Response{Status: res.StatusCode, Header: res.Header, Body: string(got)}
}

// tinyPNG is a real 2×2 PNG.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mediaFiles lists what the upload directory holds (temp files too).
func mediaFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

var skuImageSrc = regexp.MustCompile(`<img class="admin-image" src="([^"]*)"`)

// Staff upload a PNG: it becomes the SKU's image, is served back byte for
// byte, and shows on the edit page. Refused uploads change nothing.
func TestAdminUploadSKUImage(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newAdminEnv(t, db)
			ctx := context.Background()
			const path = "/admin/skus/1/"
			dir := e.shop.Handlers.MediaDir
			before, err := db.Store.Catalog.SKUByID(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			e.staff.Get(path) // for the CSRF token
			pngData := tinyPNG(t)

			// Refusals first, while nothing is stored.
			refused := []struct {
				name       string
				client     *testenv.Client
				path       string
				filename   string
				ctype      string
				data       []byte
				noToken    bool
				wantStatus int
				wantFlash  string
			}{
				{name: "svg named .png", client: e.staff, path: path + "image/", filename: "x.png", ctype: "image/png",
					data:       []byte(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
					wantStatus: http.StatusSeeOther, wantFlash: "只能上传 PNG、JPEG、WebP 或 GIF 图片"},
				{name: "html named .png", client: e.staff, path: path + "image/", filename: "x.png", ctype: "image/png",
					data: []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), wantStatus: http.StatusSeeOther,
					wantFlash: "只能上传 PNG、JPEG、WebP 或 GIF 图片"},
				{name: "empty file", client: e.staff, path: path + "image/", filename: "x.png", ctype: "image/png",
					wantStatus: http.StatusSeeOther, wantFlash: "请选择要上传的图片"},
				{name: "no file", client: e.staff, path: path + "image/", wantStatus: http.StatusSeeOther, wantFlash: "请选择要上传的图片"},
				{name: "3 MiB", client: e.staff, path: path + "image/", filename: "big.png", ctype: "image/png",
					data: append(pngData, make([]byte, 3<<20)...), wantStatus: http.StatusRequestEntityTooLarge},
				{name: "unknown sku", client: e.staff, path: "/admin/skus/999999/image/", filename: "x.png", ctype: "image/png",
					data: pngData, wantStatus: http.StatusNotFound},
				{name: "shopper", client: e.shopper, path: path + "image/", filename: "x.png", ctype: "image/png",
					data: pngData, wantStatus: http.StatusForbidden},
				{name: "no csrf token", client: e.staff, path: path + "image/", filename: "x.png", ctype: "image/png",
					data: pngData, noToken: true, wantStatus: http.StatusForbidden},
			}
			for _, tc := range refused {
				t.Run(tc.name, func(t *testing.T) {
					tc.client.Visit()
					res := upload(t, tc.client, tc.path, tc.filename, tc.ctype, tc.data, !tc.noToken)
					if res.Status != tc.wantStatus {
						t.Fatalf("status %d, want %d\n%.1000s", res.Status, tc.wantStatus, res.Body)
					}
					if tc.wantFlash != "" {
						if got := res.Header.Get("Location"); got != path {
							t.Fatalf("redirect to %q, want %q", got, path)
						}
						if got := oneTestid(t, e.staff.Get(path).Body, "flash"); got != tc.wantFlash {
							t.Errorf("flash %q, want %q", got, tc.wantFlash)
						}
					}
					k, err := db.Store.Catalog.SKUByID(ctx, 1)
					if err != nil {
						t.Fatal(err)
					}
					if k.DefaultImage != before.DefaultImage {
						t.Errorf("default_image %q, want it unchanged: %q", k.DefaultImage, before.DefaultImage)
					}
					if got := mediaFiles(t, dir); len(got) != 0 {
						t.Errorf("media dir holds %q, want nothing", got)
					}
				})
			}

			// The PNG, named and labelled as something else: the content decides.
			res := upload(t, e.staff, path+"image/", "photo.txt", "text/plain", pngData, true)
			if res.Status != http.StatusSeeOther || res.Header.Get("Location") != path {
				t.Fatalf("upload: %d to %q, want 303 to %s\n%.1000s", res.Status, res.Header.Get("Location"), path, res.Body)
			}
			page := e.staff.Get(path)
			if got, want := oneTestid(t, page.Body, "flash"), "图片已上传"; got != want {
				t.Errorf("flash %q, want %q", got, want)
			}
			k, err := db.Store.Catalog.SKUByID(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^/media/[0-9a-f]{32}\.png$`).MatchString(k.DefaultImage) {
				t.Fatalf("default_image %q, want /media/<32 hex>.png", k.DefaultImage)
			}
			if m := skuImageSrc.FindStringSubmatch(page.Body); m == nil || html.UnescapeString(m[1]) != k.DefaultImage {
				t.Errorf("edit page image %v, want src %q", m, k.DefaultImage)
			}
			if got := mediaFiles(t, dir); len(got) != 1 || "/media/"+got[0] != k.DefaultImage {
				t.Errorf("media dir holds %q, want only %s", got, k.DefaultImage)
			}

			// Well over the 16 KiB every other form may send, within 2 MiB.
			big := append(append([]byte(nil), pngData...), make([]byte, 1<<20)...)
			if res := upload(t, e.staff, path+"image/", "big.png", "image/png", big, true); res.Status != http.StatusSeeOther {
				t.Fatalf("1 MiB upload: %d, want 303\n%.1000s", res.Status, res.Body)
			}
			if k2, err := db.Store.Catalog.SKUByID(ctx, 1); err != nil || k2.DefaultImage == k.DefaultImage {
				t.Errorf("after a 1 MiB upload default_image is %q (%v), want a new one", k2.DefaultImage, err)
			}

			anon := e.shop.NewClient(t)
			got := anon.Get(k.DefaultImage)
			if got.Status != http.StatusOK {
				t.Fatalf("GET %s: %d, want 200", k.DefaultImage, got.Status)
			}
			if ct := got.Header.Get("Content-Type"); ct != "image/png" {
				t.Errorf("Content-Type %q, want image/png", ct)
			}
			if got.Body != string(pngData) {
				t.Errorf("served %d bytes, want the %d uploaded", len(got.Body), len(pngData))
			}
			for _, p := range []string{"/media/", "/media/nothere.png", "/media/" + strings.Repeat("0", 32) + ".png", "/media/..%2Fshop.db"} {
				if res := anon.Get(p); res.Status != http.StatusNotFound {
					t.Errorf("GET %s: %d, want 404", p, res.Status)
				}
			}
		})
	}
}
