package handlers

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// Limits caps how often one client may fail to log in or may sign up,
// counted in Redis (GCRA, redis_rate). A zero field takes its default.
type Limits struct {
	LoginPerUser  redis_rate.Limit // failed logins per (login name, client IP); default 5 per 15 minutes
	LoginPerIP    redis_rate.Limit // failed logins per client IP; default 20 per 15 minutes
	RegisterPerIP redis_rate.Limit // sign-ups per client IP; default 20 per hour
	// LoginPerAccount are limits on failed logins per account, from any
	// address, its username and mobile counted together: every one must
	// have room. The default lets 5 failures through, then one every 12 s,
	// after 10 one a minute, after 20 one every 5 minutes: the delay grows
	// and caps at 5 minutes, so the owner always gets a try.
	LoginPerAccount []redis_rate.Limit
}

func (l Limits) withDefaults() Limits {
	if l.LoginPerUser.IsZero() {
		l.LoginPerUser = redis_rate.Limit{Rate: 5, Burst: 5, Period: 15 * time.Minute}
	}
	if l.LoginPerIP.IsZero() {
		l.LoginPerIP = redis_rate.Limit{Rate: 20, Burst: 20, Period: 15 * time.Minute}
	}
	if l.RegisterPerIP.IsZero() {
		l.RegisterPerIP = redis_rate.PerHour(20)
	}
	if len(l.LoginPerAccount) == 0 {
		l.LoginPerAccount = l.LoginPerAccountDefaults()
	}
	return l
}

// LoginPerAccountDefaults are the default LoginPerAccount tiers.
func (Limits) LoginPerAccountDefaults() []redis_rate.Limit {
	return []redis_rate.Limit{
		{Rate: 5, Burst: 5, Period: time.Minute},
		{Rate: 1, Burst: 10, Period: time.Minute},
		{Rate: 1, Burst: 20, Period: 5 * time.Minute},
	}
}

// Input formats, as in the Django shop.
var (
	usernameRe = regexp.MustCompile(`^[A-Za-z0-9_-]{5,20}$`)
	digitsRe   = regexp.MustCompile(`^[0-9]+$`)
	mobileRe   = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
)

// maxLoginLen is the longest username the database holds.
const maxLoginLen = 150

// registerForm is the sign-up form as posted.
type registerForm struct {
	Username  string
	Password  string
	Password2 string
	Mobile    string
	Allow     bool
}

// problems returns the catalog key of each field's problem.
func (f registerForm) problems() map[string]string {
	out := map[string]string{}
	switch {
	case !usernameRe.MatchString(f.Username):
		out["username"] = "register.err.username"
	case digitsRe.MatchString(f.Username):
		// All digits would be confused with a mobile number at login.
		out["username"] = "register.err.username_digits"
	}
	if bad := models.CheckPassword(f.Password, f.Username, f.Mobile); len(bad) > 0 {
		out["password"] = passwordKeys[bad[0]]
	} else if f.Password2 != f.Password {
		out["password2"] = "register.err.password2"
	}
	if !mobileRe.MatchString(f.Mobile) {
		out["mobile"] = "register.err.mobile"
	}
	if !f.Allow {
		out["allow"] = "register.err.allow"
	}
	return out
}

// passwordKeys are the messages of the password rules.
var passwordKeys = map[models.PasswordProblem]string{
	models.PasswordTooShort:   "register.err.password_short",
	models.PasswordTooLong:    "register.err.password_long",
	models.PasswordTooSimilar: "register.err.password_similar",
	models.PasswordNumeric:    "register.err.password_numeric",
	models.PasswordCommon:     "register.err.password_common",
}

// RegisterPage shows the sign-up form.
func (h *Handlers) RegisterPage(c *gin.Context) {
	if currentUser(c) != nil {
		c.Redirect(http.StatusFound, "/")
		return
	}
	h.renderRegister(c, http.StatusOK, registerForm{}, nil, "")
}

