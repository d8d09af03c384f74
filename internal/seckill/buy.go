package seckill

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/models"
)

// Decision codes, shared by the Lua script and the Go strategies.
const (
	codeNoSale     = 0
	codeOK         = 1
	codeNotStarted = 2
	codeEnded      = 3
	codeLimit      = 4
	codeSoldOut    = 5
	codeIDTaken    = 6
)

// buyScript is the whole decision, atomic: the sale is open and within its
// window, the user is under the limit and stock is above 0. Then it takes
// a unit, counts the buyer, records the order and appends it to the
// stream, with the sale's epoch. KEYS: sale, buyers, orders, stream. ARGV:
// user, order id, now (unix ms), address. Returns {code, stock left}, or
// for "not started" {code, the start in unix ms}.
var buyScript = redis.NewScript(`
local s = redis.call('HMGET', KEYS[1], 'sale', 'stock', 'per_user', 'start', 'end', 'state', 'epoch')
if not s[1] then return {0, 0} end
local now = tonumber(ARGV[3])
if s[6] ~= 'open' or now >= tonumber(s[5]) then return {3, 0} end
if now < tonumber(s[4]) then return {2, tonumber(s[4])} end
local stock = tonumber(s[2])
if tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0') >= tonumber(s[3]) then return {4, stock} end
if stock <= 0 then return {5, 0} end
if redis.call('HSETNX', KEYS[3], ARGV[2], ARGV[1]) == 0 then return {6, stock} end
redis.call('HINCRBY', KEYS[1], 'stock', -1)
redis.call('HINCRBY', KEYS[1], 'sold', 1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('XADD', KEYS[4], '*', 'order', ARGV[2], 'sale', s[1], 'user', ARGV[1], 'address', ARGV[4], 'epoch', s[7] or '0')
return {1, stock - 1}
`)

// Buy tries to buy one unit of the SKU's flash sale for the user, to be
// delivered to addressID (which the caller has checked is the user's). On
// success the order is queued for the database and its id returned; the
// order is written by the consumer (Run), and Result tells when.
//
// A sale open in the database that Redis lacks (Redis lost it) is loaded
// from the database first.
//
// Returns ErrNoSale, ErrNotStarted, ErrEnded, ErrSoldOut or ErrLimit for a
// refused buy; an error wrapping models.ErrBusy when the watch or lock
// strategy gave up under contention (nothing was bought); or a Redis
// error, after which nothing was bought unless Result later finds the
// order.
func (e *Engine) Buy(ctx context.Context, sku, uid, addressID int64) (string, error) {
	oid, err := e.buy(ctx, sku, uid, addressID)
	e.obs.Decided(BuyOutcome(err))
	return oid, err
}

func (e *Engine) buy(ctx context.Context, sku, uid, addressID int64) (string, error) {
	if err := e.Known(sku); err != nil {
		return "", err
	}
	reloaded := false
	for {
		now := e.now()
		oid := models.NewOrderID(uid, now, 8) // two digits more than the commit's: never the same id
		var code, left int
		var err error
		switch e.strategy {
		case StrategyWatch:
			code, left, err = e.buyWatch(ctx, sku, uid, addressID, oid, now)
		case StrategyLock:
			code, left, err = e.buyLocked(ctx, sku, uid, addressID, oid, now)
		default:
			code, left, err = e.buyLua(ctx, sku, uid, addressID, oid, now)
		}
		if err != nil {
			return "", fmt.Errorf("flash-sale buy of sku %d for user %d: %w", sku, uid, err)
		}
		if left <= 0 && (code == codeOK || code == codeSoldOut || code == codeLimit) {
			e.markSoldOut(sku)
		}
		switch code {
		case codeOK:
			return oid, nil
		case codeIDTaken:
			continue // one in 10^8 for one user within a second: draw again
		case codeNoSale:
			if reloaded {
				return "", ErrNoSale
			}
			reloaded = true
			if ok, err := e.reload(ctx, sku); err != nil || !ok {
				return "", err
			}
			continue
		case codeNotStarted:
			e.markNotStarted(sku, time.UnixMilli(int64(left)))
			return "", ErrNotStarted
		case codeEnded:
			return "", ErrEnded
		case codeLimit:
			return "", ErrLimit
		default:
			return "", ErrSoldOut
		}
	}
}

