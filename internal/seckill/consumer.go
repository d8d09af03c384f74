package seckill

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/models"
)

// Run is the background side of the flash sale, until ctx ends: a
// consumer per live sale's stream persists accepted buys; ended sales are
// closed (Close); open sales missing in Redis are loaded. Several
// processes may run it at once: the consumer group shares the entries,
// and the maintenance lock lets one of them close. Call it once.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	running := map[int64]context.CancelFunc{}
	defer func() {
		for _, stop := range running {
			stop()
		}
	}()
	t := time.NewTicker(e.tick)
	defer t.Stop()
	for {
		e.tend(ctx)
		skus, err := e.rdb.SMembers(ctx, liveKey).Result()
		if err != nil && ctx.Err() == nil {
			e.log.Warn("flash sale: list live sales", "err", err)
		}
		live := map[int64]bool{}
		for _, s := range skus {
			id, _ := strconv.ParseInt(s, 10, 64)
			live[id] = true
			if running[id] == nil {
				cctx, stop := context.WithCancel(ctx)
				running[id] = stop
				wg.Add(1)
				go func() {
					defer wg.Done()
					e.consume(cctx, id)
				}()
			}
		}
		for id, stop := range running {
			if !live[id] && err == nil {
				stop()
				delete(running, id)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// tend closes the open sales that have ended and loads into Redis, from
// the database, the ones it lacks.
func (e *Engine) tend(ctx context.Context) {
	sales, err := e.db.OpenSales(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.log.Warn("flash sale: list open sales", "err", err)
		}
		return
	}
	for i := range sales {
		s := &sales[i]
		if !e.now().Before(s.EndTime) {
			if _, err := e.Close(ctx, s.ID); err != nil && !errors.Is(err, ErrLocked) && ctx.Err() == nil {
				e.log.Warn("flash sale: close an ended sale", "sale", s.ID, "err", err)
			}
			continue
		}
		if missing, err := e.ensure(ctx, s); err != nil {
			e.log.Warn("flash sale: load an open sale into Redis", "sale", s.ID, "err", err)
		} else if missing {
			e.log.Info("flash sale: loaded an open sale into Redis", "sale", s.ID, "sku", s.SKUID)
		}
	}
}

// consume persists the SKU's stream until ctx ends: entries left pending
// by a consumer that stopped (for ClaimIdle) first, then new ones. Reads
// and writes run on work, which outlives ctx by Drain: a batch read when
// ctx ends is still written and acknowledged, not left pending for
// another instance to claim after ClaimIdle.
func (e *Engine) consume(ctx context.Context, sku int64) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(e.drainFor, cancel) })
	defer stop()
	k := keysOf(sku)
	lastClaim := time.Time{}
	for ctx.Err() == nil {
		var msgs []redis.XMessage
		var err error
		if time.Since(lastClaim) >= e.claim/2 {
			lastClaim = time.Now()
			msgs, err = e.claimStale(work, k, e.claim)
		}
		if err == nil && len(msgs) == 0 {
			msgs, err = e.readNew(work, k, 500*time.Millisecond)
		}
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("flash sale: read the stream", "sku", sku, "err", err)
				models.Sleep(ctx, 200*time.Millisecond)
			}
			continue
		}
		if err := e.persist(work, sku, msgs); err != nil {
			e.log.Warn("flash sale: persist", "sku", sku, "err", err, "stopping", ctx.Err() != nil)
		}
	}
}

// claimStale takes over entries pending with any consumer for minIdle.
func (e *Engine) claimStale(ctx context.Context, k keys, minIdle time.Duration) ([]redis.XMessage, error) {
	msgs, _, err := e.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: k.stream, Group: group, Consumer: e.consumer, MinIdle: minIdle, Start: "0-0", Count: int64(e.batch),
	}).Result()
	if errors.Is(err, redis.Nil) {
		err = nil
	}
	return msgs, err
}

// readNew reads entries no consumer has had yet, waiting up to block for
// some (0: not at all).
func (e *Engine) readNew(ctx context.Context, k keys, block time.Duration) ([]redis.XMessage, error) {
	if block == 0 {
		block = -1 // go-redis: no BLOCK argument
	}
	res, err := e.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: group, Consumer: e.consumer, Streams: []string{k.stream, ">"}, Count: int64(e.batch), Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []redis.XMessage
	for _, s := range res {
		out = append(out, s.Messages...)
	}
	return out, nil
}

