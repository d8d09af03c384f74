package seckill

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/models"
)

// ErrLocked means another closer or reconciler holds the maintenance lock.
var ErrLocked = fmt.Errorf("%w: another flash-sale closer or reconciler is running", models.ErrBusy)

// exclusive runs fn while this process holds the maintenance lock
// (redsync: a random token, released only by its owner). The lock is
// extended every third of its expiry while fn runs; if an extension fails,
// fn's context is canceled, since the lock no longer excludes anyone.
// Returns ErrLocked when another holder has it.
func (e *Engine) exclusive(ctx context.Context, fn func(ctx context.Context) error) error {
	m := e.rs.NewMutex(maintenanceKey, redsync.WithExpiry(e.lockTTL), redsync.WithTries(1))
	if err := m.TryLockContext(ctx); err != nil {
		var taken *redsync.ErrTaken
		if errors.Is(err, redsync.ErrFailed) || errors.As(err, &taken) {
			return ErrLocked
		}
		return fmt.Errorf("take the flash-sale maintenance lock: %w", err)
	}
	work, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(e.lockTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-work.Done():
				return
			case <-t.C:
				if ok, err := m.ExtendContext(work); !ok {
					cancel(fmt.Errorf("the maintenance lock could not be extended: %v", err))
					return
				}
			}
		}
	}()
	err := fn(work)
	if cause := context.Cause(work); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = fmt.Errorf("%w (%v)", err, cause)
	}
	cancel(nil)
	<-done
	if ok, uerr := m.UnlockContext(context.WithoutCancel(ctx)); !ok {
		e.log.Warn("flash sale: release the maintenance lock", "err", uerr)
	}
	return err
}

// CloseReport is what closing a sale did.
type CloseReport struct {
	Sale      *models.Sale // as closed: Sold is the orders it made
	ClosedNow bool         // false: it was closed already
	Returned  int          // units given back to the SKU's stock
	RedisSold int          // units Redis counted as sold; differs from Sale.Sold only if Reconcile has work to do
}

// Close closes a sale, under the maintenance lock: it stops buys in Redis
// (state "closing"), persists every accepted buy still in the stream
// (claiming those other consumers hold), then closes the sale in the
// database (models.CloseSale: the unsold units go back to the SKU, exactly
// once), and marks the Redis keys closed, to expire a day later.
//
// Returns ErrLocked when another closer or reconciler runs;
// models.ErrNotFound for an unknown sale.
func (e *Engine) Close(ctx context.Context, saleID int64) (*CloseReport, error) {
	var rep *CloseReport
	err := e.exclusive(ctx, func(ctx context.Context) error {
		s, err := e.db.Sale(ctx, saleID)
		if err != nil {
			return err
		}
		rep = &CloseReport{}
		if s.Status == models.SaleOpen {
			if err := e.stopBuys(ctx, s); err != nil {
				return err
			}
			if err := e.drain(ctx, s.SKUID); err != nil {
				return err
			}
		}
		if st, err := e.State(ctx, s.SKUID); err == nil && st.SaleID == s.ID {
			rep.RedisSold = st.Sold
		}
		if rep.Sale, rep.ClosedNow, err = e.db.CloseSale(ctx, saleID); err != nil {
			return err
		}
		if rep.ClosedNow {
			rep.Returned = rep.Sale.Stock - rep.Sale.Sold
		}
		if rep.RedisSold != rep.Sale.Sold {
			e.log.Warn("flash sale closed with Redis and the database apart", "sale", saleID, "redis_sold", rep.RedisSold, "orders", rep.Sale.Sold)
		}
		return e.retire(ctx, rep.Sale)
	})
	if err != nil {
		return nil, fmt.Errorf("close flash sale %d: %w", saleID, err)
	}
	return rep, nil
}

