package carts

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/redis/go-redis/v9"
)

// What the order commit needs of a cart (README, "The order commit"): one
// checkout of a user's cart at a time (Lock), and the cart's version
// (Checkout), which the commit uses as its token when the client sends
// none, so that the database makes one order of one version of a cart
// even if the lock expired in the middle of a checkout.

// ErrLocked means another checkout of the cart still holds its lock.
var ErrLocked = errors.New("another checkout of this cart is under way")

// LockWait is how long Lock waits for another checkout of the same cart
// to finish: enough for a commit to pass, and never seconds.
const LockWait = time.Second

func lockKey(uid int64) string { return "cart_lock_" + strconv.FormatInt(uid, 10) }

// Selection is a cart's selected lines and its version, read at one
// moment.
type Selection struct {
	Lines []Line // the selected lines, ordered by SKU id
	// Version changes with every change of the cart: adding, setting,
	// removing, selecting and merging lines, and the removal of the
	// ordered lines after a commit.
	Version string
}

// Checkout reads the selected lines of uid's cart and its version in one
// step. A cart that has no version yet (one older than versions, or an
// empty one) gets one.
func (s *Store) Checkout(ctx context.Context, uid int64) (Selection, error) {
	var all *redis.MapStringStringCmd
	var sel *redis.StringSliceCmd
	var ver *redis.StringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SetNX(ctx, versionKey(uid), newVersion(), 0)
		ver = p.Get(ctx, versionKey(uid))
		all = p.HGetAll(ctx, cartKey(uid))
		sel = p.SMembers(ctx, selectedKey(uid))
		return nil
	})
	if err != nil {
		return Selection{}, fmt.Errorf("read cart of user %d for checkout: %w", uid, err)
	}
	return Selection{Lines: selectedOnly(parseLines(all.Val(), sel.Val())), Version: ver.Val()}, nil
}

// Lock takes the checkout lock of uid's cart (a redsync lock) for at most
// hold, and returns the function that releases it. While another checkout
// holds the lock it waits, up to LockWait and within ctx. Returns
// ErrLocked if the other checkout still holds it then, ctx's error if ctx
// ends first, and Redis's error if Redis fails.
//
// The lock expires after hold whatever happens, so a crashed checkout
// blocks the cart no longer than that; what a checkout does after its lock
// expired is the database's to guard (the version as the commit token).
func (s *Store) Lock(ctx context.Context, uid int64, hold time.Duration) (unlock func(context.Context) error, err error) {
	m := s.rs.NewMutex(lockKey(uid), redsync.WithExpiry(hold), redsync.WithTries(1))
	until := time.Now().Add(LockWait)
	for {
		err := m.TryLockContext(ctx)
		if err == nil {
			return func(ctx context.Context) error {
				if _, err := m.UnlockContext(ctx); err != nil {
					return fmt.Errorf("unlock cart of user %d: %w", uid, err)
				}
				return nil
			}, nil
		}
		var taken *redsync.ErrTaken
		if !errors.As(err, &taken) {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("lock cart of user %d: %w", uid, ctx.Err())
			}
			return nil, fmt.Errorf("lock cart of user %d: %w", uid, err)
		}
		if time.Now().After(until) {
			return nil, ErrLocked
		}
		t := time.NewTimer(5*time.Millisecond + rand.N(20*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("lock cart of user %d: %w", uid, ctx.Err())
		case <-t.C:
		}
	}
}