// entry is a stream entry read back.
type entry struct {
	id    string
	order models.SeckillOrder
}

func parseEntry(m redis.XMessage) (entry, bool) {
	n := func(f string) int64 {
		s, _ := m.Values[f].(string)
		v, _ := strconv.ParseInt(s, 10, 64)
		return v
	}
	oid, _ := m.Values["order"].(string)
	ms, _, _ := strings.Cut(m.ID, "-")
	at, err := strconv.ParseInt(ms, 10, 64)
	o := models.SeckillOrder{OrderID: oid, SaleID: n("sale"), UserID: n("user"), AddressID: n("address"), Decided: time.UnixMilli(at),
		Epoch: int(n("epoch"))}
	return entry{id: m.ID, order: o}, err == nil && oid != "" && o.SaleID > 0 && o.UserID > 0
}

// persist writes a batch of entries to the database and acknowledges them
// only after the commit. Orders already marked failed are acknowledged
// unwritten. A transient error is retried until ctx ends (the entries stay
// pending, for this consumer or, after ClaimIdle, another); a batch the
// database refuses for good is split, and each order it refuses is marked
// failed, its unit put back on sale.
func (e *Engine) persist(ctx context.Context, sku int64, msgs []redis.XMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	k := keysOf(sku)
	var batch []entry
	var ack []string
	for _, m := range msgs {
		en, ok := parseEntry(m)
		if !ok {
			e.log.Error("flash sale: malformed stream entry, dropped", "sku", sku, "id", m.ID, "values", m.Values)
			ack = append(ack, m.ID)
			continue
		}
		batch = append(batch, en)
	}
	if len(batch) > 0 {
		ids := make([]string, len(batch))
		for i, en := range batch {
			ids[i] = en.order.OrderID
		}
		failed, err := e.rdb.HMGet(ctx, k.failed, ids...).Result()
		if err != nil {
			return fmt.Errorf("read failed orders: %w", err)
		}
		live := batch[:0]
		for i, en := range batch {
			if failed[i] != nil {
				ack = append(ack, en.id)
			} else {
				live = append(live, en)
			}
		}
		batch = live
	}
	if len(ack) > 0 {
		if err := e.rdb.XAck(ctx, k.stream, group, ack...).Err(); err != nil {
			return fmt.Errorf("acknowledge: %w", err)
		}
	}
	return e.write(ctx, sku, batch)
}

