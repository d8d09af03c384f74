// Package web wires the HTTP side: middleware, CSRF, static files, and the
// list of routes, one line each.
package web

import (
	"crypto/hmac"
	"crypto/sha256"
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
	// TrustedProxies may set X-Forwarded-For; nil trusts none, so rate
	// limits by client IP cannot be dodged with a forged header.
	TrustedProxies []string
	Log            *slog.Logger
	// Observe, when set, sees every request first and last (Prometheus
	// metrics by route pattern); nil: none.
	Observe gin.HandlerFunc
}

// New returns the shop's whole HTTP handler.
func New(h *handlers.Handlers, cfg Config) http.Handler {
	return securityHeaders(cfg.SecureCookies, withRequestID(parseProxies(cfg.TrustedProxies), withCSRF(routes(h, cfg), h, cfg)))
}

// Routes lists every route New serves, so that tests can walk them (every
// /admin/ route must refuse non-staff users, say).
func Routes(h *handlers.Handlers, cfg Config) gin.RoutesInfo {
	return routes(h, cfg).Routes()
}

// group registers each GET route for HEAD too, which gin does not do by
// itself; net/http sends no body with the answer to a HEAD.
type group struct{ *gin.RouterGroup }

func (g group) GET(path string, handlers ...gin.HandlerFunc) {
	g.RouterGroup.GET(path, handlers...)
	g.RouterGroup.HEAD(path, handlers...)
}

func (g group) Group(path string, handlers ...gin.HandlerFunc) group {
	return group{g.RouterGroup.Group(path, handlers...)}
}

// routes is the gin engine with every route, before the CSRF check.
func routes(h *handlers.Handlers, cfg Config) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.RedirectTrailingSlash = true
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		cfg.Log.Error("SHOP_TRUSTED_PROXIES ignored", "err", err)
		_ = e.SetTrustedProxies(nil)
	}
	if cfg.Observe != nil {
		e.Use(cfg.Observe) // before recovery, so that it sees a panic's 500
	}
	e.Use(recovery(cfg.Log), requestLog(cfg.Log))
	r := group{&e.RouterGroup}

	r.Group("/static", staticCache).StaticFS("/", filesOnly{http.FS(static.Files)}) // GET and HEAD
	r.GET("/healthz", h.Health)
	r.GET("/livez", h.Livez)
	r.GET("/readyz", h.Readyz)
	r.GET("/media/:name", h.Media)
	r.POST(PaymentNotifyPath, h.PaymentNotify) // Alipay's: no session, no CSRF token (withCSRF)

	app := r.Group("/", h.Language, h.Authenticate)
	page := app.Group("/", h.LoginRequiredPage)
	api := app.Group("/", h.LoginRequiredJSON)
	admin := app.Group("/admin", h.StaffRequired)
	app.GET("/lang/", h.SetLanguage)

	// Catalog.
	app.GET("/", h.Home)
	app.GET("/list/:category_id/:page/", h.List)
	app.GET("/detail/:sku_id/", h.Detail)
	app.GET("/search/", h.Search)

	// Accounts and addresses.
	app.GET("/register/", h.RegisterPage)
	app.POST("/register/", h.Register)
	app.GET("/login/", h.LoginPage)
	app.POST("/login/", h.Login)
	app.POST("/logout/", h.Logout)
	page.GET("/addresses/", h.AddressesPage)
	api.POST("/addresses/create/", h.CreateAddress)
	api.PUT("/addresses/:id/", h.UpdateAddress)
	api.DELETE("/addresses/:id/", h.DeleteAddress)
	api.PUT("/addresses/:id/default/", h.SetDefaultAddress)
	app.GET("/areas/", h.Areas)
	app.GET("/areas/:id/", h.AreaSubs)

	// The user centre.
	page.GET("/info/", h.UserCenter)
	page.GET("/password/", h.PasswordPage)
	page.POST("/password/", h.PasswordChange)
	api.POST("/browse_histories/", h.BrowseHistoryAdd)
	api.GET("/browse_histories/", h.BrowseHistory)

	// Carts.
	app.GET("/carts/", h.CartPage)
	app.POST("/carts/", h.CartAdd)
	app.PUT("/carts/", h.CartUpdate)
	app.DELETE("/carts/", h.CartDelete)
	app.PUT("/carts/selection/", h.CartSelectAll)
	app.GET("/carts/simple/", h.CartSimple)

	// Orders.
	page.GET("/orders/settlement/", h.OrderSettlement)
	api.POST("/orders/commit/", h.OrderCommit)
	page.GET("/orders/success/", h.OrderSuccess)
	page.GET("/orders/info/:page/", h.OrderList)
	api.POST("/orders/:order_id/cancel/", h.OrderCancel)
	api.POST("/orders/:order_id/receive/", h.OrderReceive)
	page.GET("/orders/detail/:order_id/", h.OrderDetail)
	page.GET("/orders/comment/", h.OrderReviewPage)
	api.POST("/orders/comment/", h.OrderReview)
	app.GET("/comments/:sku_id/", h.SKUComments)

	// Payment.
	api.GET("/payment/:order_id/", h.Payment)
	app.GET("/payment/status/", h.PaymentReturn)
	app.GET("/dev/alipay/gateway.do", h.DevGatewayPage)
	app.POST("/dev/alipay/gateway.do", h.DevGatewayPay)

	// Flash sale.
	app.GET("/seckill/:sku_id/", h.SeckillPage)
	// A buy the sale refuses from memory is answered before the session.
	r.POST("/seckill/:sku_id/", h.Language, h.SeckillKnown, h.Authenticate, h.LoginRequiredJSON, h.SeckillBuy)
	api.GET("/seckill/result/:order_id/", h.SeckillResult)
	admin.GET("/seckill/", h.AdminSeckill)
	admin.POST("/seckill/", h.AdminSeckillOpen)
	admin.POST("/seckill/:id/close/", h.AdminSeckillClose)

	// Admin.
	admin.GET("/", h.AdminDashboard)
	admin.GET("/skus/", h.AdminSKUs)
	admin.GET("/skus/new/", h.AdminNewSKU)
	admin.POST("/skus/new/", h.AdminCreateSKU)
	admin.GET("/skus/:id/", h.AdminSKU)
	admin.POST("/skus/:id/", h.AdminUpdateSKU)
	admin.POST("/skus/:id/launch/", h.AdminLaunchSKU)
	admin.POST("/skus/:id/stock/", h.AdminAdjustStock)
	admin.POST("/skus/:id/image/", h.AdminUploadSKUImage) // in uploads
	admin.POST("/skus/:id/gallery/", h.AdminGalleryAdd)   // in uploads
	admin.POST("/skus/:id/gallery/:image_id/move/", h.AdminGalleryMove)
	admin.POST("/skus/:id/gallery/:image_id/remove/", h.AdminGalleryRemove)
	admin.GET("/spus/", h.AdminSPUs)
	admin.GET("/spus/new/", h.AdminNewSPU)
	admin.POST("/spus/new/", h.AdminCreateSPU)
	admin.GET("/spus/:id/", h.AdminSPU)
	admin.POST("/spus/:id/", h.AdminUpdateSPU)
	admin.GET("/stock/low/", h.AdminLowStock)
	admin.GET("/ledger/", h.AdminLedger)
	admin.GET("/orders/", h.AdminOrders)
	admin.GET("/orders/:order_id/", h.AdminOrder)
	admin.POST("/orders/:order_id/cancel/", h.AdminCancelOrder)
	admin.POST("/orders/:order_id/ship/", h.AdminShipOrder)
	admin.POST("/orders/:order_id/complete/", h.AdminCompleteOrder)
	admin.POST("/orders/:order_id/paid/", h.AdminMarkPaid)
	admin.GET("/refunds/", h.AdminRefunds)
	admin.POST("/refunds/:order_id/refunded/", h.AdminMarkRefunded)

	e.NoRoute(noStore, h.Language, h.Authenticate, h.NotFound)
	return e
}

