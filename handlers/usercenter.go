package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// The user centre, as the Django shop has it: who the user is, the
// browse history (carts.Store's history_<uid>), and the password change.

// UserCenter shows /info/: the username, mobile and e-mail, links to the
// orders, the address book and the password change, and the browse
// history. Without Redis the page still shows, saying the history cannot.
func (h *Handlers) UserCenter(c *gin.Context) {
	u := currentUser(c)
	v := templates.UserCenterView{
		Page:     h.page(c, templates.T(lang(c), "info.title")),
		Username: u.Username, Mobile: u.Mobile, Email: u.Email,
		PasswordChanged: c.Query("password") == "changed",
	}
	ids, err := h.Carts.History(c.Request.Context(), u.ID)
	if err != nil {
		h.Log.Warn("browse history not shown", "user", u.ID, "err", err)
		v.HistoryDown = true
	}
	skus, err := h.historySKUs(c.Request.Context(), ids)
	if err != nil {
		h.fail(c, err)
		return
	}
	v.History = cards(skus)
	h.render(c, http.StatusOK, templates.UserCenter(v))
}

// historySKUs are the launched SKUs among ids, in the order of ids.
func (h *Handlers) historySKUs(ctx context.Context, ids []int64) ([]models.SKU, error) {
	skus, err := h.Store.Catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]models.SKU, len(skus))
	for _, k := range skus {
		byID[k.ID] = k
	}
	out := make([]models.SKU, 0, len(ids))
	for _, id := range ids {
		if k, ok := byID[id]; ok && k.IsLaunched {
			out = append(out, k)
		}
	}
	return out, nil
}

// historyBody is the JSON of POST /browse_histories/.
type historyBody struct {
	SKUID *flexInt `json:"sku_id"`
}

// BrowseHistoryAdd records that the user looked at a SKU: {sku_id} ->
// {code:0}. A SKU that does not exist is a refusal (code 400); without
// Redis the answer is 503.
func (h *Handlers) BrowseHistoryAdd(c *gin.Context) {
	asJSON(c)
	var body historyBody
	if err := bindJSON(c, &body); err != nil {
		h.fail(c, err)
		return
	}
	switch {
	case body.SKUID == nil:
		h.fail(c, badField("sku_id", "err.field.missing"))
		return
	case *body.SKUID < 1:
		h.fail(c, badField("sku_id", "err.field.type"))
		return
	}
	ctx := c.Request.Context()
	id := int64(*body.SKUID)
	if _, err := h.Store.Catalog.SKUByID(ctx, id); errors.Is(err, models.ErrNotFound) {
		h.fail(c, reject("history.sku_id"))
		return
	} else if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.Carts.AddHistory(ctx, currentUser(c).ID, id); err != nil {
		h.fail(c, err)
		return
	}
	ok(c, nil)
}

// BrowseHistory answers the user's browse history, newest first:
// {code:0, errmsg, skus:[{id, name, default_image_url, price}]}, price as
// "12.00". Without Redis the history is empty.
func (h *Handlers) BrowseHistory(c *gin.Context) {
	asJSON(c)
	uid := currentUser(c).ID
	ids, err := h.Carts.History(c.Request.Context(), uid)
	if err != nil {
		h.Log.Warn("browse history not read", "user", uid, "err", err)
	}
	skus, err := h.historySKUs(c.Request.Context(), ids)
	if err != nil {
		h.fail(c, err)
		return
	}
	out := make([]gin.H, len(skus))
	for i, k := range skus {
		out[i] = gin.H{"id": k.ID, "name": k.Name, "default_image_url": skuImage(&k), "price": k.Price.StringFixed(2)}
	}
	ok(c, gin.H{"skus": out})
}

// PasswordPage shows the password change form.
func (h *Handlers) PasswordPage(c *gin.Context) {
	h.renderPassword(c, http.StatusOK, nil, "")
}

