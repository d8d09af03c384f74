package handlers

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// admission is a rate limit per key (a user, a client IP) kept in this
// process: token buckets from golang.org/x/time/rate, refilled at perSecond
// and holding a second's worth. The flash sale checks it before any Redis
// command, so that a flood costs Redis nothing: counting it in Redis took
// two round trips and two scripts per buy, more than the buy itself. With
// several shop processes each counts on its own, so a client whose requests
// are spread over n of them gets up to n times the rate; the one-order-per-
// user rule does not depend on it (the sale's script enforces that).
type admission struct {
	perSecond rate.Limit
	burst     int
	max       int // keys kept at most

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newAdmission(perSecond, max int) *admission {
	return &admission{perSecond: rate.Limit(perSecond), burst: perSecond, max: max, buckets: map[string]*rate.Limiter{}}
}

// allow takes one token from key's bucket; when there is none it takes
// nothing and says how long until there is.
func (a *admission) allow(key string, now time.Time) (bool, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.buckets[key]
	if !ok {
		if len(a.buckets) >= a.max {
			a.sweep(now)
		}
		b = rate.NewLimiter(a.perSecond, a.burst)
		a.buckets[key] = b
	}
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep forgets the full buckets, which are as good as new ones. If that
// is not enough, it forgets them all: a flood of new keys gets fresh
// buckets, as new keys do anyway.
func (a *admission) sweep(now time.Time) {
	for k, b := range a.buckets {
		if b.TokensAt(now) >= float64(a.burst) {
			delete(a.buckets, k)
		}
	}
	if len(a.buckets) >= a.max {
		clear(a.buckets)
	}
}
