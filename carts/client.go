package carts

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// CommandTimeout is how long the shop's Redis client waits for the answer
// to one command, unless REDIS_URL sets read_timeout. Redis answers in
// well under a millisecond; one that takes a second is treated as down,
// and the request answers 503 rather than wait (go-redis's own default is
// 5 s a command, and a cart add sends up to three).
const CommandTimeout = time.Second

// ClientOptions parses a redis:// URL into the options of the shop's Redis
// client: redis.ParseURL's, with CommandTimeout unless the URL sets its
// own read timeout, and with the caller's context deadline bounding each
// command, which go-redis otherwise ignores (ContextTimeoutEnabled).
func ClientOptions(rawURL string) (*redis.Options, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = CommandTimeout
	}
	opt.ContextTimeoutEnabled = true
	return opt, nil
}
