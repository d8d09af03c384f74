// Package order is the order commit (the Django shop's OrderCommitView)
// and the rest of an order's life: cancel, ship, complete and the expiry of
// unpaid orders.
//
// A commit flows top to bottom through these files:
//
//	order.go      PlaceOrder: check the request and read what it needs
//	              (prepare), then hand it to the strategy's path
//	batch.go      commits that wait for a turn gather in a batch: group
//	              commit (optimistic, conditional) and the queue's worker
//	commit.go     one transaction (models.DB.Transact) for the batch: all
//	              at once (writeAll), or one savepoint per order when they
//	              do not all fit
//	savepoint.go  one order in its savepoint: the Django shop's flow
//	stock.go      the stock updates, each strategy's statement used for
//	              one order and for a group
//	sql.go        the INSERTs of headers, lines and ledger entries
//	life.go       cancel, ship, complete, expire
//	read.go       the bill, a user's orders
//
// Strategies: optimistic (the default: compare-and-set, casUnits and
// takeCAS), conditional (stock = stock - n WHERE stock >= n, takeUnits and
// takeConditional), pessimistic (SELECT ... FOR UPDATE, takeLocked, one
// order per transaction), queue (one worker, Orders.Run, one savepoint per
// order). Every strategy takes SKUs in ascending id order and SPUs after
// them, so commits cannot deadlock on each other.
package order

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/models"
)

// Strategy is how the order commit keeps concurrent buyers of one SKU from
// overselling it: the three classic answers (a pessimistic lock, an
// optimistic lock, a queue), and one conditional statement.
type Strategy string

const (
	// StrategyOptimistic reads the stock and writes the new value only if
	// the stock is still what was read (compare-and-set), reading again
	// when someone else sold in between. The default, as in the Django
	// shop. Commits that wait for a turn go in together (group commit):
	// one compare-and-set takes the units of the group.
	StrategyOptimistic Strategy = "optimistic"
	// StrategyConditional decrements in one statement that matches only
	// while enough stock is left: no read, no retry. Commits that wait for
	// a turn go in together, as with StrategyOptimistic.
	StrategyConditional Strategy = "conditional"
	// StrategyPessimistic locks the SKU rows (SELECT ... FOR UPDATE) in
	// ascending id order, then reads and writes them.
	StrategyPessimistic Strategy = "pessimistic"
	// StrategyQueue hands every commit to one worker goroutine (Orders.Run),
	// which commits waiting orders a batch at a time.
	StrategyQueue Strategy = "queue"
)

// ParseStrategy reads a strategy name, as SHOP_STOCK_STRATEGY gives it; ""
// is StrategyOptimistic. Returns models.ErrInvalid for an unknown name.
func ParseStrategy(name string) (Strategy, error) {
	switch s := Strategy(name); s {
	case "":
		return StrategyOptimistic, nil
	case StrategyOptimistic, StrategyConditional, StrategyPessimistic, StrategyQueue:
		return s, nil
	}
	return "", fmt.Errorf("%w: stock strategy %q (want optimistic, conditional, pessimistic or queue)", models.ErrInvalid, name)
}

// Item is one SKU of a checkout and the count wanted.
type Item struct {
	SKUID int64
	Count int
}

// PlaceRequest is one checkout.
type PlaceRequest struct {
	UserID    int64
	AddressID int64
	PayMethod int    // models.PayCash or models.PayOnline
	Items     []Item // the selected cart lines
	// Token is the optional one-time token of the settlement page. A second
	// commit with the same token gets the first one's order back.
	Token string
}

// Config configures New.
type Config struct {
	Strategy Strategy // "" is StrategyOptimistic
	// QueueSize is how many commits may wait for the queue worker; one more
	// gets ErrBusy. 0 means 1024. StrategyQueue only.
	QueueSize int
	// BatchSize is how many waiting commits go in one transaction: the
	// queue worker's batch (StrategyQueue), or a group commit's
	// (StrategyOptimistic, StrategyConditional). 0 means 32; 1 turns
	// batching off.
	BatchSize int
	// Concurrency is how many commit transactions may run at once; more
	// wait for a turn (within their deadline). Buyers of one hot SKU all
	// queue on its row lock anyway, and a few at a time pass it faster
	// than a crowd the CPUs must switch between (README, Benchmarks, has
	// the figures). 0 means GOMAXPROCS for the strategies that commit in
	// groups (a commit that waits joins the next group, and more turns
	// only make the groups smaller), GOMAXPROCS + 1 for the others (one
	// per CPU, and one ready to take the lock the moment it is free).
	Concurrency int
	// OrderID makes an order id; nil means models.NewOrderID with six
	// random digits. Tests set it to force collisions.
	OrderID func(uid int64, now time.Time) string
	// Observer is told what the commit does, for metrics; nil tells nobody.
	Observer Observer
}

