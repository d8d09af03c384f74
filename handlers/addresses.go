package handlers

import (
	"errors"
	"net/http"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// telRe is a fixed-line number: optional area code, number, extension.
var telRe = regexp.MustCompile(`^(0[0-9]{2,3}-)?([2-9][0-9]{6,7})+(-[0-9]{1,4})?$`)

// addressBody is the JSON of an address as the address book page sends it.
// The region is picked as ids of GET /areas/ (province_id, city_id,
// district_id, as in the Django shop), whose names are then stored; or,
// from API clients, typed as names alone, which get the ids of the region
// they name exactly, if any.
type addressBody struct {
	Receiver   string `json:"receiver"`
	Province   string `json:"province"`
	City       string `json:"city"`
	District   string `json:"district"`
	ProvinceID int64  `json:"province_id"`
	CityID     int64  `json:"city_id"`
	DistrictID int64  `json:"district_id"`
	Place      string `json:"place"`
	Mobile     string `json:"mobile"`
	Tel        string `json:"tel"`
	Email      string `json:"email"`
	Title      string `json:"title"`
}

// input checks every field, in the form's order, and returns the first
// problem as a field error.
func (b addressBody) input(r *regions) (models.AddressInput, error) {
	in := models.AddressInput{
		Receiver:   strings.TrimSpace(b.Receiver),
		Province:   strings.TrimSpace(b.Province),
		City:       strings.TrimSpace(b.City),
		District:   strings.TrimSpace(b.District),
		ProvinceID: b.ProvinceID,
		CityID:     b.CityID,
		DistrictID: b.DistrictID,
		Place:      strings.TrimSpace(b.Place),
		Mobile:     strings.TrimSpace(b.Mobile),
		Tel:        strings.TrimSpace(b.Tel),
		Email:      strings.TrimSpace(b.Email),
		Title:      strings.TrimSpace(b.Title),
	}
	if in.ProvinceID != 0 || in.CityID != 0 || in.DistrictID != 0 {
		if err := r.check(in.ProvinceID, in.CityID, in.DistrictID); err != nil {
			return in, err
		}
		in.Province, in.City, in.District = r.byID[in.ProvinceID].Name, r.byID[in.CityID].Name, r.byID[in.DistrictID].Name
	} else {
		// Typed names that name a region exactly keep its ids too.
		in.ProvinceID, in.CityID, in.DistrictID, _ = r.byNames(in.Province, in.City, in.District)
	}
	required := []struct {
		field, value string
		max          int
		reason       string
	}{
		{"receiver", in.Receiver, 20, "addr.err.len20"},
		{"province", in.Province, 20, "addr.err.len20"},
		{"city", in.City, 20, "addr.err.len20"},
		{"district", in.District, 20, "addr.err.len20"},
		{"place", in.Place, 50, "addr.err.len50"},
	}
	for _, f := range []struct{ field, value string }{
		{"receiver", in.Receiver}, {"province", in.Province}, {"city", in.City}, {"district", in.District},
		{"place", in.Place}, {"mobile", in.Mobile}, {"tel", in.Tel}, {"email", in.Email}, {"title", in.Title},
	} {
		if p := models.CheckText(f.value, false); p != "" {
			return in, badField(f.field, textKeys[p])
		}
	}
	for _, r := range required {
		if r.value == "" {
			return in, badField(r.field, "addr.err.required")
		}
		if utf8.RuneCountInString(r.value) > r.max {
			return in, badField(r.field, r.reason)
		}
	}
	switch {
	case in.Mobile == "":
		return in, badField("mobile", "addr.err.required")
	case !mobileRe.MatchString(in.Mobile):
		return in, badField("mobile", "addr.err.mobile")
	case in.Tel != "" && (len(in.Tel) > 20 || !telRe.MatchString(in.Tel)):
		return in, badField("tel", "addr.err.tel")
	case in.Email != "" && !validEmail(in.Email):
		return in, badField("email", "addr.err.email")
	case utf8.RuneCountInString(in.Title) > 20:
		return in, badField("title", "addr.err.title")
	}
	return in, nil
}

// textKeys are the messages of models.CheckText's problems.
var textKeys = map[models.TextProblem]string{
	models.TextControl:   "err.text.control",
	models.TextInvisible: "err.text.invisible",
}

// validEmail accepts a bare address that fits the column (30 characters).
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && len(s) <= 30
}

