package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// A SKU's picture gallery in the admin: staff add a picture with the
// upload of media.go (it goes last), move one a place earlier or later,
// and remove one. Each answers with a redirect back to the SKU's page and
// a message; a refused request changes nothing.

// AdminGalleryAdd stores the uploaded form file "image" and puts it last
// in the SKU's gallery: POST /admin/skus/:id/gallery/.
func (h *Handlers) AdminGalleryAdd(c *gin.Context) {
	id, err := idParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if _, err := h.Store.Catalog.SKUByID(ctx, id); err != nil {
		h.fail(c, err)
		return
	}
	to := "/admin/skus/" + strconv.FormatInt(id, 10) + "/"
	name, ok := h.receiveImage(c, to)
	if !ok {
		return
	}
	if _, err := h.Store.Admin.AddGalleryImage(ctx, id, "/media/"+name); err != nil {
		h.removeUnused(name)
		if errors.Is(err, models.ErrTooMany) {
			h.back(c, to, "admin.flash.gallery_full", true, models.MaxGallery)
			return
		}
		h.fail(c, err)
		return
	}
	h.back(c, to, "admin.flash.gallery_added", false)
}

// AdminGalleryMove moves a picture of the SKU's gallery one place:
// POST /admin/skus/:id/gallery/:image_id/move/ with by=-1 (earlier) or
// by=1 (later).
func (h *Handlers) AdminGalleryMove(c *gin.Context) {
	id, image, ok := h.galleryParams(c)
	if !ok {
		return
	}
	by := c.PostForm("by")
	if by != "-1" && by != "1" {
		h.fail(c, badField("by", "err.field.type"))
		return
	}
	n, _ := strconv.Atoi(by)
	if err := h.Store.Admin.MoveGalleryImage(c.Request.Context(), id, image, n); err != nil {
		h.fail(c, err)
		return
	}
	h.back(c, "/admin/skus/"+strconv.FormatInt(id, 10)+"/", "admin.flash.gallery_moved", false)
}

// AdminGalleryRemove takes a picture out of the SKU's gallery:
// POST /admin/skus/:id/gallery/:image_id/remove/. An uploaded file stays
// in the media directory (an old page or a default image may still show
// it).
func (h *Handlers) AdminGalleryRemove(c *gin.Context) {
	id, image, ok := h.galleryParams(c)
	if !ok {
		return
	}
	if _, err := h.Store.Admin.RemoveGalleryImage(c.Request.Context(), id, image); err != nil {
		h.fail(c, err)
		return
	}
	h.back(c, "/admin/skus/"+strconv.FormatInt(id, 10)+"/", "admin.flash.gallery_removed", false)
}

// galleryParams reads the SKU id and the picture id of a gallery route;
// when it reports false it has answered 404.
func (h *Handlers) galleryParams(c *gin.Context) (int64, int64, bool) {
	id, err := idParam(c)
	if err != nil {
		h.fail(c, err)
		return 0, 0, false
	}
	image, err := strconv.ParseInt(c.Param("image_id"), 10, 64)
	if err != nil || image < 1 {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return 0, 0, false
	}
	return id, image, true
}

// skuCatalogFacts adds to the admin SKU page what the catalog says of the
// SKU, read-only: its brand, its options and its gallery.
func (h *Handlers) skuCatalogFacts(ctx context.Context, v *templates.AdminSKUView, k *models.SKU) error {
	p, err := h.Store.Admin.SPUByID(ctx, k.SPUID)
	if err != nil {
		return err
	}
	if p.BrandID != nil {
		b, err := h.Store.Catalog.BrandByID(ctx, *p.BrandID)
		if err != nil {
			return err
		}
		v.Brand = b.Name
	}
	opts, err := h.Store.Catalog.SKUOptions(ctx, k.ID)
	if err != nil {
		return err
	}
	for _, o := range opts {
		v.Specs = append(v.Specs, templates.AdminSpecValue{Name: o.Name, Value: o.Value})
	}
	g, err := h.Store.Catalog.Gallery(ctx, k.ID)
	if err != nil {
		return err
	}
	for _, img := range g {
		v.Gallery = append(v.Gallery, templates.AdminGalleryImage{ID: img.ID, URL: img.Image})
	}
	return nil
}