// write persists entries, retrying transient errors until ctx ends.
func (e *Engine) write(ctx context.Context, sku int64, batch []entry) error {
	if len(batch) == 0 {
		return nil
	}
	orders := make([]models.SeckillOrder, len(batch))
	for i, en := range batch {
		orders[i] = en.order
	}
	for attempt := 0; ; attempt++ {
		res, err := e.db.PersistSeckillOrders(ctx, orders)
		if err == nil {
			return e.written(context.WithoutCancel(ctx), sku, batch, res)
		}
		if permanent(err) {
			if len(batch) == 1 {
				e.stats.failed(1)
				e.obs.Failed(1)
				en := batch[0]
				e.log.Error("flash sale: order cannot be persisted; its unit goes back on sale", "order", en.order.OrderID, "err", err)
				return e.fail(context.WithoutCancel(ctx), sku, en.order.OrderID, en.order.UserID, en.id, err.Error())
			}
			for _, en := range batch {
				if err := e.write(ctx, sku, []entry{en}); err != nil {
					return err
				}
			}
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		e.log.Warn("flash sale: persist failed, will retry", "sku", sku, "orders", len(batch), "err", err)
		if models.Sleep(ctx, time.Duration(min(attempt+1, 20))*100*time.Millisecond) != nil {
			return err
		}
	}
}

// written tells Redis what the database did with a batch: each refused
// order is marked failed (its unit back on sale if Redis counted it), the
// others are acknowledged. Entries that were not pending any more mean
// that Redis lost the sale meanwhile (or a closer took them over): the
// orders written are then added to what Redis knows of the sale, if it
// does not know them yet, so that its counts stay the database's.
func (e *Engine) written(ctx context.Context, sku int64, batch []entry, res models.PersistResult) error {
	now := e.now()
	e.stats.persisted(now, batch, res.Created, res.Skipped)
	refused := make(map[string]string, len(res.Refused))
	for _, r := range res.Refused {
		refused[r.OrderID] = r.Reason
	}
	e.stats.failed(len(refused))
	e.obs.Failed(len(refused))
	for _, en := range batch {
		if _, no := refused[en.order.OrderID]; !no {
			e.obs.Persisted(now.Sub(en.order.Decided))
		}
	}
	ids := make([]string, 0, len(batch))
	var kept []models.SeckillOrder
	for _, en := range batch {
		why, ok := refused[en.order.OrderID]
		if !ok {
			ids = append(ids, en.id)
			kept = append(kept, en.order)
			continue
		}
		e.log.Warn("flash sale: the database refused an order", "order", en.order.OrderID, "reason", why)
		if err := e.fail(ctx, sku, en.order.OrderID, en.order.UserID, en.id, why); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		return nil
	}
	// Not acknowledged (Redis failing now) means claimed and written
	// again later: a skip, not a duplicate.
	n, err := e.rdb.XAck(ctx, keysOf(sku).stream, group, ids...).Result()
	if err != nil {
		return fmt.Errorf("acknowledge %d persisted entries: %w", len(ids), err)
	}
	if int(n) == len(ids) {
		return nil
	}
	return e.learn(ctx, sku, kept)
}

// learnScript adds written orders that Redis does not know to the sale,
// if Redis has that sale: each takes a unit and counts its buyer. KEYS:
// sale, buyers, orders. ARGV: sale id, then pairs order id, user.
var learnScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'sale') ~= ARGV[1] then return 0 end
local n = 0
for i = 2, #ARGV, 2 do
  if redis.call('HSETNX', KEYS[3], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('HINCRBY', KEYS[1], 'stock', -1)
    redis.call('HINCRBY', KEYS[1], 'sold', 1)
    redis.call('HINCRBY', KEYS[2], ARGV[i + 1], 1)
    n = n + 1
  end
end
return n
`)

// learn runs learnScript for orders of one sale.
func (e *Engine) learn(ctx context.Context, sku int64, orders []models.SeckillOrder) error {
	bySale := map[int64][]any{}
	for _, o := range orders {
		bySale[o.SaleID] = append(bySale[o.SaleID], o.OrderID, o.UserID)
	}
	k := keysOf(sku)
	for sale, pairs := range bySale {
		n, err := learnScript.Run(ctx, e.rdb, []string{k.sale, k.buyers, k.orders}, append([]any{sale}, pairs...)...).Int()
		if err != nil {
			return fmt.Errorf("add written orders of sale %d to Redis: %w", sale, err)
		}
		if n > 0 {
			e.log.Warn("flash sale: Redis had lost written orders; added them", "sale", sale, "orders", n)
		}
	}
	return nil
}

// permanent tells a database refusal that no retry will change.
func permanent(err error) bool {
	return errors.Is(err, models.ErrInvalid) || errors.Is(err, models.ErrNotFound) || errors.Is(err, models.ErrDuplicate)
}

// stats counts what the consumers of this process did.
type stats struct {
	mu       sync.Mutex
	created  int
	skipped  int
	failures int
	lags     []time.Duration // ring buffer of the latest persistence lags
	next     int
}

const lagSamples = 1 << 16

func (s *stats) init() { s.lags = make([]time.Duration, 0, lagSamples) }

func (s *stats) persisted(now time.Time, batch []entry, created, skipped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.created += created
	s.skipped += skipped
	for _, en := range batch {
		lag := now.Sub(en.order.Decided)
		if len(s.lags) < lagSamples {
			s.lags = append(s.lags, lag)
		} else {
			s.lags[s.next] = lag
			s.next = (s.next + 1) % lagSamples
		}
	}
}

func (s *stats) failed(n int) {
	s.mu.Lock()
	s.failures += n
	s.mu.Unlock()
}

// Stats is what this process's consumers did since it started.
type Stats struct {
	Created int // orders written
	Skipped int // entries already written (claimed again after a crash)
	Failed  int // orders the database refused for good
	// Lag holds the persistence lag (from Redis's decision to the
	// commit) at the 50th, 95th, 99th and 100th percentiles, over the
	// latest 65,536 orders.
	Lag [4]time.Duration
}

// Stats reports the consumers' counts and persistence lag.
func (e *Engine) Stats() Stats {
	e.stats.mu.Lock()
	lags := slices.Clone(e.stats.lags)
	out := Stats{Created: e.stats.created, Skipped: e.stats.skipped, Failed: e.stats.failures}
	e.stats.mu.Unlock()
	slices.Sort(lags)
	for i, p := range []float64{50, 95, 99, 100} {
		out.Lag[i] = Percentile(lags, p)
	}
	return out
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