// Observer is told what the order commit did, for metrics. Its methods
// must be quick and safe for concurrent use.
type Observer interface {
	// Placed is one PlaceOrder's answer: OutcomeOK, OutcomeOutOfStock,
	// OutcomeBusy (models.ErrBusy: HTTP 503) or OutcomeRefused (any other
	// error).
	Placed(outcome string)
	// Committed is one commit transaction that committed with orders
	// orders in it, after retries more runs of it (models.DB.Transact).
	Committed(orders, retries int)
}

// Outcomes of PlaceOrder, as Observer.Placed names them.
const (
	OutcomeOK         = "ok"
	OutcomeOutOfStock = "out_of_stock"
	OutcomeBusy       = "busy"
	OutcomeRefused    = "refused"
)

type noObserver struct{}

func (noObserver) Placed(string)      {}
func (noObserver) Committed(int, int) {}

// Orders places orders with one stock strategy, and moves them through
// their life. Build it with New; with StrategyQueue, Run must be running
// for orders to be placed.
type Orders struct {
	store    *models.Store
	db       *models.DB
	strategy Strategy
	orderID  func(uid int64, now time.Time) string
	obs      Observer
	turns    chan struct{} // a token per running commit transaction
	batch    int           // all but StrategyPessimistic

	// StrategyOptimistic and StrategyConditional: commits waiting for a
	// turn (group commit).
	mu      sync.Mutex
	waiting []*job

	// StrategyQueue only.
	queue   chan *job
	started atomic.Bool
	stopped chan struct{} // closed when Run stops
}

// New returns the order commit on store. It panics on an unknown strategy
// (which ParseStrategy would have refused) or a nil store.
func New(store *models.Store, cfg Config) *Orders {
	st, err := ParseStrategy(string(cfg.Strategy))
	if err != nil {
		panic("order.New: " + err.Error())
	}
	if store == nil {
		panic("order.New: nil store")
	}
	o := &Orders{store: store, db: store.DB, strategy: st, orderID: cfg.OrderID, obs: cfg.Observer}
	if o.obs == nil {
		o.obs = noObserver{}
	}
	n := cfg.Concurrency
	switch {
	case n > 0:
	case st == StrategyConditional, st == StrategyOptimistic:
		n = runtime.GOMAXPROCS(0)
	default:
		n = runtime.GOMAXPROCS(0) + 1
	}
	o.turns = make(chan struct{}, n)
	if o.orderID == nil {
		o.orderID = func(uid int64, now time.Time) string { return models.NewOrderID(uid, now, 6) }
	}
	o.batch = cfg.BatchSize
	if o.batch <= 0 {
		o.batch = 32
	}
	if st == StrategyQueue {
		size := cfg.QueueSize
		if size <= 0 {
			size = 1024
		}
		o.queue, o.stopped = make(chan *job, size), make(chan struct{})
	}
	return o
}

// Strategy reports the stock strategy in use.
func (o *Orders) Strategy() Strategy { return o.strategy }

// PlaceOrder turns a checkout into an order, in one transaction: the order
// header, its lines at today's prices, the SKUs' stock taken and their sales
// added, and the SPUs' sales added. The strategy decides how the stock is
// taken; SKUs are always taken in ascending id order and SPUs updated after
// them in ascending id order, so concurrent orders cannot deadlock on each
// other. total_amount is the sum of count × price plus models.Freight; cash
// on delivery starts at StatusUnsend, online payment at StatusUnpaid.
//
// Either all of this is written or nothing is. With a Token that an earlier
// commit of the user already used, it returns that order and writes nothing.
// A transaction that loses a deadlock, a serialization check or its
// connection runs again (models.DB.Transact), as do the reads before it
// that lose their connection (models.RetryRead), until ctx's deadline
// (models.TxTimeout when ctx has none); the buyer gets one order or none.
//
// Returns models.ErrInvalid for a bad pay method, token or count;
// models.ErrEmptySelect for no items; models.ErrNotFound if the address is
// not a live address of the user; models.ErrNotLaunched for an unknown or
// withdrawn SKU; a *models.StockError (models.ErrOutOfStock) naming the
// SKU that is short; models.ErrBusy when the deadline passes first, or the
// queue is full or stopped.
func (o *Orders) PlaceOrder(ctx context.Context, req PlaceRequest) (*models.Order, error) {
	order, err := o.placeOrder(ctx, req)
	switch {
	case err == nil:
		o.obs.Placed(OutcomeOK)
	case errors.Is(err, models.ErrOutOfStock):
		o.obs.Placed(OutcomeOutOfStock)
	case errors.Is(err, models.ErrBusy):
		o.obs.Placed(OutcomeBusy)
	default:
		o.obs.Placed(OutcomeRefused)
	}
	return order, err
}

