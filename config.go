package main

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/meiduo/shop/internal/alipay"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/models/order"
)

// config is everything read from the environment. Only this file reads it.
type config struct {
	Addr          string
	DatabaseURL   string
	RedisURL      string // empty: an in-process Redis-compatible server
	Secret        []byte
	SecretFromEnv bool // false: the per-directory development key
	Strategy      order.Strategy
	LogLevel      slog.Level
	LogFormat     string // text or json
	DataDir       string
	DBMaxConns    int
	SecureCookies bool
	Demo          string // auto, on, off
	Proxies       []string
	RegisterRate  int           // sign-ups per client IP per hour
	CommitSlots   int           // commit transactions at once; 0: the model default
	UnpaidExpiry  time.Duration // unpaid online orders are canceled after this
	// DrainDelay is how long /readyz answers 503 after SIGTERM before the
	// server stops taking requests, so that load balancers look elsewhere.
	DrainDelay time.Duration
	// MetricsAddr is where /metrics (Prometheus) is served, on a listener
	// of its own; empty: no metrics.
	MetricsAddr string
	// The flash sale: how Redis decides a buy, and buy attempts allowed
	// per user and per client IP each second.
	SeckillStrategy seckill.Strategy
	SeckillUserRate int
	SeckillIPRate   int
	// Payment: Alipay's app (nil when ALIPAY_* are unset), where Alipay
	// and the buyer's browser reach the shop (empty: http://<Addr>), and
	// whether the development gateway may serve (auto: on SQLite only).
	Alipay     *alipayApp
	BaseURL    string
	DevPayment string // auto, on, off
}

// alipayApp is the shop's app on Alipay's open platform.
type alipayApp struct {
	AppID      string
	PrivateKey *rsa.PrivateKey
	PublicKey  *rsa.PublicKey // Alipay's
	Gateway    string
}

// envVars documents every variable, for `shop help` and the README.
var envVars = [][2]string{
	{"SHOP_ADDR", "listen address (default 127.0.0.1:8000; `runserver ADDR` wins)"},
	{"DATABASE_URL", "sqlite:///shop.db (default), postgres://... or mysql://user:pass@host:port/db"},
	{"REDIS_URL", "redis://host:port/db; unset: an in-process Redis-compatible server"},
	{"SECRET_KEY", "signs sessions, CSRF tokens and cookie carts (32+ characters); unset: a development key kept in SHOP_DATA_DIR"},
	{"SHOP_STOCK_STRATEGY", "optimistic (default), conditional, pessimistic or queue"},
	{"SHOP_LOG_LEVEL", "debug, info (default), warn or error"},
	{"SHOP_LOG_FORMAT", "text (default: key=value lines) or json (one JSON object a line, log/slog)"},
	{"SHOP_DATA_DIR", "where the development secret key and uploaded images (media/) are kept (default .)"},
	{"SHOP_DB_MAX_CONNS", "database pool size (default 4 on SQLite, 16 otherwise)"},
	{"SHOP_SECURE_COOKIES", "true when served over HTTPS (default false)"},
	{"SHOP_TRUSTED_PROXIES", "comma-separated proxy addresses/CIDRs allowed to set X-Forwarded-For (default none)"},
	{"SHOP_COMMIT_CONCURRENCY", "order commits running at once (default: the CPU count; pessimistic and queue: CPU count + 1); more wait their turn"},
	{"SHOP_REGISTER_PER_HOUR", "sign-ups allowed per client IP per hour (default 20)"},
	{"SHOP_UNPAID_EXPIRY", "unpaid online-payment orders are canceled, their stock returned, after this long (default 30m; 1m to 720h)"},
	{"SHOP_METRICS_ADDR", "where /metrics (Prometheus) is served, on its own listener, e.g. 127.0.0.1:9100 (default: off; never on the public address)"},
	{"SHOP_DRAIN_DELAY", "after SIGTERM, how long /readyz answers 503 before the server stops taking requests (default 5s; 0s to 60s)"},
	{"SHOP_SECKILL_STRATEGY", "how Redis decides a flash-sale buy: lua (default), watch or lock"},
	{"SHOP_SECKILL_USER_RATE", "flash-sale buy attempts allowed per user per second (default 5)"},
	{"SHOP_SECKILL_IP_RATE", "flash-sale buy attempts allowed per client IP per second (default 1000)"},
	{"ALIPAY_APP_ID", "the shop's app id on Alipay's open platform; with the two keys below it turns on Alipay payment"},
	{"ALIPAY_APP_PRIVATE_KEY", "the app's RSA2 private key (应用私钥): PEM text, a file path, or Alipay's one-line base64"},
	{"ALIPAY_PUBLIC_KEY", "Alipay's public key (支付宝公钥): PEM text, a file path, or one-line base64"},
	{"ALIPAY_GATEWAY", "Alipay's gateway (default " + alipay.DefaultGateway + "; sandbox: " + alipay.SandboxGateway + ")"},
	{"SHOP_BASE_URL", "where Alipay and browsers reach the shop, for notify_url and return_url (default http://SHOP_ADDR)"},
	{"SHOP_DEV_PAYMENT", "the built-in development payment gateway without ALIPAY_*: auto (default: on SQLite only), on, off"},
	{"SHOP_SUPERUSER_PASSWORD", "createsuperuser and changepassword: the password to set (else the first line of standard input)"},
	{"SHOP_DEMO", "auto (default: load the demo catalog into an empty SQLite database), on, off"},
}

