package handlers

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ttlCache keeps recently loaded values for a short time, so that hot
// requests do not each cost a database round trip. A change behind a
// cached value is seen at the latest ttl later; callers evict what they
// change themselves. It holds at most max entries.
//
// Concurrent gets of a key that is not cached share one load (as
// golang.org/x/sync/singleflight does, but typed, and tied to the cache
// so that an evict during the load keeps its result out): the two or
// three requests a browser fires at once for a buyer the cache does not
// hold cost one query, not three.
type ttlCache[K comparable, V any] struct {
	ttl      time.Duration
	max      int
	mu       sync.Mutex
	entries  map[K]cached[V]
	inflight map[K]*loading[V]
}

// errLoadPanicked is what the joiners of a load that panicked get.
var errLoadPanicked = errors.New("cache: the shared load panicked")

// loading is a load under way; done closes when v and err are set.
type loading[V any] struct {
	done chan struct{}
	v    V
	err  error
}

type cached[V any] struct {
	v  V
	at time.Time
}

// newTTLCache returns a cache; a ttl of 0 or less turns it off.
func newTTLCache[K comparable, V any](ttl time.Duration, max int) *ttlCache[K, V] {
	return &ttlCache[K, V]{ttl: ttl, max: max, entries: map[K]cached[V]{}, inflight: map[K]*loading[V]{}}
}

// get returns the value for k from the cache, or loads it with load;
// a load already under way for k is joined instead. Errors are not
// cached, and a joined load that failed for its own caller's context
// (that request went away) is run again for this one.
func (tc *ttlCache[K, V]) get(ctx context.Context, k K, load func(context.Context, K) (V, error)) (V, error) {
	if tc.ttl <= 0 {
		return load(ctx, k)
	}
	tc.mu.Lock()
	if e, ok := tc.entries[k]; ok && time.Since(e.at) < tc.ttl {
		tc.mu.Unlock()
		return e.v, nil
	}
	if l, ok := tc.inflight[k]; ok {
		tc.mu.Unlock()
		select {
		case <-l.done:
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
		if l.err != nil && ctx.Err() == nil && (errors.Is(l.err, context.Canceled) || errors.Is(l.err, context.DeadlineExceeded)) {
			return load(ctx, k)
		}
		return l.v, l.err
	}
	l := &loading[V]{done: make(chan struct{})}
	tc.inflight[k] = l
	tc.mu.Unlock()

	l.err = errLoadPanicked // until load returns
	defer func() {
		tc.mu.Lock()
		if tc.inflight[k] == l { // not evicted meanwhile
			delete(tc.inflight, k)
			if l.err == nil {
				tc.store(k, l.v, time.Now())
			}
		}
		tc.mu.Unlock()
		close(l.done)
	}()
	l.v, l.err = load(ctx, k)
	return l.v, l.err
}

// store adds an entry; tc.mu is held.
func (tc *ttlCache[K, V]) store(k K, v V, now time.Time) {
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
}

// evict forgets k, and keeps the result of a load of k under way out of
// the cache.
func (tc *ttlCache[K, V]) evict(k K) {
	tc.mu.Lock()
	delete(tc.entries, k)
	delete(tc.inflight, k)
	tc.mu.Unlock()
}