// PasswordChange changes the user's password from the form: old_password,
// new_password, new_password2, the new one under sign-up's rules
// (models.CheckPassword). On success every other session of the user
// ends (the session generation moves on) and this one is opened again
// under the new generation, with the same expiry, so the user stays
// logged in here; the answer is a redirect to /info/ saying so. A wrong
// old password counts as a failed login of the account (Limits), and
// over the limits the old password is not even checked (429). A form
// with problems is shown again (400) with a message per field, and
// nothing changes.
func (h *Handlers) PasswordChange(c *gin.Context) {
	u := currentUser(c)
	old, pw, pw2 := c.PostForm("old_password"), c.PostForm("new_password"), c.PostForm("new_password2")
	problems := map[string]string{}
	for field, v := range map[string]string{"old_password": old, "new_password": pw, "new_password2": pw2} {
		if v == "" {
			problems[field] = "password.required"
		}
	}
	if problems["new_password"] == "" {
		if bad := models.CheckPassword(pw, u.Username, u.Mobile, u.Email); len(bad) > 0 {
			problems["new_password"] = passwordKeys[bad[0]]
		} else if pw == old {
			problems["new_password"] = "password.same"
		}
	}
	if problems["new_password"] == "" && problems["new_password2"] == "" && pw2 != pw {
		problems["new_password2"] = "register.err.password2"
	}
	if len(problems) > 0 {
		h.renderPassword(c, http.StatusBadRequest, problems, "password.form")
		return
	}
	ctx := c.Request.Context()
	limits := h.loginLimits(u.Username, u.ID, c.ClientIP())
	wait, err := h.loginWait(ctx, limits)
	if err != nil {
		h.fail(c, err)
		return
	}
	if wait > 0 {
		setRetryAfter(c, wait)
		h.renderPasswordMsg(c, http.StatusTooManyRequests, nil, templates.Tf(lang(c), "password.limited", int(math.Ceil(wait.Minutes()))))
		return
	}
	fresh, err := h.Store.Accounts.ChangePassword(ctx, u.ID, old, pw)
	if errors.Is(err, models.ErrBadCredential) {
		h.countLoginFailure(ctx, limits)
		h.renderPassword(c, http.StatusBadRequest, map[string]string{"old_password": "password.wrong_old"}, "password.form")
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.reissueSession(c, fresh); err != nil {
		h.fail(c, err)
		return
	}
	c.Redirect(http.StatusFound, "/info/?password=changed")
}

// reissueSession opens the current session again for u as now stored
// (its new password hash and session generation), keeping its expiry and
// whether the cookie outlives the browser ("remember me": a session that
// had more than a browser session's day to live).
func (h *Handlers) reissueSession(c *gin.Context, u *models.User) error {
	h.users.evict(u.ID)
	l := h.loginOf(c)
	s := h.session(c)
	s.Values = map[any]any{}
	s.Options = &sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies}
	left := l.exp - h.Now().Unix()
	if left > int64(browserFor.Seconds()) {
		s.Options.MaxAge = int(left)
	}
	s.Values["uid"] = u.ID
	s.Values["auth"] = authHash(u)
	s.Values["exp"] = l.exp
	s.Values["gen"] = u.SessionGeneration
	c.Set(ctxUser, u)
	if err := s.Save(c.Request, c.Writer); err != nil {
		return fmt.Errorf("reissue the session of user %d: %w", u.ID, err)
	}
	return nil
}

func (h *Handlers) renderPassword(c *gin.Context, status int, problems map[string]string, msgKey string) {
	msg := ""
	if msgKey != "" {
		msg = templates.T(lang(c), msgKey)
	}
	h.renderPasswordMsg(c, status, problems, msg)
}

func (h *Handlers) renderPasswordMsg(c *gin.Context, status int, problems map[string]string, msg string) {
	p := h.page(c, templates.T(lang(c), "password.title"))
	v := templates.PasswordView{Page: p, Errors: map[string]string{}, Message: msg}
	for field, key := range problems {
		v.Errors[field] = p.T(key)
	}
	h.render(c, status, templates.Password(v))
}