// loadConfig reads and validates the environment. Every problem is
// reported at once, with the variable's name.
func loadConfig(getenv func(string) string, stderr io.Writer) (config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	c := config{
		Addr:        get("SHOP_ADDR", "127.0.0.1:8000"),
		DatabaseURL: get("DATABASE_URL", "sqlite:///shop.db"),
		RedisURL:    get("REDIS_URL", ""),
		DataDir:     get("SHOP_DATA_DIR", "."),
		Demo:        get("SHOP_DEMO", "auto"),
		MetricsAddr: get("SHOP_METRICS_ADDR", ""),
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("SHOP_METRICS_ADDR: want host:port such as 127.0.0.1:9100, got %q", c.MetricsAddr))
		}
	}
	for _, p := range strings.Split(get("SHOP_TRUSTED_PROXIES", ""), ",") {
		if p = strings.TrimSpace(p); p != "" {
			if _, err := netip.ParsePrefix(p); err != nil && net.ParseIP(p) == nil {
				errs = append(errs, fmt.Errorf("SHOP_TRUSTED_PROXIES: %q is neither an IP address nor a CIDR such as 10.0.0.0/8", p))
			}
			c.Proxies = append(c.Proxies, p)
		}
	}
	var err error
	if c.Strategy, err = order.ParseStrategy(get("SHOP_STOCK_STRATEGY", "optimistic")); err != nil {
		errs = append(errs, fmt.Errorf("SHOP_STOCK_STRATEGY: %w", err))
	}
	switch c.LogFormat = get("SHOP_LOG_FORMAT", "text"); c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("SHOP_LOG_FORMAT: want text or json, got %q", c.LogFormat))
	}
	if err := c.LogLevel.UnmarshalText([]byte(get("SHOP_LOG_LEVEL", "info"))); err != nil {
		errs = append(errs, fmt.Errorf("SHOP_LOG_LEVEL: want debug, info, warn or error: %w", err))
	}
	if v := get("SHOP_DB_MAX_CONNS", "0"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			errs = append(errs, fmt.Errorf("SHOP_DB_MAX_CONNS: want 0 (the default for the database) or a number up to 1000, got %q", v))
		}
		c.DBMaxConns = n
	}
	if c.CommitSlots, err = strconv.Atoi(get("SHOP_COMMIT_CONCURRENCY", "0")); err != nil || c.CommitSlots < 0 || c.CommitSlots > 1000 {
		errs = append(errs, fmt.Errorf("SHOP_COMMIT_CONCURRENCY: want 0 (the default for the strategy) or a number up to 1000"))
	}
	if c.RegisterRate, err = strconv.Atoi(get("SHOP_REGISTER_PER_HOUR", "20")); err != nil || c.RegisterRate < 1 {
		errs = append(errs, fmt.Errorf("SHOP_REGISTER_PER_HOUR: want a positive number"))
	}
	if c.SeckillStrategy, err = seckill.ParseStrategy(get("SHOP_SECKILL_STRATEGY", "lua")); err != nil {
		errs = append(errs, fmt.Errorf("SHOP_SECKILL_STRATEGY: %w", err))
	}
	if c.SeckillUserRate, err = strconv.Atoi(get("SHOP_SECKILL_USER_RATE", "5")); err != nil || c.SeckillUserRate < 1 {
		errs = append(errs, fmt.Errorf("SHOP_SECKILL_USER_RATE: want a positive number"))
	}
	if c.SeckillIPRate, err = strconv.Atoi(get("SHOP_SECKILL_IP_RATE", "1000")); err != nil || c.SeckillIPRate < 1 {
		errs = append(errs, fmt.Errorf("SHOP_SECKILL_IP_RATE: want a positive number"))
	}
	if c.UnpaidExpiry, err = time.ParseDuration(get("SHOP_UNPAID_EXPIRY", "30m")); err != nil || c.UnpaidExpiry < time.Minute || c.UnpaidExpiry > 720*time.Hour {
		errs = append(errs, fmt.Errorf("SHOP_UNPAID_EXPIRY: want a duration from 1m to 720h, such as 30m"))
	}
	if c.DrainDelay, err = time.ParseDuration(get("SHOP_DRAIN_DELAY", "5s")); err != nil || c.DrainDelay < 0 || c.DrainDelay > time.Minute {
		errs = append(errs, fmt.Errorf("SHOP_DRAIN_DELAY: want a duration from 0s to 60s, such as 5s"))
	}
	if c.SecureCookies, err = strconv.ParseBool(get("SHOP_SECURE_COOKIES", "false")); err != nil {
		errs = append(errs, fmt.Errorf("SHOP_SECURE_COOKIES: want true or false"))
	}
	switch c.Demo {
	case "auto", "on", "off":
	default:
		errs = append(errs, fmt.Errorf("SHOP_DEMO: want auto, on or off, got %q", c.Demo))
	}
	errs = append(errs, c.loadPayment(get)...)
	if s := getenv("SECRET_KEY"); s != "" {
		if len(s) < 32 {
			errs = append(errs, errors.New("SECRET_KEY: too short, use at least 32 random characters"))
		}
		c.Secret, c.SecretFromEnv = []byte(s), true
	} else if len(errs) == 0 {
		if c.Secret, err = devSecret(c.DataDir); err != nil {
			errs = append(errs, fmt.Errorf("SECRET_KEY unset and no development key: %w", err))
		} else {
			fmt.Fprintf(stderr, "warning: SECRET_KEY is not set; using the development key in %s (never do this in production)\n", filepath.Join(c.DataDir, devKeyFile))
		}
	}
	return c, errors.Join(errs...)
}

