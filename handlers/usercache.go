package handlers

import (
	"context"
	"sync"
	"time"

	"github.com/meiduo/shop/models"
)

// userCache keeps recently loaded users for a short time, so that a
// logged-in shopper's requests do not each cost a database round trip.
// A change to a user (password, is_active, is_staff) is seen at the
// latest ttl later; logins and logouts evict at once.
type userCache struct {
	ttl   time.Duration
	max   int
	mu    sync.Mutex
	users map[int64]cachedUser
}

type cachedUser struct {
	u  *models.User
	at time.Time
}

func newUserCache(ttl time.Duration, max int) *userCache {
	return &userCache{ttl: ttl, max: max, users: map[int64]cachedUser{}}
}

// get returns the user from the cache, or loads it with load.
func (uc *userCache) get(ctx context.Context, uid int64, load func(context.Context, int64) (*models.User, error)) (*models.User, error) {
	now := time.Now()
	if uc.ttl > 0 {
		uc.mu.Lock()
		e, ok := uc.users[uid]
		uc.mu.Unlock()
		if ok && now.Sub(e.at) < uc.ttl {
			return e.u, nil
		}
	}
	u, err := load(ctx, uid)
	if err != nil || uc.ttl <= 0 {
		return u, err
	}
	uc.mu.Lock()
	if len(uc.users) >= uc.max {
		for id, e := range uc.users {
			if now.Sub(e.at) >= uc.ttl {
				delete(uc.users, id)
			}
		}
		if len(uc.users) >= uc.max {
			clear(uc.users)
		}
	}
	uc.users[uid] = cachedUser{u: u, at: now}
	uc.mu.Unlock()
	return u, nil
}

func (uc *userCache) evict(uid int64) {
	uc.mu.Lock()
	delete(uc.users, uid)
	uc.mu.Unlock()
}