// addressDone are the messages of ?done= on the address book page, where
// the page script goes after a change: the action's outcome, in words.
var addressDone = map[string]string{
	"created": "addr.created",
	"updated": "addr.updated",
	"deleted": "addr.deleted",
	"default": "addr.default_set",
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// AddressesPage shows the address book: the addresses with the default
// marked, and a form that the page script sends to the JSON endpoints.
// After a change the script comes back with ?done=<action>&id=<address>,
// and the page says what happened.
func (h *Handlers) AddressesPage(c *gin.Context) {
	u := currentUser(c)
	list, def, err := h.Store.Addresses.AddressBook(c.Request.Context(), u.ID)
	if err != nil {
		h.fail(c, err)
		return
	}
	r, err := h.regions.get(c.Request.Context(), h.Store.Areas)
	if err != nil {
		h.fail(c, err)
		return
	}
	p := h.page(c, templates.T(lang(c), "addr.title"))
	v := templates.AddressesView{Page: p, Max: models.MaxAddresses, Done: addressDone[c.Query("done")]}
	if v.Done != "" {
		v.Changed, _ = strconv.ParseInt(c.Query("id"), 10, 64)
	}
	for _, pr := range r.provinces {
		v.Provinces = append(v.Provinces, templates.RegionOption{ID: pr.ID, Name: pr.Name})
	}
	for _, a := range list {
		v.Addresses = append(v.Addresses, templates.AddressView{
			ID: a.ID, Title: a.Title, Receiver: a.Receiver, Province: a.Province, City: a.City,
			District: a.District, Place: a.Place, Mobile: a.Mobile, Tel: a.Tel, Email: a.Email,
			IsDefault:  def != nil && *def == a.ID,
			ProvinceID: deref(a.ProvinceID), CityID: deref(a.CityID), DistrictID: deref(a.DistrictID),
		})
	}
	h.render(c, http.StatusOK, templates.Addresses(v))
}

// CreateAddress adds an address: {code:0, address:{...}}. The first one
// becomes the default. Past models.MaxAddresses it is a business rejection
// (HTTP 200, code 400).
func (h *Handlers) CreateAddress(c *gin.Context) {
	var b addressBody
	if err := bindJSON(c, &b); err != nil {
		h.fail(c, err)
		return
	}
	r, err := h.regions.get(c.Request.Context(), h.Store.Areas)
	if err != nil {
		h.fail(c, err)
		return
	}
	in, err := b.input(r)
	if err != nil {
		h.fail(c, err)
		return
	}
	a, err := h.Store.Addresses.CreateAddress(c.Request.Context(), currentUser(c).ID, in)
	if errors.Is(err, models.ErrTooMany) {
		err = reject("addr.too_many")
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	ok(c, gin.H{"errmsg": templates.T(lang(c), "addr.created"), "address": a})
}

// UpdateAddress replaces an address of the user's: {code:0, address:{...}}.
// Someone else's, a deleted or an unknown address is 404.
func (h *Handlers) UpdateAddress(c *gin.Context) {
	id, err := addressID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	var b addressBody
	if err := bindJSON(c, &b); err != nil {
		h.fail(c, err)
		return
	}
	r, err := h.regions.get(c.Request.Context(), h.Store.Areas)
	if err != nil {
		h.fail(c, err)
		return
	}
	in, err := b.input(r)
	if err != nil {
		h.fail(c, err)
		return
	}
	a, err := h.Store.Addresses.UpdateAddress(c.Request.Context(), currentUser(c).ID, id, in)
	if err != nil {
		h.fail(c, err)
		return
	}
	ok(c, gin.H{"errmsg": templates.T(lang(c), "addr.updated"), "address": a})
}

// DeleteAddress deletes (marks) an address of the user's; if it was the
// default, another one becomes the default. 404 as for UpdateAddress.
func (h *Handlers) DeleteAddress(c *gin.Context) {
	id, err := addressID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.Store.Addresses.DeleteAddress(c.Request.Context(), currentUser(c).ID, id); err != nil {
		h.fail(c, err)
		return
	}
	h.addresses.evict(addressKey{currentUser(c).ID, id})
	ok(c, gin.H{"errmsg": templates.T(lang(c), "addr.deleted")})
}

// SetDefaultAddress makes an address of the user's the default. 404 as
// for UpdateAddress.
func (h *Handlers) SetDefaultAddress(c *gin.Context) {
	id, err := addressID(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.Store.Addresses.SetDefaultAddress(c.Request.Context(), currentUser(c).ID, id); err != nil {
		h.fail(c, err)
		return
	}
	ok(c, gin.H{"errmsg": templates.T(lang(c), "addr.default_set")})
}

// addressID reads the :id path parameter; anything but a positive number
// names no address (404).
func addressID(c *gin.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, &statusError{Status: http.StatusNotFound}
	}
	return id, nil
}