// reload loads the SKU's open sale into Redis, which lacks it. It reports
// false with ErrNoSale when the database has no open sale of the SKU, and
// an error wrapping models.ErrBusy when the sale could not be loaded.
func (e *Engine) reload(ctx context.Context, sku int64) (bool, error) {
	select {
	case e.reloading <- struct{}{}:
		defer func() { <-e.reloading }()
	case <-ctx.Done():
		return false, fmt.Errorf("%w: waiting for the flash sale to be loaded into Redis: %v", models.ErrBusy, ctx.Err())
	}
	s, err := e.db.LiveSale(ctx, sku)
	if errors.Is(err, models.ErrNotFound) || (err == nil && s.Status != models.SaleOpen) {
		return false, ErrNoSale
	}
	if err == nil {
		_, err = e.ensure(ctx, s)
	}
	if errors.Is(err, models.ErrNotFound) {
		return false, ErrNoSale
	}
	if err != nil {
		return false, fmt.Errorf("%w: the flash sale is being loaded into Redis: %v", models.ErrBusy, err)
	}
	return true, nil
}

func (e *Engine) buyLua(ctx context.Context, sku, uid, addressID int64, oid string, now time.Time) (int, int, error) {
	k := keysOf(sku)
	res, err := buyScript.Run(ctx, e.rdb, []string{k.sale, k.buyers, k.orders, k.stream}, uid, oid, now.UnixMilli(), addressID).Int64Slice()
	if err != nil {
		return 0, 0, err
	}
	return int(res[0]), int(res[1]), nil
}

// seen is what the Go strategies read before they decide.
type seen struct {
	state  State
	ok     bool // the sale is in Redis
	bought int
	taken  bool // the order id is taken
}

// decide is buyScript's decision, in Go.
func (s seen) decide(now time.Time) int {
	switch {
	case !s.ok:
		return codeNoSale
	case s.state.Phase != "open" || !now.Before(s.state.End):
		return codeEnded
	case now.Before(s.state.Start):
		return codeNotStarted
	case s.bought >= s.state.PerUser:
		return codeLimit
	case s.state.Stock <= 0:
		return codeSoldOut
	case s.taken:
		return codeIDTaken
	}
	return codeOK
}

// left is the second value of a refusal, as buyScript returns it: the
// start in unix ms for "not started", else the stock.
func (s seen) left(code int) int {
	if code == codeNotStarted {
		return int(s.state.Start.UnixMilli())
	}
	return s.state.Stock
}

// read fetches what decide needs, in one round trip, through c: the
// client, or the WATCH connection.
func read(ctx context.Context, c redis.Cmdable, k keys, uid int64, oid string) (seen, error) {
	var st *redis.SliceCmd
	var bought *redis.StringCmd
	var taken *redis.BoolCmd
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		st = p.HMGet(ctx, k.sale, stateFields...)
		bought = p.HGet(ctx, k.buyers, strconv.FormatInt(uid, 10))
		taken = p.HExists(ctx, k.orders, oid)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return seen{}, err
	}
	var s seen
	s.state, s.ok = parseState(st.Val())
	s.bought, _ = strconv.Atoi(bought.Val())
	s.taken = taken.Val()
	return s, nil
}

// write queues the accepted buy: the same writes as buyScript, in one
// MULTI/EXEC. It returns the stock and the user's units after it.
func write(ctx context.Context, p redis.Pipeliner, k keys, saleID, uid, addressID int64, oid string, epoch int) (*redis.IntCmd, *redis.IntCmd) {
	stock := p.HIncrBy(ctx, k.sale, "stock", -1)
	p.HIncrBy(ctx, k.sale, "sold", 1)
	bought := p.HIncrBy(ctx, k.buyers, strconv.FormatInt(uid, 10), 1)
	p.HSet(ctx, k.orders, oid, uid)
	p.XAdd(ctx, &redis.XAddArgs{Stream: k.stream, Values: []any{"order", oid, "sale", saleID, "user", uid, "address", addressID, "epoch", epoch}})
	return stock, bought
}

// watchTries bounds the WATCH strategy's attempts at one buy.
const watchTries = 32

