// Package web wires the HTTP side: middleware, CSRF, static files, and the
// list of routes, one line each.
package web

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/csrf"

	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/static"
)

// Config is what the router needs besides the handlers.
type Config struct {
	CSRFKey       []byte // 32 bytes
	SecureCookies bool   // served over TLS
	MaxBody       int64  // bytes; 0 means 16 KiB
	Log           *slog.Logger
}

// New returns the shop's whole HTTP handler.
func New(h *handlers.Handlers, cfg Config) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.RedirectTrailingSlash = true
	r.Use(recovery(cfg.Log), requestLog(cfg.Log), securityHeaders)

	r.Group("/static", staticCache).StaticFS("/", http.FS(static.Files))
	r.GET("/healthz", h.Health)

	app := r.Group("/", h.Language, h.Authenticate)
	page := app.Group("/", h.LoginRequiredPage)
	api := app.Group("/", h.LoginRequiredJSON)
	app.GET("/lang/", h.SetLanguage)

	// Catalog.

	// Accounts and addresses.

	// Carts.

	// Orders.
	_, _ = page, api

	r.NoRoute(h.Language, h.Authenticate, h.NotFound)

	return withCSRF(r, h, cfg)
}

// withCSRF checks the CSRF token on every unsafe request before gin sees
// it. The token travels in the X-CSRFToken header or the
// csrfmiddlewaretoken form field, as in Django.
func withCSRF(next http.Handler, h *handlers.Handlers, cfg Config) http.Handler {
	failures := gin.New()
	failures.Use(recovery(cfg.Log), securityHeaders, h.Language, h.Authenticate)
	failures.NoRoute(h.CSRFFailure)

	protect := csrf.Protect(cfg.CSRFKey,
		csrf.Secure(cfg.SecureCookies),
		csrf.Path("/"),
		csrf.CookieName("csrftoken"),
		csrf.RequestHeader("X-CSRFToken"),
		csrf.FieldName("csrfmiddlewaretoken"),
		csrf.SameSite(csrf.SameSiteLaxMode),
		csrf.ErrorHandler(failures),
	)(next)

	max := cfg.MaxBody
	if max == 0 {
		max = 16 << 10
	}
	return limitBody(max, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// gorilla/csrf v1.7.3 assumes TLS and refuses a plain-HTTP POST
		// that carries an Origin header (which browsers send) unless the
		// request is marked as plaintext.
		if r.TLS == nil && !cfg.SecureCookies {
			r = csrf.PlaintextHTTPRequest(r)
		}
		protect.ServeHTTP(w, r)
	}))
}
