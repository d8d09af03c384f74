package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// SessionName is the session cookie's name.
const SessionName = "shop_session"

// CSRFCookie is the cookie that holds the CSRF secret (web sets it up).
const CSRFCookie = "csrftoken"

// Session lifetimes: "remember me" keeps the login for two weeks; otherwise
// the cookie ends with the browser, and the server refuses it after a day.
const (
	rememberFor = 14 * 24 * time.Hour
	browserFor  = 24 * time.Hour
)

func itoa(n int) string { return strconv.Itoa(n) }

func (h *Handlers) session(c *gin.Context) *sessions.Session {
	// Get returns a new empty session along with the error when the cookie
	// cannot be decoded (forged, old key, expired): that is "logged out".
	s, _ := h.Sessions.Get(c.Request, SessionName)
	return s
}

// Authenticate loads the logged-in user, if any, for later handlers.
// A session past its expiry, for a deleted or inactive user, opened with
// a password that has since changed, or ended on the server (sessionUser)
// counts as logged out; a database error is 503, never "logged out".
func (h *Handlers) Authenticate(c *gin.Context) {
	u, err := h.sessionUser(c, h.loginOf(c))
	if err != nil {
		h.fail(c, errors.Join(&statusError{Status: http.StatusServiceUnavailable}, err))
		return
	}
	if u != nil {
		c.Set(ctxUser, u)
	}
	c.Next()
}

// loadUser reads a user, again if the database connection was lost (an
// idle connection that the server ended fails its next statement), within
// the request's deadline (models.TxTimeout when it has none).
func (h *Handlers) loadUser(ctx context.Context, uid int64) (u *models.User, err error) {
	err = models.RetryRead(ctx, func(ctx context.Context) error {
		u, err = h.Store.Accounts.UserByID(ctx, uid)
		return err
	})
	return u, err
}

// sessionUser is the user a session is logged in as, or nil. The session
// carries the user's session generation at login; once it moves on
// (logout, a password change, deactivation: models.Accounts.EndSessions)
// the session is over. Users are cached for at most userTTL, so another
// process's logout counts here within that; this process evicts its own.
func (h *Handlers) sessionUser(c *gin.Context, l login) (*models.User, error) {
	if l.uid == 0 || h.Now().Unix() >= l.exp {
		return nil, nil
	}
	u, err := h.users.get(c.Request.Context(), l.uid, h.loadUser)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !u.IsActive || l.auth != authHash(u) || l.gen != u.SessionGeneration {
		return nil, nil
	}
	return u, nil
}

// login is what a session cookie says of its login.
type login struct {
	uid, exp, gen int64
	auth          string
	csrf          string // a random value of this login (CSRFBinding)
}

// loginOf reads the login from the session cookie. Decoding a cookie
// (base64, HMAC, JSON) is a good part of a small request's cost, and a
// browser sends the same cookie again and again, so what one cookie value
// decodes to is kept for CacheTTL. Nothing is trusted longer for it:
// Authenticate checks the expiry, the user and the password hash on
// every request.
func (h *Handlers) loginOf(c *gin.Context) login { return h.loginOfRequest(c.Request) }

func (h *Handlers) loginOfRequest(r *http.Request) login {
	ck, err := r.Cookie(SessionName)
	if err != nil {
		return login{}
	}
	l, _ := h.logins.get(r.Context(), ck.Value, func(context.Context, string) (login, error) {
		// Get returns a new empty session when the cookie cannot be
		// decoded: that is "logged out".
		s, _ := h.Sessions.Get(r, SessionName)
		var l login
		l.uid, _ = s.Values["uid"].(int64)
		l.exp, _ = s.Values["exp"].(int64)
		l.auth, _ = s.Values["auth"].(string)
		l.gen, _ = s.Values["gen"].(int64)
		l.csrf, _ = s.Values["csrf"].(string)
		return l, nil
	})
	return l
}

// CSRFBinding is what the request's CSRF secret is bound to (web derives
// the secret's signing key from it): "" for a visitor, a random value of
// the login for a logged-in session. A secret issued before a login (or
// after it, for a logout) fails its signature, so the token that a page
// showed then is refused, whatever cookie comes with it.
func (h *Handlers) CSRFBinding(r *http.Request) string {
	l := h.loginOfRequest(r)
	if l.uid == 0 {
		return ""
	}
	return strconv.FormatInt(l.uid, 10) + ":" + strconv.FormatInt(l.exp, 10) + ":" + l.csrf
}

func currentUser(c *gin.Context) *models.User {
	if u, ok := c.Get(ctxUser); ok {
		return u.(*models.User)
	}
	return nil
}

// startSession logs u in on a fresh session: values of the old session are
// dropped, so a session fixed before login is worth nothing after it.
func (h *Handlers) startSession(c *gin.Context, u *models.User, remember bool) error {
	h.users.evict(u.ID)
	s := h.session(c)
	s.Values = map[any]any{}
	life := browserFor
	s.Options = &sessions.Options{Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies}
	if remember {
		life = rememberFor
		s.Options.MaxAge = int(rememberFor / time.Second)
	}
	s.Values["uid"] = u.ID
	s.Values["auth"] = authHash(u)
	s.Values["exp"] = h.Now().Add(life).Unix()
	s.Values["gen"] = u.SessionGeneration
	s.Values["csrf"] = rand.Text()
	c.Set(ctxUser, u)
	h.rotateCSRF(c)
	return s.Save(c.Request, c.Writer)
}

// endSession logs out: the user's sessions end on the server (every
// process refuses them within userTTL) and the cookie is deleted. If the
// database cannot record it, the cookie is kept and the error returned.
func (h *Handlers) endSession(c *gin.Context) error {
	if u := currentUser(c); u != nil {
		err := h.Store.Accounts.EndSessions(c.Request.Context(), u.ID)
		h.users.evict(u.ID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
	}
	s := h.session(c)
	s.Values = map[any]any{}
	s.Options = &sessions.Options{Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies}
	c.Set(ctxUser, nil)
	h.rotateCSRF(c)
	return s.Save(c.Request, c.Writer)
}

// rotateCSRF deletes the CSRF secret's cookie when a login starts or
// ends, as Django rotates its token at login: the next page the browser
// loads gets a fresh secret and token. (The old secret would be refused
// anyway: it is bound to the login, see CSRFBinding.)
func (h *Handlers) rotateCSRF(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: CSRFCookie, Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: h.SecureCookies, SameSite: http.SameSiteLaxMode})
}

// LoginRequiredJSON answers 401 with code 4101 for an anonymous request.
func (h *Handlers) LoginRequiredJSON(c *gin.Context) {
	if currentUser(c) == nil {
		c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"code": 4101, "errmsg": "用户未登录 (not logged in)"})
		return
	}
	c.Next()
}

// LoginRequiredPage redirects an anonymous request to the login page.
func (h *Handlers) LoginRequiredPage(c *gin.Context) {
	if currentUser(c) == nil {
		c.Redirect(http.StatusFound, templates.LoginURL(c.Request.URL.RequestURI()))
		c.Abort()
		return
	}
	c.Next()
}

// StaffRequired guards /admin/: an anonymous visitor is sent to log in
// (401 code 4101 on JSON), a logged-in user who is not staff gets 403.
func (h *Handlers) StaffRequired(c *gin.Context) {
	u := currentUser(c)
	switch {
	case u == nil && wantsJSON(c):
		h.LoginRequiredJSON(c)
	case u == nil:
		h.LoginRequiredPage(c)
	case !u.IsStaff:
		h.fail(c, &statusError{Status: http.StatusForbidden})
	default:
		c.Next()
	}
}
