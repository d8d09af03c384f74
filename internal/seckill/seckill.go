// Package seckill is the flash sale (秒杀) engine on Redis: thousands of
// buyers want a few units in the same second, so the sale's stock lives in
// Redis, each buyer is decided there atomically, and the accepted orders go
// through a Redis Stream to a consumer group that writes them to the
// database.
//
// It lives in internal/ because it is neither the cart store nor database
// access: it is the sale's Redis side, and reaches the database only
// through the DB interface, which *models.Sales satisfies.
//
// Every key of one sale shares the hash tag {seckill:<sku_id>}, so the
// scripts and transactions below work on Redis Cluster:
//
//	{seckill:<sku>}:sale    hash: sale, sku, total, stock (left), sold, per_user,
//	                        start and end (unix ms), state (open, closing, closed)
//	{seckill:<sku>}:buyers  hash: user id -> units bought
//	{seckill:<sku>}:orders  hash: order id -> user id, every accepted buy
//	{seckill:<sku>}:failed  hash: order id -> why it could not be persisted
//	{seckill:<sku>}:stream  stream of accepted buys (order, sale, user,
//	                        address), consumer group "persist"
//	{seckill:<sku>}:lock    the per-buy redsync lock (StrategyLock only)
//	seckill:live            set of SKU ids whose sale is in Redis (consumers
//	                        and the result lookup read it)
//	seckill:maintenance     redsync lock: one closer or reconciler at a time
//
// A closed sale's keys expire a day after closing; opening a new sale of the
// SKU replaces them.
package seckill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/models"
)

// Sentinel errors: the buyer's business rejections. ErrBusy and the
// errors of DB pass through wrapped.
var (
	ErrNoSale     = errors.New("no flash sale for this sku")
	ErrNotStarted = errors.New("the flash sale has not started")
	ErrEnded      = errors.New("the flash sale has ended")
	ErrSoldOut    = errors.New("the flash sale is sold out")
	ErrLimit      = errors.New("already bought the most allowed")
)

// Strategy is how a buy is decided in Redis.
type Strategy string

const (
	// StrategyLua decides in one Lua script: atomic, one round trip.
	StrategyLua Strategy = "lua"
	// StrategyWatch is the classic optimistic Redis flash sale: WATCH the
	// sale, read, then MULTI/EXEC,
	// trying again (a bounded number of times) when someone else wrote.
	StrategyWatch Strategy = "watch"
	// StrategyLock is the distributed-lock flash sale: a redsync lock per
	// sale around a
	// read and a MULTI/EXEC write.
	StrategyLock Strategy = "lock"
)

// ParseStrategy reads SHOP_SECKILL_STRATEGY; "" is StrategyLua. Returns
// models.ErrInvalid for an unknown name.
func ParseStrategy(name string) (Strategy, error) {
	switch s := Strategy(name); s {
	case "":
		return StrategyLua, nil
	case StrategyLua, StrategyWatch, StrategyLock:
		return s, nil
	}
	return "", fmt.Errorf("%w: flash-sale strategy %q (want lua, watch or lock)", models.ErrInvalid, name)
}

// DB is the database side of the sale; *models.Store satisfies it.
type DB interface {
	OpenSale(ctx context.Context, in models.SaleInput) (*models.Sale, error)
	CloseSale(ctx context.Context, saleID int64) (*models.Sale, bool, error)
	PersistSeckillOrders(ctx context.Context, batch []models.SeckillOrder) (created, skipped int, err error)
	Sale(ctx context.Context, id int64) (*models.Sale, error)
	OpenSales(ctx context.Context) ([]models.Sale, error)
	SaleOrders(ctx context.Context, saleID int64) ([]models.SaleOrder, error)
	SeckillOrderExists(ctx context.Context, uid int64, orderID string) (bool, error)
}

