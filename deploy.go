package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// unsafe lists what runserver refuses: outside SQLite, the shop runs as
// several processes on one database, and the in-process Redis and the
// per-directory development key serve one process only (each instance
// would keep its own carts and reload an open flash sale on its own, and
// sign sessions with its own key).
func (c config) unsafe() []string {
	if strings.HasPrefix(c.DatabaseURL, "sqlite") {
		return nil
	}
	var out []string
	if c.RedisURL == "" {
		out = append(out, "REDIS_URL is unset: outside SQLite every instance must share one Redis (carts, flash sales, locks); set REDIS_URL=redis://host:6379/0")
	}
	if !c.SecretFromEnv {
		out = append(out, "SECRET_KEY is unset: outside SQLite every instance must sign sessions with the same key; set SECRET_KEY to 50 random characters")
	}
	return out
}

// deployProblems is every setting unsafe for production: what runserver
// refuses, then the rest, Redis's persistence included.
func (c config) deployProblems(ctx context.Context) []string {
	out := c.unsafe()
	if strings.HasPrefix(c.DatabaseURL, "sqlite") {
		out = append(out, "DATABASE_URL is SQLite: one process only; production runs PostgreSQL or MySQL/MariaDB")
		if c.RedisURL == "" {
			out = append(out, "REDIS_URL is unset: the in-process Redis forgets carts and flash-sale state at every restart")
		}
		if !c.SecretFromEnv {
			out = append(out, "SECRET_KEY is unset: the development key is kept in SHOP_DATA_DIR; set SECRET_KEY")
		}
	}
	if !c.SecureCookies {
		out = append(out, "SHOP_SECURE_COOKIES is false: session cookies would be sent over plain HTTP; serve HTTPS and set it to true")
	}
	if c.RedisURL != "" {
		if p := redisPersistence(ctx, c.RedisURL); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// redisPersistence says what is wrong with Redis's persistence, or "".
// Without appendonly a Redis restart forgets carts and the flash sales'
// decisions not yet persisted (the database still refuses an oversell:
// README, Failure model).
func redisPersistence(ctx context.Context, rawURL string) string {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return fmt.Sprintf("REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	got, err := rdb.ConfigGet(ctx, "append*").Result()
	if err != nil {
		return fmt.Sprintf("REDIS_URL: could not read Redis's persistence settings (%v): make sure it runs with appendonly yes and appendfsync everysec or always", err)
	}
	if got["appendonly"] != "yes" {
		return "Redis runs without appendonly: a restart forgets carts and queued flash-sale orders; set appendonly yes and appendfsync everysec (or always)"
	}
	if f := got["appendfsync"]; f != "everysec" && f != "always" {
		return fmt.Sprintf("Redis appendfsync is %q: set everysec or always", f)
	}
	return ""
}

// check validates the configuration (loadConfig already did) and, with
// --deploy, lists every setting unsafe for production.
func check(ctx context.Context, c *cli, args []string) error {
	out := c.stdout
	fs := newFlags("check", "[--deploy]", out)
	deploy := fs.Bool("deploy", false, "also list the settings unsafe for production")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, _, err := c.load()
	if err != nil {
		return err
	}
	if !*deploy {
		fmt.Fprintln(out, "configuration OK")
		return nil
	}
	problems := cfg.deployProblems(ctx)
	for _, p := range problems {
		fmt.Fprintln(out, "  -", p)
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d deployment problems", len(problems))
	}
	fmt.Fprintln(out, "no deployment problems found")
	return nil
}