// PaymentNotifyPath takes Alipay's notifications: the one path that
// skips the CSRF check.
const PaymentNotifyPath = "/payment/notify/"

// uploads are the routes that take a file, as path.Match patterns, with
// the body each may send (a multipart POST only); every other body is
// held to Config.MaxBody.
var uploads = map[string]int64{
	"/admin/skus/*/image/":   handlers.MaxImageBytes + 64<<10,
	"/admin/skus/*/gallery/": handlers.MaxImageBytes + 64<<10,
}

// withCSRF checks the CSRF token on every unsafe request before gin sees
// it. The token travels in the X-CSRFToken header or the
// csrfmiddlewaretoken form field, as in Django.
func withCSRF(next http.Handler, h *handlers.Handlers, cfg Config) http.Handler {
	failures := gin.New()
	if cfg.Observe != nil {
		failures.Use(cfg.Observe)
	}
	failures.Use(recovery(cfg.Log), h.Language, h.Authenticate)
	failures.NoRoute(h.CSRFFailure)

	opts := []csrf.Option{
		csrf.Secure(cfg.SecureCookies),
		csrf.Path("/"),
		csrf.CookieName(handlers.CSRFCookie),
		csrf.RequestHeader("X-CSRFToken"),
		csrf.FieldName("csrfmiddlewaretoken"),
		csrf.SameSite(csrf.SameSiteLaxMode),
		csrf.ErrorHandler(failures),
	}
	visitors := csrf.Protect(cfg.CSRFKey, opts...)(next)
	// A logged-in session's CSRF secret is signed with a key of its own
	// login (handlers.CSRFBinding), so a secret from before the login, or
	// from another login, does not verify: gorilla/csrf then issues a new
	// one and refuses the request's token. Building the check costs a
	// few allocations, far less than the request.
	protect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		binding := h.CSRFBinding(r)
		if binding == "" {
			visitors.ServeHTTP(w, r)
			return
		}
		mac := hmac.New(sha256.New, cfg.CSRFKey)
		mac.Write([]byte("csrf-login\x00" + binding))
		csrf.Protect(mac.Sum(nil), opts...)(next).ServeHTTP(w, r)
	})

	max := cfg.MaxBody
	if max == 0 {
		max = 16 << 10
	}
	return limitBody(max, uploads, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// gorilla/csrf v1.7.3 assumes TLS and refuses a plain-HTTP POST
		// that carries an Origin header (which browsers send) unless the
		// request is marked as plaintext.
		if r.TLS == nil && !cfg.SecureCookies {
			r = csrf.PlaintextHTTPRequest(r)
		}
		// Alipay posts its notification without a session or a token; its
		// signature is checked instead (handlers.PaymentNotify).
		if r.Method == http.MethodPost && r.URL.Path == PaymentNotifyPath {
			r = csrf.UnsafeSkipCheck(r)
		}
		protect.ServeHTTP(w, r)
	}))
}