// phaseScript sets the sale's state if Redis holds that sale. KEYS: sale.
// ARGV: sale id, state.
var phaseScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'sale') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
return 1
`)

// stopBuys sets the sale "closing": no buy succeeds after it. The lock
// strategy's buyers decide under the sale lock, so it is taken for this.
func (e *Engine) stopBuys(ctx context.Context, s *models.Sale) error {
	k := keysOf(s.SKUID)
	m := e.rs.NewMutex(k.lock, redsync.WithExpiry(lockExpiry), redsync.WithTries(200))
	if err := m.LockContext(ctx); err != nil {
		return fmt.Errorf("%w: take the sale lock to stop buys: %v", models.ErrBusy, err)
	}
	defer m.UnlockContext(context.WithoutCancel(ctx))
	if err := phaseScript.Run(ctx, e.rdb, []string{k.sale}, s.ID, "closing").Err(); err != nil {
		return fmt.Errorf("stop buys of sale %d: %w", s.ID, err)
	}
	return nil
}

// drain persists every entry of the SKU's stream that is not yet: new
// ones, and pending ones whoever holds them (a live consumer may write the
// same order at the same time; writing is idempotent).
func (e *Engine) drain(ctx context.Context, sku int64) error {
	k := keysOf(sku)
	for {
		msgs, err := e.claimStale(ctx, k, 0)
		if err == nil && len(msgs) == 0 {
			msgs, err = e.readNew(ctx, k, 0)
		}
		if err != nil {
			if strings.Contains(err.Error(), "NOGROUP") {
				return nil // no stream: nothing was ever bought
			}
			return fmt.Errorf("drain the stream of sku %d: %w", sku, err)
		}
		if len(msgs) == 0 {
			return nil
		}
		if err := e.persist(ctx, sku, msgs); err != nil {
			return fmt.Errorf("drain the stream of sku %d: %w", sku, err)
		}
	}
}

// retireScript marks a sale closed in Redis and lets its keys expire.
// KEYS: sale, buyers, orders, failed, stream. ARGV: sale id, ttl seconds.
var retireScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'sale') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', 'closed')
for i = 1, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
return 1
`)

// retire marks a closed sale closed in Redis and takes it off the live
// set.
func (e *Engine) retire(ctx context.Context, s *models.Sale) error {
	k := keysOf(s.SKUID)
	if err := retireScript.Run(ctx, e.rdb, k.all(), s.ID, int(closedTTL/time.Second)).Err(); err != nil {
		return fmt.Errorf("retire sale %d in Redis: %w", s.ID, err)
	}
	st, err := e.State(ctx, s.SKUID)
	if !errors.Is(err, ErrNoSale) && (err != nil || st.Phase != "closed") {
		return err
	}
	// Off the live set, and into the closed one for as long as its keys
	// stay, so that buyers can still read their results (Result).
	now := e.now()
	// (Two global keys, so no MULTI: on Redis Cluster they may live on
	// different nodes.)
	_, err = e.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.SRem(ctx, liveKey, s.SKUID)
		p.ZAdd(ctx, closedKey, redis.Z{Score: float64(now.Unix()), Member: s.SKUID})
		p.ZRemRangeByScore(ctx, closedKey, "-inf", "("+strconv.FormatInt(now.Add(-closedTTL).Unix(), 10))
		return nil
	})
	return err
}

// Diff is one difference between Redis and the database.
type Diff struct {
	SaleID int64
	SKUID  int64
	Kind   string // missing, closed, stock, sold, buyer, unpersisted, lost, unknown
	Detail string
}

func (d Diff) String() string {
	return fmt.Sprintf("sale %d (sku %d): %s: %s", d.SaleID, d.SKUID, d.Kind, d.Detail)
}

// Report is what a reconciliation found, and whether it repaired it.
type Report struct {
	Sales    int // open sales compared
	Diffs    []Diff
	Repaired bool
}

