package handlers

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Uploaded images: staff upload a SKU's picture, kept in MediaDir under a
// random name and served read-only at /media/<name>.

// MaxImageBytes is the largest image staff may upload. The router lets
// the upload route's body grow to this plus room for the form around it.
const MaxImageBytes = 2 << 20

// imageTypes are the accepted types, as http.DetectContentType names
// them, with the extension a stored file gets. SVG is not among them: it
// can carry script.
var imageTypes = map[string]string{
	"image/png":  ".png",
	"image/jpeg": ".jpg",
	"image/webp": ".webp",
	"image/gif":  ".gif",
}

// mediaName is a name saveImage gives; nothing else in MediaDir (temp
// files, say) is ever served.
var mediaName = regexp.MustCompile(`^[0-9a-f]{32}\.(png|jpg|webp|gif)$`)

var mediaTypes = map[string]string{".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif"}

// Media serves an uploaded image. Names are random and never reused, so
// browsers may keep them.
func (h *Handlers) Media(c *gin.Context) {
	name := c.Param("name")
	if !mediaName.MatchString(name) {
		h.NotFound(c)
		return
	}
	f, err := os.Open(filepath.Join(h.MediaDir, name))
	if errors.Is(err, os.ErrNotExist) {
		h.NotFound(c)
		return
	}
	if err != nil {
		h.fail(c, fmt.Errorf("open media %s: %w", name, err))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		h.NotFound(c)
		return
	}
	c.Header("Content-Type", mediaTypes[filepath.Ext(name)])
	c.Header("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(c.Writer, c.Request, name, st.ModTime(), f)
}

// AdminUploadSKUImage stores the uploaded form file "image" and makes it
// the SKU's default image. The type is read from the content, never from
// the name or the client's header. A refused upload changes nothing.
func (h *Handlers) AdminUploadSKUImage(c *gin.Context) {
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
	if err := h.Store.Admin.SetSKUImage(ctx, id, "/media/"+name); err != nil {
		h.removeUnused(name)
		h.fail(c, err)
		return
	}
	h.skus.evict(id)
	h.back(c, to, "admin.flash.image_saved", false)
}

// receiveImage stores the uploaded form file "image" in MediaDir and
// returns its new name. The type is read from the content, never from the
// name or the client's header. When it reports false it has answered
// already: back to page to with a message for a missing, too large or
// unknown file, or the error.
func (h *Handlers) receiveImage(c *gin.Context, to string) (string, bool) {
	fh, err := c.FormFile("image")
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		h.fail(c, err)
		return "", false
	case err != nil:
		h.back(c, to, "admin.flash.image_missing", true)
		return "", false
	case fh.Size > MaxImageBytes:
		h.back(c, to, "admin.flash.image_too_large", true)
		return "", false
	}
	f, err := fh.Open()
	if err != nil {
		h.fail(c, fmt.Errorf("open the upload: %w", err))
		return "", false
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxImageBytes+1))
	f.Close()
	if err != nil {
		h.fail(c, fmt.Errorf("read the upload: %w", err))
		return "", false
	}
	ext, ok := imageTypes[http.DetectContentType(data)]
	switch {
	case len(data) == 0:
		h.back(c, to, "admin.flash.image_missing", true)
		return "", false
	case len(data) > MaxImageBytes:
		h.back(c, to, "admin.flash.image_too_large", true)
		return "", false
	case !ok:
		h.back(c, to, "admin.flash.image_type", true)
		return "", false
	}
	name, err := h.saveImage(data, ext)
	if err != nil {
		h.fail(c, err)
		return "", false
	}
	return name, true
}

// removeUnused deletes an upload that was stored but could not be used.
func (h *Handlers) removeUnused(name string) {
	if err := os.Remove(filepath.Join(h.MediaDir, name)); err != nil {
		h.Log.Error("remove an unused upload", "name", name, "err", err)
	}
}

// saveImage writes data to MediaDir under a new random name with ext and
// returns the name. The file appears whole or not at all: it is written
// to a temp file first and renamed.
func (h *Handlers) saveImage(data []byte, ext string) (string, error) {
	if err := os.MkdirAll(h.MediaDir, 0o755); err != nil {
		return "", fmt.Errorf("create the media directory: %w", err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	name := hex.EncodeToString(b) + ext
	tmp, err := os.CreateTemp(h.MediaDir, ".upload-*")
	if err != nil {
		return "", fmt.Errorf("create a temp file for %s: %w", name, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(h.MediaDir, name))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("store upload %s: %w", name, err)
	}
	return name, nil
}
