// Package handlers turns HTTP requests into calls on models and carts and
// renders the answers: templ pages, or the Django shop's JSON shape
// {"code": 0, "errmsg": "..."}. It holds no SQL and sends no Redis command.
package handlers

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/a-h/templ"
	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/gorilla/csrf"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/internal/alipay"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/templates"
)

// Deps is everything the handlers need, passed explicitly.
type Deps struct {
	Store    *models.Store
	Carts    *carts.Store
	Orders   *order.Orders  // the order commit; nil means the default strategy on Store
	Sessions sessions.Store // gorilla/sessions; signs (and encrypts) the session cookie
	Limiter  *redis_rate.Limiter
	Log      *slog.Logger
	// CookieKey signs the anonymous visitor's cookie cart.
	CookieKey []byte
	// SecureCookies marks cookies Secure (set when served over TLS).
	SecureCookies bool
	Now           func() time.Time
	// CacheTTL is how long a loaded user, an address's owner, or the SKU
	// of a cart line is reused across requests; 0 means 2 seconds,
	// negative turns the caches off. What this process changes itself
	// is evicted at once.
	CacheTTL time.Duration
	// Limits caps login failures and sign-ups; zero fields take the defaults.
	Limits Limits
	// Seckill runs the flash sales; SeckillLimits caps buy attempts.
	Seckill       *seckill.Engine
	SeckillLimits SeckillLimits
	// MediaDir keeps uploaded images, served at /media/<name>. It is
	// created on the first upload.
	MediaDir string
	// Alipay takes online payments, with its Gateway, NotifyURL and
	// ReturnURL filled in; nil turns online payment off.
	Alipay *alipay.Client
	// DevGateway, when set, serves /dev/alipay/gateway.do: a development
	// stand-in for Alipay's gateway that Alipay's client talks to.
	DevGateway *alipay.DevGateway
	// DevHTTP posts the development gateway's notifications; nil means a
	// client with a 10 s timeout.
	DevHTTP *http.Client
	// UnpaidExpiry is how long an unpaid online order is kept
	// (SHOP_UNPAID_EXPIRY); 0 means 30 minutes.
	UnpaidExpiry time.Duration
	// Draining reports that the process is shutting down, so /readyz
	// answers 503 while requests under way finish; nil: never.
	Draining func() bool
}

// Handlers serves every route. Build it with New.
type Handlers struct {
	Deps
	users *ttlCache[int64, *models.User]
	// addresses remembers which address ids belong to which user, for the
	// flash sale's buy path.
	addresses *ttlCache[addressKey, bool]
	// skus are the SKUs that cart lines name, for the cart's answers. The
	// order commit reads SKUs afresh.
	skus *ttlCache[int64, *models.SKU]
	// logins are what session cookie values decode to (loginOf).
	logins *ttlCache[string, login]
	// The flash sale's admission limits, per user id and per client IP.
	buyersLimit, ipsLimit *admission
	// regions is tb_areas, loaded once.
	regions *regions
}

type addressKey struct{ uid, id int64 }