// Reconcile compares, for every open sale, Redis (units left and sold,
// buyers, accepted orders) with the database (the orders the sale made),
// under the maintenance lock, and returns every difference. Orders in the
// stream not yet persisted count as sold. With repair, it makes Redis
// agree with the database: accepted orders that were acknowledged but
// never written are written from their stream entry; orders with neither
// entry nor row are marked failed; orders in the database that Redis lacks
// are added; then the counters are corrected by deltas, so buys running
// meanwhile are not disturbed. Sales open in the database but missing in
// Redis are loaded; sales closed in the database but live in Redis are
// retired.
//
// Returns ErrLocked when another closer or reconciler runs.
func (e *Engine) Reconcile(ctx context.Context, repair bool) (*Report, error) {
	rep := &Report{Repaired: repair}
	err := e.exclusive(ctx, func(ctx context.Context) error {
		sales, err := e.db.OpenSales(ctx)
		if err != nil {
			return err
		}
		open := map[int64]bool{}
		for i := range sales {
			open[sales[i].SKUID] = true
			diffs, err := e.reconcileSale(ctx, &sales[i], repair)
			if err != nil {
				return err
			}
			rep.Diffs = append(rep.Diffs, diffs...)
			rep.Sales++
		}
		skus, err := e.rdb.SMembers(ctx, liveKey).Result()
		if err != nil {
			return err
		}
		for _, v := range skus {
			sku, _ := strconv.ParseInt(v, 10, 64)
			if open[sku] {
				continue
			}
			st, err := e.State(ctx, sku)
			if errors.Is(err, ErrNoSale) {
				rep.Diffs = append(rep.Diffs, Diff{SKUID: sku, Kind: "closed", Detail: "listed live in Redis without a sale"})
				if repair {
					if err := e.rdb.SRem(ctx, liveKey, sku).Err(); err != nil {
						return err
					}
				}
				continue
			}
			if err != nil {
				return err
			}
			rep.Diffs = append(rep.Diffs, Diff{SaleID: st.SaleID, SKUID: sku, Kind: "closed", Detail: "closed in the database, live in Redis"})
			if repair {
				s, err := e.db.Sale(ctx, st.SaleID)
				if err != nil {
					return err
				}
				if err := e.retire(ctx, s); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reconcile flash sales: %w", err)
	}
	return rep, nil
}

// snapshot is one sale in Redis, read in one MULTI/EXEC.
type snapshot struct {
	state     State
	buyers    map[string]string
	orders    map[string]string // order id -> user id
	failed    map[string]string
	entries   map[string]redis.XMessage // by order id
	pending   map[string]bool           // entry ids
	delivered string                    // the group's last delivered entry id
	at        time.Time                 // Redis's clock
}

func (e *Engine) snapshot(ctx context.Context, sku int64) (*snapshot, error) {
	k := keysOf(sku)
	var st *redis.SliceCmd
	var buyers, orders, failed *redis.MapStringStringCmd
	var xr *redis.XMessageSliceCmd
	var xp *redis.XPendingExtCmd
	var xg *redis.XInfoGroupsCmd
	var now *redis.TimeCmd
	_, err := e.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		st = p.HMGet(ctx, k.sale, stateFields...)
		buyers, orders, failed = p.HGetAll(ctx, k.buyers), p.HGetAll(ctx, k.orders), p.HGetAll(ctx, k.failed)
		xr = p.XRange(ctx, k.stream, "-", "+")
		xp = p.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: k.stream, Group: group, Start: "-", End: "+", Count: 1 << 30})
		xg = p.XInfoGroups(ctx, k.stream)
		now = p.Time(ctx)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read sku %d's sale from Redis: %w", sku, err)
	}
	s := &snapshot{buyers: buyers.Val(), orders: orders.Val(), failed: failed.Val(),
		entries: map[string]redis.XMessage{}, pending: map[string]bool{}, at: now.Val()}
	s.state, _ = parseState(st.Val())
	for _, m := range xr.Val() {
		oid, _ := m.Values["order"].(string)
		s.entries[oid] = m
	}
	for _, p := range xp.Val() {
		s.pending[p.ID] = true
	}
	for _, g := range xg.Val() {
		if g.Name == group {
			s.delivered = g.LastDeliveredID
		}
	}
	return s, nil
}

// inFlight reports an entry that a consumer has yet to persist.
func (s *snapshot) inFlight(m redis.XMessage) bool {
	return s.pending[m.ID] || streamIDAfter(m.ID, s.delivered)
}

// streamIDAfter compares two stream ids "ms-seq".
func streamIDAfter(a, b string) bool {
	am, as, _ := strings.Cut(a, "-")
	bm, bs, _ := strings.Cut(b, "-")
	x, _ := strconv.ParseUint(am, 10, 64)
	y, _ := strconv.ParseUint(bm, 10, 64)
	if x != y {
		return x > y
	}
	xs, _ := strconv.ParseUint(as, 10, 64)
	ys, _ := strconv.ParseUint(bs, 10, 64)
	return xs > ys
}