// loadPayment reads the ALIPAY_* variables, SHOP_BASE_URL and
// SHOP_DEV_PAYMENT.
func (c *config) loadPayment(get func(k, def string) string) []error {
	var errs []error
	if raw := get("SHOP_BASE_URL", ""); raw != "" {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("SHOP_BASE_URL: want an http:// or https:// URL such as https://shop.example.com, got %q", raw))
		}
		c.BaseURL = strings.TrimRight(raw, "/")
	}
	switch c.DevPayment = get("SHOP_DEV_PAYMENT", "auto"); c.DevPayment {
	case "auto", "on", "off":
	default:
		errs = append(errs, fmt.Errorf("SHOP_DEV_PAYMENT: want auto, on or off, got %q", c.DevPayment))
	}
	id, priv, pub, gw := get("ALIPAY_APP_ID", ""), get("ALIPAY_APP_PRIVATE_KEY", ""), get("ALIPAY_PUBLIC_KEY", ""), get("ALIPAY_GATEWAY", "")
	if id == "" && priv == "" && pub == "" {
		if gw != "" {
			errs = append(errs, errors.New("ALIPAY_GATEWAY: set, but ALIPAY_APP_ID and the keys are not"))
		}
		return errs
	}
	if c.DevPayment == "on" {
		errs = append(errs, errors.New("SHOP_DEV_PAYMENT: on, but ALIPAY_* are set: the development gateway stands in for Alipay, not beside it"))
	}
	a := &alipayApp{AppID: id, Gateway: gw}
	for _, v := range [][2]string{{"ALIPAY_APP_ID", id}, {"ALIPAY_APP_PRIVATE_KEY", priv}, {"ALIPAY_PUBLIC_KEY", pub}} {
		if v[1] == "" {
			errs = append(errs, fmt.Errorf("%s: required when any of ALIPAY_APP_ID, ALIPAY_APP_PRIVATE_KEY and ALIPAY_PUBLIC_KEY is set", v[0]))
		}
	}
	var err error
	if priv != "" {
		if a.PrivateKey, err = alipay.ParsePrivateKey(priv); err != nil {
			errs = append(errs, fmt.Errorf("ALIPAY_APP_PRIVATE_KEY: %w", err))
		}
	}
	if pub != "" {
		if a.PublicKey, err = alipay.ParsePublicKey(pub); err != nil {
			errs = append(errs, fmt.Errorf("ALIPAY_PUBLIC_KEY: %w", err))
		}
	}
	if a.Gateway == "" {
		a.Gateway = alipay.DefaultGateway
	}
	if u, err := url.Parse(a.Gateway); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("ALIPAY_GATEWAY: want an https:// URL such as %s, got %q", alipay.DefaultGateway, a.Gateway))
	}
	c.Alipay = a
	return errs
}

// baseURL is SHOP_BASE_URL, or http:// and the address the shop listens
// on, an unspecified host (0.0.0.0, ::, none) read as 127.0.0.1.
func (c config) baseURL(listening string) string {
	if c.BaseURL != "" {
		return c.BaseURL
	}
	host, port, err := net.SplitHostPort(listening)
	if err != nil {
		return "http://" + listening
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// superuserPassword is SHOP_SUPERUSER_PASSWORD, the password that
// createsuperuser and changepassword set (else they read standard input).
func superuserPassword(getenv func(string) string) string {
	return getenv("SHOP_SUPERUSER_PASSWORD")
}

const devKeyFile = ".shop-secret-key"

// devSecret reads the development key, creating it on first use.
func devSecret(dir string) ([]byte, error) {
	path := filepath.Join(dir, devKeyFile)
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return []byte(strings.TrimSpace(string(b))), nil
	}
	buf := make([]byte, 32)
	rand.Read(buf)
	key := hex.EncodeToString(buf)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return nil, err
	}
	return []byte(key), nil
}

// subkey derives an independent 32-byte key for one purpose, so that one
// SECRET_KEY can sign sessions, CSRF tokens and cookie carts safely.
func (c config) subkey(purpose string) []byte {
	k, err := hkdf.Key(sha256.New, c.Secret, nil, "meiduo shop "+purpose, 32)
	if err != nil {
		panic(err) // only for a length hkdf cannot give; 32 always works
	}
	return k
}