// New checks deps and returns the handlers.
func New(d Deps) (*Handlers, error) {
	switch {
	case d.Store == nil:
		return nil, errors.New("handlers: Store is required")
	case d.Carts == nil:
		return nil, errors.New("handlers: Carts is required")
	case d.Sessions == nil:
		return nil, errors.New("handlers: Sessions is required")
	case d.Limiter == nil:
		return nil, errors.New("handlers: Limiter is required")
	case d.Seckill == nil:
		return nil, errors.New("handlers: Seckill is required")
	case len(d.CookieKey) < 32:
		return nil, errors.New("handlers: CookieKey must be at least 32 bytes")
	case d.MediaDir == "":
		return nil, errors.New("handlers: MediaDir is required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	d.Limits = d.Limits.withDefaults()
	d.SeckillLimits = d.SeckillLimits.withDefaults()
	if d.Orders == nil {
		d.Orders = order.New(d.Store, order.Config{})
	}
	if d.CacheTTL == 0 {
		d.CacheTTL = 2 * time.Second
	}
	if d.UnpaidExpiry == 0 {
		d.UnpaidExpiry = 30 * time.Minute
	}
	if d.DevHTTP == nil {
		d.DevHTTP = &http.Client{Timeout: 10 * time.Second}
	}
	return &Handlers{
		Deps:      d,
		users:     newTTLCache[int64, *models.User](min(d.CacheTTL, userTTL), 100_000),
		addresses: newTTLCache[addressKey, bool](d.CacheTTL, 100_000),
		skus:      newTTLCache[int64, *models.SKU](d.CacheTTL, 100_000),
		logins:    newTTLCache[string, login](d.CacheTTL, 100_000),

		buyersLimit: newAdmission(d.SeckillLimits.PerUser, 100_000),
		ipsLimit:    newAdmission(d.SeckillLimits.PerIP, 100_000),
		regions:     &regions{},
	}, nil
}

// userTTL caps how long a loaded user is reused (below CacheTTL's 2 s), so
// that a logout, a password change or a deactivation on another process
// ends the user's sessions here within a second: at most userTTL later.
const userTTL = 500 * time.Millisecond

// Context keys set by the middleware in this package.
const (
	ctxUser = "shop.user"
	ctxLang = "shop.lang"
)

// Language picks the page language: the "lang" cookie, then Accept-Language.
func (h *Handlers) Language(c *gin.Context) {
	choice, _ := c.Cookie("lang")
	c.Set(ctxLang, templates.ParseLang(choice, c.GetHeader("Accept-Language")))
	c.Next()
}

// SetLanguage stores the visitor's language choice and goes back.
func (h *Handlers) SetLanguage(c *gin.Context) {
	to := "zh"
	if c.Query("to") == "en" {
		to = "en"
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: "lang", Value: to, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.SecureCookies})
	c.Redirect(http.StatusFound, safeNext(c.Query("next")))
}

func lang(c *gin.Context) templates.Lang {
	if l, ok := c.Get(ctxLang); ok {
		return l.(templates.Lang)
	}
	return templates.Chinese
}

// safeNext keeps redirects on this site: next must be a path on this
// site as a browser parses it, else the answer is "/". Browsers drop tabs
// and newlines from a URL and read a backslash as a slash, so "/\t/evil"
// and "/\\evil" would leave the site: any control character, backslash
// or invalid UTF-8 refuses next outright, as does anything with a scheme,
// a host, or a path that begins "//" once decoded.
func safeNext(next string) string {
	if !localPath(next) {
		return "/"
	}
	return next
}

// maxNext bounds a next URL.
const maxNext = 2048

func localPath(next string) bool {
	if next == "" || len(next) > maxNext || next[0] != '/' || !utf8.ValidString(next) {
		return false
	}
	for _, r := range next {
		if r == '\\' || unicode.IsControl(r) || r == utf8.RuneError {
			return false
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return false
	}
	for _, r := range u.Path {
		if r == '\\' || unicode.IsControl(r) {
			return false // percent-encoded, which a browser may decode
		}
	}
	return true
}

// page builds the layout part of a page's view.
func (h *Handlers) page(c *gin.Context, title string) templates.Page {
	p := templates.Page{
		Lang:      lang(c),
		Title:     title,
		CSRFToken: csrf.Token(c.Request),
		Path:      c.Request.URL.RequestURI(),
	}
	if u := currentUser(c); u != nil {
		p.User = &templates.UserInfo{ID: u.ID, Username: u.Username, IsStaff: u.IsStaff}
	}
	p.CartCount = h.cartCount(c)
	return p
}

// render renders into a buffer first, so a failed render never sends half
// a page.
func (h *Handlers) render(c *gin.Context, status int, comp templ.Component) {
	var buf bytes.Buffer
	if err := comp.Render(c.Request.Context(), &buf); err != nil {
		h.fail(c, err)
		return
	}
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// ok answers {code:0, errmsg:"OK"} plus extra fields.
func ok(c *gin.Context, extra gin.H) {
	body := gin.H{"code": 0, "errmsg": "OK"}
	for k, v := range extra {
		body[k] = v
	}
	c.JSON(http.StatusOK, body)
}

// fieldError is malformed input: answered 400 with the field named.
type fieldError struct {
	Field  string
	Reason string // a catalog key or a plain text
}

func (e *fieldError) Error() string { return e.Field + ": " + e.Reason }

func badField(field, reason string) error { return &fieldError{Field: field, Reason: reason} }

// rejection is a business refusal: HTTP 200 with code 400, as the Django
// shop's scripts expect. Key is a message catalog key; Args, if any, fill
// its %s verbs.
type rejection struct {
	Key  string
	Args []any
}

func (e *rejection) Error() string { return "rejected: " + e.Key }

func reject(key string) error { return &rejection{Key: key} }

// statusError answers a bare HTTP status with its standard message.
type statusError struct{ Status int }

func (e *statusError) Error() string { return http.StatusText(e.Status) }

// businessKeys maps the sentinels that are business rejections, of every
// package, to their message keys: the one table of them. (A
// *models.StockError is named in its message: see fail.)
var businessKeys = []struct {
	err error
	key string
}{
	{models.ErrOutOfStock, "order.out_of_stock"},
	{seckill.ErrSoldOut, "seckill.sold_out"},
	{seckill.ErrNotStarted, "seckill.not_started"},
	{seckill.ErrEnded, "seckill.ended"},
	{seckill.ErrLimit, "seckill.limit"},
	{seckill.ErrNoSale, "seckill.no_sale"},
	{models.ErrNotLaunched, "cart.not_launched"},
	{models.ErrEmptySelect, "order.empty"},
	{models.ErrWrongStatus, "order.wrong_status"},
	{order.ErrReviewed, "review.reviewed"},
	{order.ErrNoLine, "review.no_line"},
	{models.ErrTooMany, "err.too_many"},
	{models.ErrDuplicate, "err.duplicate"},
	{carts.ErrCount, "cart.count_range"},
	{carts.ErrFull, "cart.full"},
}

// errorReply is the JSON of a refusal: {code, errmsg}. (A struct: the
// sold-out answer is most of a flash sale's traffic, and a map costs more
// to encode.)
type errorReply struct {
	Code   int    `json:"code"`
	Errmsg string `json:"errmsg"`
	// Field and Reason, for malformed input, name the field and say what
	// is wrong with it on its own, so a form can show it next to the field.
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// fail is the one place where errors become HTTP answers. No error's own
// text reaches the user (it may hold SQL, a driver's words or an internal
// id): each known error has a message of the catalog, in the visitor's
// language, and the rest a generic one. Only 5xx are logged at error
// level; a refused input (models.ErrInvalid) is logged at info with its
// detail. A dependency that is down, or a request whose deadline passed,
// is 503, never 500.
func (h *Handlers) fail(c *gin.Context, err error) {
	l := lang(c)
	status, code, msg := http.StatusInternalServerError, 500, templates.T(l, "err.500")
	var field, reason string
	var fe *fieldError
	var rj *rejection
	var se *statusError
	var mbe *http.MaxBytesError
	var stock *models.StockError
	switch {
	case errors.As(err, &mbe):
		status, code, msg = http.StatusRequestEntityTooLarge, 413, templates.T(l, "err.413")
	case errors.As(err, &fe):
		field, reason = fe.Field, templates.T(l, fe.Reason)
		status, code, msg = http.StatusBadRequest, 400, templates.Tf(l, "err.field", field, reason)
	case errors.As(err, &rj):
		status, code, msg = http.StatusOK, 400, templates.T(l, rj.Key)
		if len(rj.Args) > 0 {
			msg = templates.Tf(l, rj.Key, rj.Args...)
		}
	case errors.As(err, &se):
		status, code = se.Status, se.Status
		msg = templates.T(l, "err."+itoa(se.Status))
	case errors.Is(err, models.ErrInvalid):
		status, code, msg = http.StatusBadRequest, 400, templates.T(l, "err.invalid")
		h.Log.Info("input refused", "method", c.Request.Method, "path", c.Request.URL.Path, "err", err)
	case errors.As(err, &stock):
		status, code, msg = http.StatusOK, 400, templates.Tf(l, "order.out_of_stock_sku", stock.Name)
	case errors.Is(err, models.ErrBusy), errors.Is(err, context.DeadlineExceeded), unavailable(err),
		c.Request.Context().Err() != nil:
		status, code, msg = http.StatusServiceUnavailable, 503, templates.T(l, "err.503")
	case errors.Is(err, models.ErrNotFound):
		status, code, msg = http.StatusNotFound, 404, templates.T(l, "err.404")
	default:
		for _, b := range businessKeys {
			if errors.Is(err, b.err) {
				status, code, msg = http.StatusOK, 400, templates.T(l, b.key)
				break
			}
		}
	}
	if status >= 500 {
		var uid int64
		if u := currentUser(c); u != nil {
			uid = u.ID
		}
		h.Log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.Request.URL.Path, "user", uid, "status", status, "err", err)
	}
	if status == http.StatusTooManyRequests && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", "60")
	}
	if wantsJSON(c) {
		c.AbortWithStatusJSON(status, errorReply{Code: code, Errmsg: msg, Field: field, Reason: reason})
		return
	}
	if status == http.StatusOK {
		status = http.StatusBadRequest
	}
	p := h.page(c, msg)
	var buf bytes.Buffer
	if rerr := templates.ErrorPage(p, status, msg).Render(c.Request.Context(), &buf); rerr != nil {
		c.AbortWithStatus(status)
		return
	}
	c.Abort()
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// unavailable reports errors that mean a dependency (database or Redis) is
// down, unreachable or cut off mid-transaction: answered 503, not 500.
func unavailable(err error) bool {
	var ne net.Error
	return models.Transient(err) || errors.As(err, &ne) || errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) ||
		// A request still running while the shop shuts down finds the pool
		// closed; database/sql does not export that error.
		err != nil && strings.Contains(err.Error(), "sql: database is closed")
}

// wantsJSON tells JSON endpoints from page requests.
func wantsJSON(c *gin.Context) bool {
	if strings.Contains(c.GetHeader("Content-Type"), "json") || strings.Contains(c.GetHeader("Accept"), "json") {
		return true
	}
	return c.GetHeader("X-Requested-With") == "XMLHttpRequest"
}

// bindJSON decodes the body into v. Malformed JSON and wrong types become a
// fieldError naming the field; a body over the limit, the 413 error.
func bindJSON(c *gin.Context, v any) error {
	dec := json.NewDecoder(c.Request.Body)
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			return err
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "body"
			}
			return badField(field, "err.field.type")
		default:
			return badField("body", "err.json")
		}
	}
	if dec.More() {
		return badField("body", "err.json")
	}
	return nil
}

