package main

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

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
	DataDir       string
	DBMaxConns    int
	SecureCookies bool
	Demo          string // auto, on, off
	Proxies       []string
	RegisterRate  int           // sign-ups per client IP per hour
	CommitSlots   int           // commit transactions at once; 0: the model default
	UnpaidExpiry  time.Duration // unpaid online orders are canceled after this
	// The flash sale: how Redis decides a buy, and buy attempts allowed
	// per user and per client IP each second.
	SeckillStrategy seckill.Strategy
	SeckillUserRate int
	SeckillIPRate   int
}

// envVars documents every variable, for `shop help` and the README.
var envVars = [][2]string{
	{"SHOP_ADDR", "listen address (default 127.0.0.1:8000; `runserver ADDR` wins)"},
	{"DATABASE_URL", "sqlite:///shop.db (default), postgres://... or mysql://user:pass@host:port/db"},
	{"REDIS_URL", "redis://host:port/db; unset: an in-process Redis-compatible server"},
	{"SECRET_KEY", "signs sessions, CSRF tokens and cookie carts (32+ characters); unset: a development key kept in SHOP_DATA_DIR"},
	{"SHOP_STOCK_STRATEGY", "optimistic (default), conditional, pessimistic or queue"},
	{"SHOP_LOG_LEVEL", "debug, info (default), warn or error"},
	{"SHOP_DATA_DIR", "where the development secret key and uploaded images (media/) are kept (default .)"},
	{"SHOP_DB_MAX_CONNS", "database pool size (default 4 on SQLite, 16 otherwise)"},
	{"SHOP_SECURE_COOKIES", "true when served over HTTPS (default false)"},
	{"SHOP_TRUSTED_PROXIES", "comma-separated proxy addresses/CIDRs allowed to set X-Forwarded-For (default none)"},
	{"SHOP_COMMIT_CONCURRENCY", "order commits running at once (default: the CPU count; pessimistic and queue: CPU count + 1); more wait their turn"},
	{"SHOP_REGISTER_PER_HOUR", "sign-ups allowed per client IP per hour (default 20)"},
	{"SHOP_UNPAID_EXPIRY", "unpaid online-payment orders are canceled, their stock returned, after this long (default 30m; 1m to 720h)"},
	{"SHOP_SECKILL_STRATEGY", "how Redis decides a flash-sale buy: lua (default), watch or lock"},
	{"SHOP_SECKILL_USER_RATE", "flash-sale buy attempts allowed per user per second (default 5)"},
	{"SHOP_SECKILL_IP_RATE", "flash-sale buy attempts allowed per client IP per second (default 1000)"},
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
	}
	for _, p := range strings.Split(get("SHOP_TRUSTED_PROXIES", ""), ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.Proxies = append(c.Proxies, p)
		}
	}
	var err error
	if c.Strategy, err = order.ParseStrategy(get("SHOP_STOCK_STRATEGY", "optimistic")); err != nil {
		errs = append(errs, fmt.Errorf("SHOP_STOCK_STRATEGY: %w", err))
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
	if c.SecureCookies, err = strconv.ParseBool(get("SHOP_SECURE_COOKIES", "false")); err != nil {
		errs = append(errs, fmt.Errorf("SHOP_SECURE_COOKIES: want true or false"))
	}
	switch c.Demo {
	case "auto", "on", "off":
	default:
		errs = append(errs, fmt.Errorf("SHOP_DEMO: want auto, on or off, got %q", c.Demo))
	}
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