// reconcileSale compares one open sale and, with repair, fixes Redis.
func (e *Engine) reconcileSale(ctx context.Context, sale *models.Sale, repair bool) ([]Diff, error) {
	k := keysOf(sale.SKUID)
	var diffs []Diff
	add := func(kind, format string, args ...any) {
		diffs = append(diffs, Diff{SaleID: sale.ID, SKUID: sale.SKUID, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	st, err := e.State(ctx, sale.SKUID)
	if err != nil && !errors.Is(err, ErrNoSale) {
		return nil, err
	}
	if err != nil || st.SaleID != sale.ID {
		add("missing", "open in the database, not in Redis")
		if !repair {
			return diffs, nil
		}
		if _, err := e.ensure(ctx, sale); err != nil {
			return nil, err
		}
	}
	snap, err := e.snapshot(ctx, sale.SKUID)
	if err != nil {
		return nil, err
	}
	rows, err := e.db.SaleOrders(ctx, sale.ID)
	if err != nil {
		return nil, err
	}
	inDB := make(map[string]bool, len(rows))
	for _, r := range rows {
		inDB[r.OrderID] = true
	}
	// live: the accepted, not failed orders Redis should count, as the
	// repair leaves them.
	live := map[string]string{}
	for oid, uid := range snap.orders {
		if _, bad := snap.failed[oid]; !bad {
			live[oid] = uid
		}
	}
	var persist []models.SeckillOrder
	var lost []string
	for _, oid := range sortedStrings(live) {
		if inDB[oid] {
			continue
		}
		m, ok := snap.entries[oid]
		switch {
		case ok && snap.inFlight(m):
			// A consumer will write it.
		case ok:
			add("unpersisted", "order %s was acknowledged but is not in the database", oid)
			en, _ := parseEntry(m)
			persist = append(persist, en.order)
		default:
			add("lost", "order %s has neither a stream entry nor a row; it is marked failed", oid)
			lost = append(lost, oid)
			delete(live, oid)
		}
	}
	// The acknowledged orders are written first, as the counts below
	// depend on which of them the database refuses.
	refused := map[string]string{}
	if repair && len(persist) > 0 {
		res, err := e.db.PersistSeckillOrders(ctx, persist)
		if err != nil {
			return nil, fmt.Errorf("write acknowledged orders of sale %d: %w", sale.ID, err)
		}
		for _, r := range res.Refused {
			refused[r.OrderID] = r.Reason
			delete(live, r.OrderID)
		}
	}
	var found []models.SaleOrder
	cutoff := snap.at.UnixMilli()
	for _, r := range rows {
		uid := strconv.FormatInt(r.UserID, 10)
		if r.DecidedTime.UnixMilli() >= cutoff || live[r.OrderID] == uid {
			continue // decided after the snapshot, or known
		}
		add("unknown", "order %s of user %d is in the database, not among Redis's live orders", r.OrderID, r.UserID)
		found = append(found, r)
		live[r.OrderID] = uid
	}
	wantBuyers := map[string]int64{}
	for _, uid := range live {
		wantBuyers[uid]++
	}
	sold, stock := int64(len(live)), int64(sale.Stock-len(live))
	if int64(snap.state.Sold) != sold {
		add("sold", "Redis counts %d sold, the orders say %d", snap.state.Sold, sold)
	}
	if int64(snap.state.Stock) != stock {
		add("stock", "Redis has %d left, the sale's %d units less %d sold leave %d", snap.state.Stock, sale.Stock, sold, stock)
	}
	buyerDelta := map[string]int64{}
	for _, uid := range sortedStrings(unionKeys(snap.buyers, wantBuyers)) {
		have, _ := strconv.ParseInt(snap.buyers[uid], 10, 64)
		if have != wantBuyers[uid] {
			add("buyer", "Redis counts %d units for user %s, the orders say %d", have, uid, wantBuyers[uid])
			buyerDelta[uid] = wantBuyers[uid] - have
		}
	}
	if !repair || len(diffs) == 0 {
		return diffs, nil
	}
	_, err = e.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, oid := range lost {
			p.HSet(ctx, k.failed, oid, "lost: no stream entry and no order")
		}
		for oid, why := range refused {
			p.HSet(ctx, k.failed, oid, why)
		}
		for _, r := range found {
			p.HSet(ctx, k.orders, r.OrderID, r.UserID)
			p.HDel(ctx, k.failed, r.OrderID)
		}
		if d := sold - int64(snap.state.Sold); d != 0 {
			p.HIncrBy(ctx, k.sale, "sold", d)
		}
		if d := stock - int64(snap.state.Stock); d != 0 {
			p.HIncrBy(ctx, k.sale, "stock", d)
		}
		for uid, d := range buyerDelta {
			p.HIncrBy(ctx, k.buyers, uid, d)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("repair sale %d in Redis: %w", sale.ID, err)
	}
	return diffs, nil
}

func sortedStrings[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func unionKeys(a map[string]string, b map[string]int64) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// SaleStatus is an open sale as the status command and the admin page
// show it.
type SaleStatus struct {
	Sale    models.Sale
	InRedis bool
	Redis   State
	// Queued is how many accepted buys wait to be persisted, and Oldest
	// how long the oldest of them has waited: the persistence lag now.
	Queued int
	Oldest time.Duration
}

// Status returns every open sale with its Redis side and its persistence
// backlog.
func (e *Engine) Status(ctx context.Context) ([]SaleStatus, error) {
	sales, err := e.db.OpenSales(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]SaleStatus, 0, len(sales))
	for _, s := range sales {
		ss := SaleStatus{Sale: s}
		st, err := e.State(ctx, s.SKUID)
		if err != nil && !errors.Is(err, ErrNoSale) {
			return nil, err
		}
		if err == nil && st.SaleID == s.ID {
			ss.InRedis, ss.Redis = true, st
			snap, err := e.snapshot(ctx, s.SKUID)
			if err != nil {
				return nil, err
			}
			for _, m := range snap.entries {
				if !snap.inFlight(m) {
					continue
				}
				ss.Queued++
				ms, _, _ := strings.Cut(m.ID, "-")
				at, _ := strconv.ParseInt(ms, 10, 64)
				ss.Oldest = max(ss.Oldest, snap.at.Sub(time.UnixMilli(at)))
			}
		}
		out = append(out, ss)
	}
	return out, nil
}
