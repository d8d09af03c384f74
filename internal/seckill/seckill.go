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
//	                        start and end (unix ms), state (open, closing, closed),
//	                        epoch (the sale's load into Redis: models.Sale.Loads)
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
//
// Redis may lose a sale (FLUSHALL, a restart without persistence, any
// restart of the in-process default). It is then loaded again from the
// database, never from its total: what is left is the stock less the
// orders persisted, the buyers are the database's, and every buy carries
// the load (epoch) it was decided in, so that a buy of the lost Redis that
// is persisted late is refused, as its buyer is told (Result). The
// database refuses whatever would pass the stock or a buyer's limit
// anyway (models.PersistSeckillOrders).
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
	"strings"
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
	PersistSeckillOrders(ctx context.Context, batch []models.SeckillOrder) (models.PersistResult, error)
	LoadSale(ctx context.Context, saleID int64, load func(ctx context.Context, st *models.SaleState) (bool, error)) (bool, error)
	Sale(ctx context.Context, id int64) (*models.Sale, error)
	LiveSale(ctx context.Context, skuID int64) (*models.Sale, error)
	OpenSales(ctx context.Context) ([]models.Sale, error)
	SaleOrders(ctx context.Context, saleID int64) ([]models.SaleOrder, error)
	SeckillOutcome(ctx context.Context, uid int64, orderID string) (created bool, refused string, err error)
	LostSeckillOrder(ctx context.Context, uid int64, orderID string) (bool, error)
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

	soldMu     sync.RWMutex
	soldOut    map[int64]time.Time // sku -> until when "sold out" is answered from memory
	notStarted map[int64]time.Time // sku -> until when "not started" is answered from memory

	// reloading lets one buyer at a time load a sale Redis lacks; the
	// others wait for it, then find the sale in Redis.
	reloading chan struct{}

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
		soldFor: cfg.SoldOutFor, now: cfg.Now, soldOut: map[int64]time.Time{}, notStarted: map[int64]time.Time{}, reloading: make(chan struct{}, 1),
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
	Epoch   int    // the sale's load into Redis (models.Sale.Loads)
}

var stateFields = []string{"sale", "sku", "total", "stock", "sold", "per_user", "start", "end", "state", "epoch"}

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
		Start: time.UnixMilli(n(6)), End: time.UnixMilli(n(7)), Phase: phase, Epoch: int(n(9)),
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

// loadScript puts a sale into Redis, whole, unless it is there already: the
// sale's hash, its buyers and its persisted orders, and an empty stream
// with its consumer group, in one script, so that no buy is decided
// against half of it. A previous sale of the SKU (closed in the database,
// since one SKU has one open sale at most) is replaced. KEYS: sale,
// buyers, orders, failed, stream. ARGV: sale, sku, total, stock, sold,
// per_user, start, end, epoch, the number of buyers n, then n pairs user,
// units, then pairs order id, user.
var loadScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'sale') == ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('HSET', KEYS[1], 'sale', ARGV[1], 'sku', ARGV[2], 'total', ARGV[3], 'stock', ARGV[4], 'sold', ARGV[5],
  'per_user', ARGV[6], 'start', ARGV[7], 'end', ARGV[8], 'state', 'open', 'epoch', ARGV[9])
local n = tonumber(ARGV[10])
local i = 11
while i < 11 + 2 * n do
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
  i = i + 2