// Config builds an Engine. Zero durations and sizes take the defaults.
type Config struct {
	Redis    redis.UniversalClient
	DB       DB
	Strategy Strategy // "" is StrategyLua
	Log      *slog.Logger
	// Consumer names this process in the consumer group; "" makes a
	// unique name from the host, the pid and random digits.
	Consumer string
	// Batch is how many stream entries the consumer persists in one
	// transaction, at most; default 2,000. A consumer that keeps up
	// persists small batches; one that falls behind catches up with big
	// ones, whose fixed costs (round trips, COMMIT) are shared by more
	// orders. 2,000 keeps every statement under SQLite's 32,766
	// placeholders.
	Batch int
	// ClaimIdle is how long an entry stays pending with a consumer before
	// another one claims it (XAUTOCLAIM), as the first may have crashed;
	// default 10s.
	ClaimIdle time.Duration
	// Tick is how often Run looks for new sales, ended sales and sales
	// missing in Redis; default 1s.
	Tick time.Duration
	// LockExpiry is the maintenance lock's expiry; it is extended every
	// third of it while the work runs. Default 8s.
	LockExpiry time.Duration
	// SoldOutFor is how long this process answers "sold out" from memory,
	// without asking Redis, once Redis said so; default 1s.
	SoldOutFor time.Duration
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Engine runs flash sales. Build it with New.
type Engine struct {
	rdb      redis.UniversalClient
	db       DB
	strategy Strategy
	log      *slog.Logger
	rs       *redsync.Redsync
	consumer string
	batch    int
	claim    time.Duration
	tick     time.Duration
	lockTTL  time.Duration
	soldFor  time.Duration
	now      func() time.Time

	soldMu  sync.RWMutex
	soldOut map[int64]time.Time // sku -> until when "sold out" is answered from memory

	stats stats
}

// New checks cfg and returns an Engine.
func New(cfg Config) (*Engine, error) {
	if cfg.Redis == nil || cfg.DB == nil {
		return nil, errors.New("seckill: Redis and DB are required")
	}
	st, err := ParseStrategy(string(cfg.Strategy))
	if err != nil {
		return nil, err
	}
	e := &Engine{
		rdb: cfg.Redis, db: cfg.DB, strategy: st, log: cfg.Log, consumer: cfg.Consumer,
		batch: cfg.Batch, claim: cfg.ClaimIdle, tick: cfg.Tick, lockTTL: cfg.LockExpiry,
		soldFor: cfg.SoldOutFor, now: cfg.Now, soldOut: map[int64]time.Time{},
	}
	e.rs = redsync.New(goredis.NewPool(cfg.Redis))
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.consumer == "" {
		host, _ := os.Hostname()
		e.consumer = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(4))
	}
	if e.batch <= 0 {
		e.batch = 2000
	}
	if e.claim <= 0 {
		e.claim = 10 * time.Second
	}
	if e.tick <= 0 {
		e.tick = time.Second
	}
	if e.lockTTL <= 0 {
		e.lockTTL = 8 * time.Second
	}
	if e.soldFor <= 0 {
		e.soldFor = time.Second
	}
	if e.now == nil {
		e.now = time.Now
	}
	e.stats.init()
	return e, nil
}

// Strategy reports how buys are decided.
func (e *Engine) Strategy() Strategy { return e.strategy }

// Keys of one sale.
const (
	liveKey        = "seckill:live"
	closedKey      = "seckill:closed" // sorted set: SKU by the time its sale closed
	maintenanceKey = "seckill:maintenance"
	group          = "persist"
)

type keys struct{ sale, buyers, orders, failed, stream, lock string }

func keysOf(sku int64) keys {
	p := "{seckill:" + strconv.FormatInt(sku, 10) + "}:"
	return keys{p + "sale", p + "buyers", p + "orders", p + "failed", p + "stream", p + "lock"}
}

func (k keys) all() []string { return []string{k.sale, k.buyers, k.orders, k.failed, k.stream} }

// closedTTL is how long a closed sale's keys stay, so buyers can still
// read their results.
const closedTTL = 24 * time.Hour

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// State is a sale as Redis holds it.
type State struct {
	SaleID  int64
	SKUID   int64
	Total   int // units the sale opened with
	Stock   int // units left
	Sold    int
	PerUser int
	Start   time.Time
	End     time.Time
	Phase   string // open, closing or closed
}

var stateFields = []string{"sale", "sku", "total", "stock", "sold", "per_user", "start", "end", "state"}

// parseState reads HMGET stateFields; ok is false when the sale is absent.
func parseState(vals []any) (State, bool) {
	if len(vals) != len(stateFields) || vals[0] == nil {
		return State{}, false
	}
	n := func(i int) int64 {
		s, _ := vals[i].(string)
		v, _ := strconv.ParseInt(s, 10, 64)
		return v
	}
	phase, _ := vals[8].(string)
	return State{
		SaleID: n(0), SKUID: n(1), Total: int(n(2)), Stock: int(n(3)), Sold: int(n(4)), PerUser: int(n(5)),
		Start: time.UnixMilli(n(6)), End: time.UnixMilli(n(7)), Phase: phase,
	}, true
}

// State returns the SKU's sale as Redis holds it. Returns ErrNoSale when
// Redis holds none.
func (e *Engine) State(ctx context.Context, sku int64) (State, error) {
	vals, err := e.rdb.HMGet(ctx, keysOf(sku).sale, stateFields...).Result()
	if err != nil {
		return State{}, fmt.Errorf("flash sale of sku %d: %w", sku, err)
	}
	s, ok := parseState(vals)
	if !ok {
		return State{}, fmt.Errorf("sku %d: %w", sku, ErrNoSale)
	}
	return s, nil
}