func (o *Orders) placeOrder(ctx context.Context, req PlaceRequest) (*models.Order, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, models.TxTimeout)
		defer cancel()
	}
	var p *plan
	var done *models.Order
	err := models.RetryRead(ctx, func(ctx context.Context) (err error) {
		p, done, err = o.prepare(ctx, req)
		return err
	})
	switch {
	case err != nil:
		return nil, fmt.Errorf("place order for user %d: %w", req.UserID, err)
	case done != nil:
		return done, nil
	}
	var r result
	switch o.strategy {
	case StrategyQueue:
		r = o.enqueue(ctx, p)
	case StrategyConditional, StrategyOptimistic:
		r = o.together(ctx, p)
	default:
		r = o.commit(ctx, []*plan{p}, false)[0]
	}
	if r.err != nil {
		return nil, fmt.Errorf("place order for user %d: %w", req.UserID, r.err)
	}
	return r.order, nil
}

// plan is a checked checkout, ready to commit.
type plan struct {
	req   PlaceRequest
	lines []models.BillLine // ascending SKU id; SKU as read before the transaction
	spus  []spuSale         // ascending SPU id
	count int
	total decimal.Decimal // goods plus freight
	// id is the order id, chosen at the first try and kept by the next
	// ones, so that a try after a lost COMMIT can find its own order.
	id string
	// unsure is set once a try has followed a COMMIT that lost its answer
	// (models.Tx.Unsure): from then on, id taken means that COMMIT may
	// have landed after the try looked for its order.
	unsure bool
}

type spuSale struct {
	id    int64
	count int
}

type result struct {
	order *models.Order
	err   error
}

// prepare checks a request and reads what the commit needs, outside the
// transaction so that no lock is held meanwhile. It only reads, so
// PlaceOrder runs it again if its connection drops (models.RetryRead). It
// returns the order that an earlier commit with the same token made, if
// any. A SKU whose stock is already short fails here: stock read now is
// stock at this moment.
func (o *Orders) prepare(ctx context.Context, req PlaceRequest) (*plan, *models.Order, error) {
	if req.PayMethod != models.PayCash && req.PayMethod != models.PayOnline {
		return nil, nil, fmt.Errorf("%w: pay method %d", models.ErrInvalid, req.PayMethod)
	}
	if len(req.Token) > models.MaxOrderIDLen {
		return nil, nil, fmt.Errorf("%w: commit token longer than %d", models.ErrInvalid, models.MaxOrderIDLen)
	}
	// The token comes first: a replay finds the cart already emptied by
	// the commit it repeats.
	if req.Token != "" {
		prior, err := orderByToken(o.db.Gorm().WithContext(ctx), req.UserID, req.Token)
		if err == nil {
			return nil, prior, nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return nil, nil, err
		}
	}
	items, err := mergeItems(req.Items)
	if err != nil {
		return nil, nil, err
	}
	bill, addressOK, err := o.bill(ctx, items, req.UserID, req.AddressID)
	if err != nil {
		return nil, nil, err
	}
	if !addressOK {
		return nil, nil, fmt.Errorf("address %d of user %d: %w", req.AddressID, req.UserID, models.ErrNotFound)
	}
	if len(bill.Lines) != len(items) {
		for i, it := range items {
			if i >= len(bill.Lines) || bill.Lines[i].SKU.ID != it.SKUID {
				return nil, nil, fmt.Errorf("sku %d: %w", it.SKUID, models.ErrNotLaunched)
			}
		}
	}
	bySPU := map[int64]int{}
	for _, l := range bill.Lines {
		switch {
		case !l.SKU.IsLaunched:
			return nil, nil, fmt.Errorf("sku %d: %w", l.SKU.ID, models.ErrNotLaunched)
		case l.SKU.Stock < l.Count:
			return nil, nil, &models.StockError{SKUID: l.SKU.ID, Name: l.SKU.Name, Wanted: l.Count, Left: l.SKU.Stock}
		}
		bySPU[l.SKU.SPUID] += l.Count
	}
	if bill.Payable.GreaterThan(models.MaxAmount) {
		return nil, nil, fmt.Errorf("%w: order total %s is too large", models.ErrInvalid, bill.Payable)
	}
	p := &plan{req: req, lines: bill.Lines, count: bill.TotalCount, total: bill.Payable}
	for _, id := range slices.Sorted(maps.Keys(bySPU)) {
		p.spus = append(p.spus, spuSale{id: id, count: bySPU[id]})
	}
	return p, nil, nil
}

// mergeItems adds up the counts of repeated SKUs and sorts by SKU id.
// Returns ErrEmptySelect for no items, ErrInvalid for a count below 1.
func mergeItems(items []Item) ([]Item, error) {
	if len(items) == 0 {
		return nil, models.ErrEmptySelect
	}
	counts := map[int64]int{}
	for _, it := range items {
		if it.Count < 1 {
			return nil, fmt.Errorf("%w: count %d for sku %d", models.ErrInvalid, it.Count, it.SKUID)
		}
		counts[it.SKUID] += it.Count
	}
	out := make([]Item, 0, len(counts))
	for id, n := range counts {
		out = append(out, Item{SKUID: id, Count: n})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKUID < out[j].SKUID })
	return out, nil
}