end
while i < #ARGV do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  i = i + 2
end
redis.call('XGROUP', 'CREATE', KEYS[5], 'persist', '0', 'MKSTREAM')
return 1
`)

// load puts an open sale into Redis from the database (models.LoadSale),
// if it is not there yet, and lists it as live. It reports whether it was
// missing. Returns models.ErrNotFound if the sale is not open.
func (e *Engine) load(ctx context.Context, s *models.Sale) (bool, error) {
	k := keysOf(s.SKUID)
	loaded, err := e.db.LoadSale(ctx, s.ID, func(ctx context.Context, st *models.SaleState) (bool, error) {
		sl := st.Sale
		args := make([]any, 0, 10+2*len(st.Buyers)+2*len(st.Orders))
		args = append(args, sl.ID, sl.SKUID, sl.Stock, sl.Stock-sl.Sold, sl.Sold, sl.PerUser,
			sl.StartTime.UnixMilli(), sl.EndTime.UnixMilli(), sl.Loads, len(st.Buyers))
		for uid, n := range st.Buyers {
			args = append(args, uid, n)
		}
		for oid, uid := range st.Orders {
			args = append(args, oid, uid)
		}
		n, err := loadScript.Run(ctx, e.rdb, k.all(), args...).Int()
		if err != nil {
			return false, fmt.Errorf("load sale %d into Redis: %w", sl.ID, err)
		}
		if n == 1 && st.Rebuild {
			e.log.Warn("flash sale: Redis had lost the sale; rebuilt it from the database",
				"sale", sl.ID, "sku", sl.SKUID, "sold", sl.Sold, "buyers", len(st.Buyers), "epoch", sl.Loads)
		}
		return n == 1, nil
	})
	if err != nil {
		return false, err
	}
	if err := e.rdb.SAdd(ctx, liveKey, s.SKUID).Err(); err != nil {
		return false, fmt.Errorf("list sale %d as live: %w", s.ID, err)
	}
	e.soldMu.Lock()
	delete(e.soldOut, s.SKUID)
	delete(e.notStarted, s.SKUID)
	e.soldMu.Unlock()
	return loaded, nil
}

// ensure loads an open sale into Redis if Redis lacks it (one HGET when it
// has it), and lists it as live. It reports whether it was missing.
func (e *Engine) ensure(ctx context.Context, s *models.Sale) (bool, error) {
	id, err := e.rdb.HGet(ctx, keysOf(s.SKUID).sale, "sale").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, fmt.Errorf("look for sale %d in Redis: %w", s.ID, err)
	}
	if id != strconv.FormatInt(s.ID, 10) {
		return e.load(ctx, s)
	}
	if err := e.rdb.SAdd(ctx, liveKey, s.SKUID).Err(); err != nil {
		return false, fmt.Errorf("list sale %d as live: %w", s.ID, err)
	}
	return false, nil
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
	return e.Known(sku) == ErrSoldOut
}

// Known is the refusal this process can give a buy of the SKU from
// memory, without a command to Redis: ErrSoldOut when Redis said "sold
// out" less than Config.SoldOutFor ago, ErrNotStarted when Redis said
// "not started" less than that ago and the start it gave is still ahead;
// nil otherwise. A sale reopened or changed elsewhere is seen at most
// Config.SoldOutFor late.
func (e *Engine) Known(sku int64) error {
	now := e.now()
	e.soldMu.RLock()
	sold, soldOK := e.soldOut[sku]
	start, startOK := e.notStarted[sku]
	e.soldMu.RUnlock()
	switch {
	case soldOK && now.Before(sold):
		return ErrSoldOut
	case startOK && now.Before(start):
		return ErrNotStarted
	}
	return nil
}

func (e *Engine) markSoldOut(sku int64) {
	e.soldMu.Lock()
	e.soldOut[sku] = e.now().Add(e.soldFor)
	e.soldMu.Unlock()
}

// markNotStarted remembers that the SKU's sale starts at start, for at
// most soldFor.
func (e *Engine) markNotStarted(sku int64, start time.Time) {
	e.soldMu.Lock()
	e.notStarted[sku] = minTime(start, e.now().Add(e.soldFor))
	e.soldMu.Unlock()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Status of a flash-sale order, as the result endpoint tells it.
type Status string

const (
	Queued  Status = "queued"  // accepted, not yet in the database
	Created Status = "created" // in the database: the user's orders show it
	Failed  Status = "failed"  // could not be persisted; the unit went back on sale
)

// Outcome is what became of a flash-sale order: its status and, when it
// failed, why.
type Outcome struct {
	Status Status
	Reason string // for Failed: models.RefusedSoldOut, RefusedLimit, RefusedLost or a generic reason
}

// Result says what became of the user's flash-sale order (Outcome without
// the reason).
func (e *Engine) Result(ctx context.Context, uid int64, orderID string) (Status, error) {
	o, err := e.Outcome(ctx, uid, orderID)
	return o.Status, err
}

// Outcome says what became of the user's flash-sale order. Redis is asked
// before the database, so an order persisted (and its sale closed) in
// between is still found. An order Redis does not know (it lost it, or it
// is down) is looked for in the database: written is created, refused is
// failed with the refusal's reason, and a buy of a sale rebuilt since it
// was decided is failed, lost (models.LostSeckillOrder). Returns
// models.ErrNotFound for an order id that is not the user's.
func (e *Engine) Outcome(ctx context.Context, uid int64, orderID string) (Outcome, error) {
	found, failed, rerr := e.inRedis(ctx, uid, orderID)
	if failed != "" {
		return Outcome{Status: Failed, Reason: publicReason(failed)}, nil
	}
	created, refused, err := e.db.SeckillOutcome(ctx, uid, orderID)
	switch {
	case err != nil:
		return Outcome{}, err
	case created:
		return Outcome{Status: Created}, nil
	case refused != "":
		return Outcome{Status: Failed, Reason: refused}, nil
	case rerr != nil:
		return Outcome{}, rerr
	case found:
		return Outcome{Status: Queued}, nil
	}
	lost, err := e.db.LostSeckillOrder(ctx, uid, orderID)
	if err != nil {
		return Outcome{}, err
	}
	if lost {
		return Outcome{Status: Failed, Reason: models.RefusedLost}, nil
	}
	return Outcome{}, fmt.Errorf("flash-sale order %q of user %d: %w", orderID, uid, models.ErrNotFound)
}

// inRedis looks for the user's order among the live sales' and those
// closed less than closedTTL ago, whose keys are still there: found, and
// why it failed if it did.
func (e *Engine) inRedis(ctx context.Context, uid int64, orderID string) (found bool, failed string, err error) {
	var live *redis.StringSliceCmd
	var closed *redis.StringSliceCmd
	_, err = e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		live = p.SMembers(ctx, liveKey)
		closed = p.ZRangeByScore(ctx, closedKey, &redis.ZRangeBy{
			Min: strconv.FormatInt(e.now().Add(-closedTTL).Unix(), 10), Max: "+inf"})
		return nil
	})
	if err != nil {
		return false, "", fmt.Errorf("flash-sale result %s: %w", orderID, err)
	}
	skus := append(live.Val(), closed.Val()...)
	if len(skus) == 0 {
		return false, "", nil
	}
	owners := make([]*redis.StringCmd, len(skus))
	fails := make([]*redis.StringCmd, len(skus))
	_, err = e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, s := range skus {
			id, _ := strconv.ParseInt(s, 10, 64)
			k := keysOf(id)
			owners[i] = p.HGet(ctx, k.orders, orderID)
			fails[i] = p.HGet(ctx, k.failed, orderID)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return false, "", fmt.Errorf("flash-sale result %s: %w", orderID, err)
	}
	for i := range skus {
		if owners[i].Val() == strconv.FormatInt(uid, 10) {
			found, failed = true, fails[i].Val()
		}
	}
	return found, failed, nil
}

// publicReason is what a buyer is told of a failure recorded in Redis:
// the database's reasons as they are, the others (an operator's details)
// in general terms.
func publicReason(why string) string {
	switch {
	case why == models.RefusedSoldOut, why == models.RefusedLimit, why == models.RefusedLost:
		return why
	case strings.HasPrefix(why, "lost"):
		return models.RefusedLost
	}
	return "could not be written"
}