// buyWatch is the optimistic lock of the classic Redis flash sale: WATCH
// the sale and the buyers, read, decide, and MULTI/EXEC the writes, which
// fail if anyone wrote either key meanwhile; then try again, a bounded
// number of times, after a short random pause.
func (e *Engine) buyWatch(ctx context.Context, sku, uid, addressID int64, oid string, now time.Time) (int, int, error) {
	k := keysOf(sku)
	for attempt := 0; attempt < watchTries; attempt++ {
		var code, left int
		err := e.rdb.Watch(ctx, func(tx *redis.Tx) error {
			s, err := read(ctx, tx, k, uid, oid)
			if err != nil {
				return err
			}
			code, left = s.decide(now), s.state.Stock
			if code != codeOK {
				left = s.left(code)
				return nil
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				write(ctx, p, k, s.state.SaleID, uid, addressID, oid, s.state.Epoch)
				return nil
			})
			left--
			return err
		}, k.sale, k.buyers)
		if !errors.Is(err, redis.TxFailedErr) {
			return code, left, err
		}
		if err := models.Sleep(ctx, time.Duration(rand.IntN(500*(attempt+1)))*time.Microsecond); err != nil {
			break
		}
	}
	return 0, 0, fmt.Errorf("%w: %d WATCH conflicts in a row", models.ErrBusy, watchTries)
}

// Lock strategy settings: a buyer tries the sale's lock at most lockTries
// times, waiting a random 0 to 0.5·2^i ms (up to 8 ms) before try i, so a
// crowd does not spin on Redis.
const (
	lockTries  = 32
	lockExpiry = 2 * time.Second
)

func lockDelay(try int) time.Duration {
	return time.Duration(rand.Int64N(int64(500*time.Microsecond)<<min(try, 4))) + 100*time.Microsecond
}

// buyLocked is the distributed lock of the classic "one order per user"
// flash sale (SET key token NX EX, released only by its owner): a redsync
// lock on the sale
// (token, expiry, released only by its owner), then read, decide and
// write. A lock that expired meanwhile no longer excludes anyone, so the
// counters the write returns are checked too: a buy that went past the
// stock or the limit is undone at once and the buyer told to try again.
func (e *Engine) buyLocked(ctx context.Context, sku, uid, addressID int64, oid string, now time.Time) (int, int, error) {
	k := keysOf(sku)
	m := e.rs.NewMutex(k.lock, redsync.WithExpiry(lockExpiry), redsync.WithTries(lockTries),
		redsync.WithRetryDelayFunc(lockDelay))
	if err := m.LockContext(ctx); err != nil {
		return 0, 0, fmt.Errorf("%w: sale lock: %v", models.ErrBusy, err)
	}
	defer func() {
		if _, err := m.UnlockContext(context.WithoutCancel(ctx)); err != nil {
			e.log.Warn("release flash-sale lock", "sku", sku, "err", err)
		}
	}()
	s, err := read(ctx, e.rdb, k, uid, oid)
	if err != nil {
		return 0, 0, err
	}
	code := s.decide(now)
	if code != codeOK {
		return code, s.left(code), nil
	}
	var stock, bought *redis.IntCmd
	_, err = e.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		stock, bought = write(ctx, p, k, s.state.SaleID, uid, addressID, oid, s.state.Epoch)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if stock.Val() < 0 || bought.Val() > int64(s.state.PerUser) {
		if err := e.fail(context.WithoutCancel(ctx), sku, oid, uid, "", "lock expired during the buy"); err != nil {
			return 0, 0, err
		}
		return 0, 0, fmt.Errorf("%w: the sale lock expired during the buy", models.ErrBusy)
	}
	return codeOK, int(stock.Val()), nil
}

// failScript gives an accepted buy up: it marks the order failed, puts the
// unit back on sale and uncounts the buyer, once however often it runs,
// and acknowledges its stream entry if one is given. KEYS: sale, buyers,
// orders, failed, stream. ARGV: order id, user, reason, entry id or "".
var failScript = redis.NewScript(`
if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[2] and redis.call('HSETNX', KEYS[4], ARGV[1], ARGV[3]) == 1 then
  if redis.call('HGET', KEYS[1], 'state') then
    redis.call('HINCRBY', KEYS[1], 'stock', 1)
    redis.call('HINCRBY', KEYS[1], 'sold', -1)
  end
  redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
end
if ARGV[4] ~= '' then redis.call('XACK', KEYS[5], 'persist', ARGV[4]) end
return 1
`)

// fail runs failScript.
func (e *Engine) fail(ctx context.Context, sku int64, oid string, uid int64, entry, reason string) error {
	k := keysOf(sku)
	if err := failScript.Run(ctx, e.rdb, k.all(), oid, uid, reason, entry).Err(); err != nil {
		return fmt.Errorf("mark flash-sale order %s failed: %w", oid, err)
	}
	return nil
}