// loadScript puts a sale into Redis unless it is there already. A previous
// sale of the SKU (closed in the database, since one SKU has one open sale
// at most) is replaced. KEYS: sale, buyers, orders, failed, stream. ARGV:
// sale, sku, total, per_user, start, end.
var loadScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'sale') == ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('HSET', KEYS[1], 'sale', ARGV[1], 'sku', ARGV[2], 'total', ARGV[3], 'stock', ARGV[3], 'sold', 0,
  'per_user', ARGV[4], 'start', ARGV[5], 'end', ARGV[6], 'state', 'open')
redis.call('XGROUP', 'CREATE', KEYS[5], 'persist', '0', 'MKSTREAM')
return 1
`)

// load puts an open sale into Redis, if it is not there yet, and lists it
// as live. It reports whether it was missing.
func (e *Engine) load(ctx context.Context, s *models.Sale) (bool, error) {
	k := keysOf(s.SKUID)
	n, err := loadScript.Run(ctx, e.rdb, k.all(), s.ID, s.SKUID, s.Stock, s.PerUser,
		s.StartTime.UnixMilli(), s.EndTime.UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("load sale %d into Redis: %w", s.ID, err)
	}
	if err := e.rdb.SAdd(ctx, liveKey, s.SKUID).Err(); err != nil {
		return false, fmt.Errorf("list sale %d as live: %w", s.ID, err)
	}
	e.soldMu.Lock()
	delete(e.soldOut, s.SKUID)
	e.soldMu.Unlock()
	return n == 1, nil
}

// Open opens a flash sale: the database moves the stock out of the SKU
// (models.OpenSale), then the sale goes into Redis. If Redis fails after
// the database has committed, the sale is open but not yet buyable: Run
// (or Reconcile) loads it on its next round.
//
// Returns the errors of models.OpenSale, and a Redis error after which the
// sale exists anyway.
func (e *Engine) Open(ctx context.Context, in models.SaleInput) (*models.Sale, error) {
	s, err := e.db.OpenSale(ctx, in)
	if err != nil {
		return nil, err
	}
	if _, err := e.load(ctx, s); err != nil {
		return s, err
	}
	return s, nil
}

// SoldOut reports whether this process knows, from memory, that the SKU's
// sale is sold out: Redis said so less than Config.SoldOutFor ago. It
// sends no command.
func (e *Engine) SoldOut(sku int64) bool {
	e.soldMu.RLock()
	until, ok := e.soldOut[sku]
	e.soldMu.RUnlock()
	return ok && e.now().Before(until)
}

func (e *Engine) markSoldOut(sku int64) {
	e.soldMu.Lock()
	e.soldOut[sku] = e.now().Add(e.soldFor)
	e.soldMu.Unlock()
}

// Status of a flash-sale order, as the result endpoint tells it.
type Status string

const (
	Queued  Status = "queued"  // accepted, not yet in the database
	Created Status = "created" // in the database: the user's orders show it
	Failed  Status = "failed"  // could not be persisted; the unit went back on sale
)

// Result says what became of the user's flash-sale order. Redis is asked
// before the database, so an order persisted (and its sale closed) in
// between is still found. Returns models.ErrNotFound for an order id that
// is not the user's.
func (e *Engine) Result(ctx context.Context, uid int64, orderID string) (Status, error) {
	// The live sales, and those closed less than closedTTL ago, whose
	// keys are still there.
	var live *redis.StringSliceCmd
	var closed *redis.StringSliceCmd
	_, err := e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		live = p.SMembers(ctx, liveKey)
		closed = p.ZRangeByScore(ctx, closedKey, &redis.ZRangeBy{
			Min: strconv.FormatInt(e.now().Add(-closedTTL).Unix(), 10), Max: "+inf"})
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("flash-sale result %s: %w", orderID, err)
	}
	skus := append(live.Val(), closed.Val()...)
	found, failed := false, false
	if len(skus) > 0 {
		owners := make([]*redis.StringCmd, len(skus))
		fails := make([]*redis.BoolCmd, len(skus))
		_, err = e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, s := range skus {
				id, _ := strconv.ParseInt(s, 10, 64)
				k := keysOf(id)
				owners[i] = p.HGet(ctx, k.orders, orderID)
				fails[i] = p.HExists(ctx, k.failed, orderID)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return "", fmt.Errorf("flash-sale result %s: %w", orderID, err)
		}
		for i := range skus {
			if owners[i].Val() == strconv.FormatInt(uid, 10) {
				found, failed = true, fails[i].Val()
			}
		}
	}
	if failed {
		return Failed, nil
	}
	ok, err := e.db.SeckillOrderExists(ctx, uid, orderID)
	switch {
	case err != nil:
		return "", err
	case ok:
		return Created, nil
	case found:
		return Queued, nil
	}
	return "", fmt.Errorf("flash-sale order %q of user %d: %w", orderID, uid, models.ErrNotFound)
}
