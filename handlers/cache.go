package handlers

import (
	"context"
	"sync"
	"time"
)

// ttlCache keeps recently loaded values for a short time, so that hot
// requests do not each cost a database round trip. A change behind a
// cached value is seen at the latest ttl later; callers evict what they
// change themselves. It holds at most max entries.
type ttlCache[K comparable, V any] struct {
	ttl     time.Duration
	max     int
	mu      sync.Mutex
	entries map[K]cached[V]
}

type cached[V any] struct {
	v  V
	at time.Time
}

// newTTLCache returns a cache; a ttl of 0 or less turns it off.
func newTTLCache[K comparable, V any](ttl time.Duration, max int) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max, entries: map[K]cached[V]{}}
}

// get returns the value for k from the cache, or loads it with load.
// Errors are not cached.
func (tc *ttlCache[K, V]) get(ctx context.Context, k K, load func(context.Context, K) (V, error)) (V, error) {
	now := time.Now()
	if tc.ttl > 0 {
		tc.mu.Lock()
		e, ok := tc.entries[k]
		tc.mu.Unlock()
		if ok && now.Sub(e.at) < tc.ttl {
			return e.v, nil
		}
	}
	v, err := load(ctx, k)
	if err != nil || tc.ttl <= 0 {
		return v, err
	}
	tc.mu.Lock()
	if len(tc.entries) >= tc.max {
		for k, e := range tc.entries {
			if now.Sub(e.at) >= tc.ttl {
				delete(tc.entries, k)
			}
		}
		if len(tc.entries) >= tc.max {
			clear(tc.entries)
		}
	}
	tc.entries[k] = cached[V]{v: v, at: now}
	tc.mu.Unlock()
	return v, nil
}

func (tc *ttlCache[K, V]) evict(k K) {
	tc.mu.Lock()
	delete(tc.entries, k)
	tc.mu.Unlock()
}