// NotFound answers unknown routes.
func (h *Handlers) NotFound(c *gin.Context) { h.fail(c, &statusError{Status: http.StatusNotFound}) }

// CSRFFailure answers a request whose CSRF token is missing or wrong.
func (h *Handlers) CSRFFailure(c *gin.Context) {
	l := lang(c)
	msg := templates.T(l, "err.csrf")
	if wantsJSON(c) {
		c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"code": 403, "errmsg": msg})
		return
	}
	var buf bytes.Buffer
	p := h.page(c, msg)
	if err := templates.ErrorPage(p, http.StatusForbidden, msg).Render(c.Request.Context(), &buf); err != nil {
		c.AbortWithStatus(http.StatusForbidden)
		return
	}
	c.Data(http.StatusForbidden, "text/html; charset=utf-8", buf.Bytes())
}

// Health answers {"status":"ok"} with 200 when the database and Redis
// answer, {"status":"unavailable"} with 503 otherwise. Why is logged, not
// answered: an error's text can name hosts, users and DSNs.
func (h *Handlers) Health(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	status, word := http.StatusOK, "ok"
	if err := h.Store.Ping(ctx); err != nil {
		h.logDown(c, "database", err)
		status, word = http.StatusServiceUnavailable, "unavailable"
	}
	if err := h.Carts.Ping(ctx); err != nil {
		h.logDown(c, "redis", err)
		status, word = http.StatusServiceUnavailable, "unavailable"
	}
	c.JSON(status, gin.H{"status": word})
}