// Register creates an account from the sign-up form, logs it in, merges
// the cookie cart and goes to the home page. A form with problems is shown
// again (400) with a message per field and the values kept, except the
// passwords. Well-formed sign-ups per client IP are limited (429), counted
// before the username and mobile are looked up.
func (h *Handlers) Register(c *gin.Context) {
	if currentUser(c) != nil {
		c.Redirect(http.StatusFound, "/")
		return
	}
	f := registerForm{
		Username:  strings.TrimSpace(c.PostForm("username")),
		Password:  c.PostForm("password"),
		Password2: c.PostForm("password2"),
		Mobile:    strings.TrimSpace(c.PostForm("mobile")),
		Allow:     c.PostForm("allow") == "on",
	}
	ctx := c.Request.Context()
	problems := f.problems()
	if len(problems) > 0 {
		h.renderRegister(c, http.StatusBadRequest, f, problems, "register.err.form")
		return
	}
	// The limit comes before the uniqueness checks, so that the form cannot
	// tell which names and numbers exist faster than it lets anyone sign up.
	res, err := h.Limiter.Allow(ctx, "register:ip:"+c.ClientIP(), h.Limits.RegisterPerIP)
	if err != nil {
		h.Log.Error("sign-up rate limit", "err", err)
		h.renderRegister(c, http.StatusServiceUnavailable, f, nil, "err.503")
		return
	}
	if res.Allowed == 0 {
		setRetryAfter(c, res.RetryAfter)
		h.renderRegister(c, http.StatusTooManyRequests, f, nil, "register.err.limited")
		return
	}
	if err := h.markTaken(ctx, f, problems); err != nil {
		h.fail(c, err)
		return
	}
	if len(problems) > 0 {
		h.renderRegister(c, http.StatusBadRequest, f, problems, "register.err.form")
		return
	}
	u, err := h.Store.Accounts.CreateUser(ctx, models.NewUser{Username: f.Username, Password: f.Password, Mobile: f.Mobile})
	if errors.Is(err, models.ErrDuplicate) {
		// Another sign-up took the name or number since the check above.
		if err := h.markTaken(ctx, f, problems); err != nil {
			h.fail(c, err)
			return
		}
		if len(problems) == 0 {
			problems["username"] = "register.err.username_taken"
		}
		h.renderRegister(c, http.StatusBadRequest, f, problems, "register.err.form")
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	if err := h.startSession(c, u, false); err != nil {
		h.fail(c, err)
		return
	}
	h.mergeCookieCart(c, u.ID)
	c.Redirect(http.StatusFound, "/")
}

// markTaken adds a problem to the username and mobile fields that another
// user already has.
func (h *Handlers) markTaken(ctx context.Context, f registerForm, problems map[string]string) error {
	taken, err := h.Store.Accounts.UsernameTaken(ctx, f.Username)
	if err != nil {
		return err
	}
	if taken {
		problems["username"] = "register.err.username_taken"
	}
	if taken, err = h.Store.Accounts.MobileTaken(ctx, f.Mobile); err != nil {
		return err
	}
	if taken {
		problems["mobile"] = "register.err.mobile_taken"
	}
	return nil
}

func (h *Handlers) renderRegister(c *gin.Context, status int, f registerForm, problems map[string]string, msgKey string) {
	p := h.page(c, templates.T(lang(c), "register.title"))
	v := templates.RegisterView{Page: p, Username: f.Username, Mobile: f.Mobile, Allow: f.Allow, Errors: map[string]string{}}
	for field, key := range problems {
		v.Errors[field] = p.T(key)
	}
	if msgKey != "" {
		v.Message = p.T(msgKey)
	}
	h.render(c, status, templates.Register(v))
}

// loginForm is the login form as posted.
type loginForm struct {
	Username   string // or the mobile number
	Password   string
	Remembered bool
	Next       string
}

// LoginPage shows the login form; a logged-in visitor goes on to next.
func (h *Handlers) LoginPage(c *gin.Context) {
	next := c.Query("next")
	if currentUser(c) != nil {
		c.Redirect(http.StatusFound, safeNext(next))
		return
	}
	h.renderLogin(c, http.StatusOK, loginForm{Next: next}, "")
}

// Login checks the login form, opens a new session (two weeks with
// "remembered", else until the browser closes), merges the cookie cart and
// goes to next, which must be a local path. Any failure shows one generic
// message (400). Failed attempts are counted per (login, client IP), per
// client IP and per account (Limits); over a limit the password is not
// even checked (429).
// Without Redis to count them, logins are refused (503).
func (h *Handlers) Login(c *gin.Context) {
	f := loginForm{
		Username:   strings.TrimSpace(c.PostForm("username")),
		Password:   c.PostForm("password"),
		Remembered: c.PostForm("remembered") == "on",
		Next:       c.PostForm("next"),
	}
	if f.Next == "" {
		f.Next = c.Query("next")
	}
	l := lang(c)
	switch {
	case f.Username == "" || f.Password == "":
		h.renderLogin(c, http.StatusBadRequest, f, templates.T(l, "login.err.required"))
		return
	case len(f.Username) > maxLoginLen:
		h.renderLogin(c, http.StatusBadRequest, f, templates.T(l, "login.err.credentials"))
		return
	}
	ctx := c.Request.Context()
	account, err := h.Store.Accounts.LoginAccount(ctx, f.Username)
	if err != nil {
		h.Log.Error("look up a login", "err", err)
		h.renderLogin(c, http.StatusServiceUnavailable, f, templates.T(l, "login.err.unavailable"))
		return
	}
	limits := h.loginLimits(f.Username, account, c.ClientIP())
	wait, err := h.loginWait(ctx, limits)
	if err != nil {
		h.Log.Error("login rate limit", "err", err)
		h.renderLogin(c, http.StatusServiceUnavailable, f, templates.T(l, "login.err.unavailable"))
		return
	}
	if wait > 0 {
		setRetryAfter(c, wait)
		h.renderLogin(c, http.StatusTooManyRequests, f, templates.Tf(l, "login.err.limited", int(math.Ceil(wait.Minutes()))))
		return
	}
	u, err := h.Store.Accounts.Authenticate(ctx, f.Username, f.Password)
	if errors.Is(err, models.ErrBadCredential) {
		h.countLoginFailure(ctx, limits)
		h.renderLogin(c, http.StatusBadRequest, f, templates.T(l, "login.err.credentials"))
		return
	}
	if err != nil {
		h.fail(c, err)
		return
	}
	// The per-login and per-account counts restart: the password was
	// right. The per-IP count does not: a client must not clear it by
	// logging into an account of its own.
	for _, lim := range limits {
		if lim.resetOnSuccess {
			if err := h.Limiter.Reset(ctx, lim.key); err != nil {
				h.Log.Warn("reset failed logins", "key", lim.key, "err", err)
			}
		}
	}
	if err := h.startSession(c, u, f.Remembered); err != nil {
		h.fail(c, err)
		return
	}
	h.mergeCookieCart(c, u.ID)
	c.Redirect(http.StatusFound, safeNext(f.Next))
}

// Logout ends the user's sessions, on every process and device, and goes
// home. If the database cannot record it, the answer is 503 and the
// session is kept, so that the visitor is not told of a logout that did
// not happen.
func (h *Handlers) Logout(c *gin.Context) {
	if err := h.endSession(c); err != nil {
		h.Log.Error("log out", "err", err)
		h.fail(c, &statusError{Status: http.StatusServiceUnavailable})
		return
	}
	c.Redirect(http.StatusFound, "/")
}

func (h *Handlers) renderLogin(c *gin.Context, status int, f loginForm, msg string) {
	p := h.page(c, templates.T(lang(c), "login.title"))
	h.render(c, status, templates.Login(templates.LoginView{
		Page: p, Username: f.Username, Remembered: f.Remembered, Next: f.Next, Message: msg,
	}))
}

// loginLimit is one count of failed logins.
type loginLimit struct {
	key            string
	limit          redis_rate.Limit
	resetOnSuccess bool
}

// loginLimits are the counts a login attempt is checked against: per
// (login, client IP), per client IP, and per account (the user id, so that
// the username and the mobile count together; an unknown login is counted
// under its name).
func (h *Handlers) loginLimits(login string, account int64, ip string) []loginLimit {
	login = strings.ToLower(login)
	out := []loginLimit{
		{"login:fail:user:" + login + ":" + ip, h.Limits.LoginPerUser, true},
		{"login:fail:ip:" + ip, h.Limits.LoginPerIP, false},
	}
	acct := "name:" + login
	if account != 0 {
		acct = "id:" + strconv.FormatInt(account, 10)
	}
	for i, lim := range h.Limits.LoginPerAccount {
		out = append(out, loginLimit{"login:fail:acct:" + strconv.Itoa(i) + ":" + acct, lim, true})
	}
	return out
}

// loginWait says how long the client must wait before it may try again; 0
// means now.
func (h *Handlers) loginWait(ctx context.Context, limits []loginLimit) (time.Duration, error) {
	var wait time.Duration
	for _, l := range limits {
		// A cost of 0 only looks: is there room for one more failure?
		res, err := h.Limiter.AllowAtMost(ctx, l.key, l.limit, 0)
		if err != nil {
			return 0, fmt.Errorf("check failed logins: %w", err)
		}
		wait = max(wait, res.RetryAfter)
	}
	return wait, nil
}

// countLoginFailure counts one failed login in every limit.
func (h *Handlers) countLoginFailure(ctx context.Context, limits []loginLimit) {
	for _, l := range limits {
		if _, err := h.Limiter.Allow(ctx, l.key, l.limit); err != nil {
			h.Log.Warn("count a failed login", "key", l.key, "err", err)
		}
	}
}

// setRetryAfter sets the Retry-After header in whole seconds, rounded up.
func setRetryAfter(c *gin.Context, d time.Duration) {
	c.Header("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
}