// logDown logs at error level why a health check found dependency down.
func (h *Handlers) logDown(c *gin.Context, dependency string, err error) {
	h.Log.ErrorContext(c.Request.Context(), "dependency unavailable", "check", c.Request.URL.Path, "dependency", dependency, "err", err)
}

// Livez answers 200 while the process serves HTTP at all: it checks
// nothing else, so an orchestrator restarts the process only when it is
// stuck, never because a dependency is down.
func (h *Handlers) Livez(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// Readyz answers 200 when this process should get traffic: the database
// and Redis answer, every migration of this binary is applied, and the
// process is not shutting down. Otherwise 503, naming what is wrong in
// words; the errors themselves are logged (see Health).
func (h *Handlers) Readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	body := gin.H{"database": "ok", "redis": "ok", "migrations": "ok", "draining": false}
	status := http.StatusOK
	if h.Draining != nil && h.Draining() {
		body["draining"], status = true, http.StatusServiceUnavailable
	}
	if err := h.Store.Ping(ctx); err != nil {
		h.logDown(c, "database", err)
		body["database"], body["migrations"], status = "unavailable", "unknown", http.StatusServiceUnavailable
	} else if pending, err := h.Store.MigrationsPending(ctx); err != nil {
		h.logDown(c, "migrations", err)
		body["migrations"], status = "unknown", http.StatusServiceUnavailable
	} else if pending {
		body["migrations"], status = "pending (run shop migrate)", http.StatusServiceUnavailable
	}
	if err := h.Carts.Ping(ctx); err != nil {
		h.logDown(c, "redis", err)
		body["redis"], status = "unavailable", http.StatusServiceUnavailable
	}
	c.JSON(status, body)
}

// authHash ties a session to the password it was opened with, so changing
// the password ends every other session (Django's session auth hash).
func authHash(u *models.User) string {
	sum := sha256.Sum256([]byte("session-auth:" + u.Password))
	return hex.EncodeToString(sum[:12])
}
