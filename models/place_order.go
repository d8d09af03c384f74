package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/meiduo/shop/migrations"
)

// Strategy is how the order commit keeps concurrent buyers of one SKU from
// overselling it. SEEDS.md §1 describes the three classic answers.
type Strategy string

const (
	// StrategyOptimistic reads the stock and writes the new value only if
	// the stock is still what was read (compare-and-set), reading again
	// when someone else sold in between. The default, as in the Django
	// shop. Commits that wait for a turn go in together (group commit,
	// see group.go): one compare-and-set takes the units of the group.
	StrategyOptimistic Strategy = "optimistic"
	// StrategyConditional decrements in one statement that matches only
	// while enough stock is left: no read, no retry. Commits that wait for
	// a turn go in together (group commit, see group.go): one statement
	// takes the units of the whole group.
	StrategyConditional Strategy = "conditional"
	// StrategyPessimistic locks the SKU rows (SELECT ... FOR UPDATE) in
	// ascending id order, then reads and writes them.
	StrategyPessimistic Strategy = "pessimistic"
	// StrategyQueue hands every commit to one worker goroutine (Orders.Run),
	// which commits waiting orders a batch at a time.
	StrategyQueue Strategy = "queue"
)

// ParseStrategy reads a strategy name, as SHOP_STOCK_STRATEGY gives it; ""
// is StrategyOptimistic. Returns ErrInvalid for an unknown name.
func ParseStrategy(name string) (Strategy, error) {
	switch s := Strategy(name); s {
	case "":
		return StrategyOptimistic, nil
	case StrategyOptimistic, StrategyConditional, StrategyPessimistic, StrategyQueue:
		return s, nil
	}
	return "", fmt.Errorf("%w: stock strategy %q (want optimistic, conditional, pessimistic or queue)", ErrInvalid, name)
}

// Freight is what every order pays for delivery.
var Freight = decimal.New(1000, -2)

// maxAmount is the largest total that numeric(10,2) holds.
var maxAmount = decimal.New(1e10-1, -2)

// CommitTimeout bounds PlaceOrder when ctx has no deadline of its own.
const CommitTimeout = 5 * time.Second

// maxToken is the longest commit token (the column is varchar(64)).
const maxToken = 64

// Item is one SKU of a checkout and the count wanted.
type Item struct {
	SKUID int64
	Count int
}

// PlaceRequest is one checkout.
type PlaceRequest struct {
	UserID    int64
	AddressID int64
	PayMethod int    // PayCash or PayOnline
	Items     []Item // the selected cart lines
	// Token is the optional one-time token of the settlement page. A second
	// commit with the same token gets the first one's order back.
	Token string
}

// StockError is ErrOutOfStock for one SKU: errors.Is(err, ErrOutOfStock)
// holds. Left is the stock seen when the commit gave up.
type StockError struct {
	SKUID  int64
	Name   string
	Wanted int
	Left   int
}

func (e *StockError) Error() string {
	return fmt.Sprintf("sku %d (%s): %d wanted, %d left: %v", e.SKUID, e.Name, e.Wanted, e.Left, ErrOutOfStock)
}

func (e *StockError) Unwrap() error { return ErrOutOfStock }

// OrdersConfig configures NewOrdersWith.
type OrdersConfig struct {
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
	// the figures). 0 means GOMAXPROCS + 1: one per CPU, and
	// one ready to take the lock the moment it is free; for the
	// strategies that commit in groups (optimistic, conditional),
	// GOMAXPROCS, since a commit that waits joins the next group and more
	// turns only make the groups smaller.
	Concurrency int
	// OrderID makes an order id; nil means the default, time + user id +
	// random digits. Tests set it to force collisions.
	OrderID func(uid int64, now time.Time) string
}

// Orders places orders with one stock strategy. Build it with NewOrders;
// with StrategyQueue, Run must be running for orders to be placed.
type Orders struct {
	store    *Store
	strategy Strategy
	orderID  func(uid int64, now time.Time) string
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

// NewOrders returns the order commit on store with a strategy from
// ParseStrategy, and the queue's defaults. It panics on an unknown
// strategy, which ParseStrategy would have refused.
func NewOrders(store *Store, strategy Strategy) *Orders {
	return NewOrdersWith(store, OrdersConfig{Strategy: strategy})
}

// NewOrdersWith is NewOrders with every setting. It panics on an unknown
// strategy or a nil store.
func NewOrdersWith(store *Store, cfg OrdersConfig) *Orders {
	st, err := ParseStrategy(string(cfg.Strategy))
	if err != nil {
		panic("models.NewOrders: " + err.Error())
	}
	if store == nil {
		panic("models.NewOrders: nil store")
	}
	o := &Orders{store: store, strategy: st, orderID: cfg.OrderID}
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
		o.orderID = newOrderID
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

// newOrderID is the time to the second, the user id on nine digits and six
// random digits. The primary key is the final guard: PlaceOrder tries
// another id if this one is taken.
func newOrderID(uid int64, now time.Time) string {
	return fmt.Sprintf("%s%09d%06d", now.UTC().Format("20060102150405"), uid, rand.IntN(1_000_000))
}

// PlaceOrder turns a checkout into an order, in one transaction: the order
// header, its lines at today's prices, the SKUs' stock taken and their sales
// added, and the SPUs' sales added. The strategy decides how the stock is
// taken; SKUs are always taken in ascending id order and SPUs updated after
// them in ascending id order, so concurrent orders cannot deadlock on each
// other. total_amount is the sum of count × price plus Freight; cash on
// delivery starts at StatusUnsend, online payment at StatusUnpaid.
//
// Either all of this is written or nothing is. With a Token that an earlier
// commit of the user already used, it returns that order and writes nothing.
//
// It retries: a transaction that loses a deadlock or a serialization
// check runs again after a jittered pause, until ctx's deadline
// (CommitTimeout when ctx has none). The transaction's fn may run more
// than once; the buyer gets one order or none.
//
// Returns ErrInvalid for a bad pay method, token or count; ErrEmptySelect
// for no items; ErrNotFound if the address is not a live address of the
// user; ErrNotLaunched for an unknown or withdrawn SKU; a *StockError
// (ErrOutOfStock) naming the SKU that is short; ErrBusy when the deadline
// passes first, or the queue is full or stopped.
func (o *Orders) PlaceOrder(ctx context.Context, req PlaceRequest) (*Order, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, CommitTimeout)
		defer cancel()
	}
	p, done, err := o.store.prepare(ctx, req)
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
	lines []BillLine // ascending SKU id; SKU as read before the transaction
	spus  []spuSale  // ascending SPU id
	count int
	total decimal.Decimal // goods plus freight
}

type spuSale struct {
	id    int64
	count int
}

type result struct {
	order *Order
	err   error
}

// prepare checks a request and reads what the commit needs, outside the
// transaction so that no lock is held meanwhile. It returns the order that
// an earlier commit with the same token made, if any. A SKU whose stock is
// already short fails here: stock read now is stock at this moment.
func (s *Store) prepare(ctx context.Context, req PlaceRequest) (*plan, *Order, error) {
	if req.PayMethod != PayCash && req.PayMethod != PayOnline {
		return nil, nil, fmt.Errorf("%w: pay method %d", ErrInvalid, req.PayMethod)
	}
	if len(req.Token) > maxToken {
		return nil, nil, fmt.Errorf("%w: commit token longer than %d", ErrInvalid, maxToken)
	}
	// The token comes first: a replay finds the cart already emptied by
	// the commit it repeats.
	if req.Token != "" {
		o, err := orderByToken(s.db.WithContext(ctx), req.UserID, req.Token)
		if err == nil {
			return nil, o, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, nil, err
		}
	}
	items, err := mergeItems(req.Items)
	if err != nil {
		return nil, nil, err
	}
	bill, addressOK, err := s.bill(ctx, items, req.UserID, req.AddressID)
	if err != nil {
		return nil, nil, err
	}
	if !addressOK {
		return nil, nil, fmt.Errorf("address %d of user %d: %w", req.AddressID, req.UserID, ErrNotFound)
	}
	if len(bill.Lines) != len(items) {
		for i, it := range items {
			if i >= len(bill.Lines) || bill.Lines[i].SKU.ID != it.SKUID {
				return nil, nil, fmt.Errorf("sku %d: %w", it.SKUID, ErrNotLaunched)
			}
		}
	}
	bySPU := map[int64]int{}
	for _, l := range bill.Lines {
		switch {
		case !l.SKU.IsLaunched:
			return nil, nil, fmt.Errorf("sku %d: %w", l.SKU.ID, ErrNotLaunched)
		case l.SKU.Stock < l.Count:
			return nil, nil, &StockError{SKUID: l.SKU.ID, Name: l.SKU.Name, Wanted: l.Count, Left: l.SKU.Stock}
		}
		bySPU[l.SKU.SPUID] += l.Count
	}
	if bill.Payable.GreaterThan(maxAmount) {
		return nil, nil, fmt.Errorf("%w: order total %s is too large", ErrInvalid, bill.Payable)
	}
	p := &plan{req: req, lines: bill.Lines, count: bill.TotalCount, total: bill.Payable}
	for id, n := range bySPU {
		p.spus = append(p.spus, spuSale{id: id, count: n})
	}
	sort.Slice(p.spus, func(i, j int) bool { return p.spus[i].id < p.spus[j].id })
	return p, nil, nil
}

// mergeItems adds up the counts of repeated SKUs and sorts by SKU id.
// Returns ErrEmptySelect for no items, ErrInvalid for a count below 1.
func mergeItems(items []Item) ([]Item, error) {
	if len(items) == 0 {
		return nil, ErrEmptySelect
	}
	counts := map[int64]int{}
	for _, it := range items {
		if it.Count < 1 {
			return nil, fmt.Errorf("%w: count %d for sku %d", ErrInvalid, it.Count, it.SKUID)
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

// commit writes the plans in one transaction and returns one result per
// plan. Several plans are first written all at once (writeAll), except
// with StrategyPessimistic; if they do not all fit, or for that strategy,
// each plan goes in its own savepoint, so that one
// plan's failure (short stock, say) leaves the others alone. A deadlock or
// serialization failure aborts the whole transaction (MySQL discards every
// savepoint on a deadlock), and the whole transaction runs again after a
// jittered pause, until ctx's deadline: fn may run more than once.
//
// held says the caller already holds a turn (o.turns); otherwise each try
// waits for one.
func (o *Orders) commit(ctx context.Context, plans []*plan, held bool) []result {
	results := make([]result, len(plans))
	whole := len(plans) > 1 && o.strategy != StrategyPessimistic
	for attempt := 0; ; attempt++ {
		err := o.commitOnce(ctx, plans, results, held, whole)
		if err == nil {
			return results
		}
		if whole && ctx.Err() == nil && !retryable(err) {
			// Not all at once (errSplit), or something about one plan
			// failed the lot: one savepoint each, so that it fails alone.
			whole = false
			continue
		}
		if ctx.Err() == nil && retryable(err) {
			err = pause(ctx, attempt)
		}
		if err != nil {
			if ctx.Err() != nil {
				err = busy(ctx, err)
			}
			for i := range results {
				results[i] = result{err: err}
			}
			return results
		}
	}
}

// commitOnce is one try of commit, filling in results; whole tries the
// plans all at once. An error means nothing was written.
func (o *Orders) commitOnce(ctx context.Context, plans []*plan, results []result, held, whole bool) error {
	if !held {
		select {
		case o.turns <- struct{}{}:
			defer func() { <-o.turns }()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	var opts []*sql.TxOptions
	if o.store.dialect == migrations.MySQL {
		// The optimistic retry must read the stock other buyers committed
		// meanwhile; under MySQL's default REPEATABLE READ it would read
		// the transaction's first snapshot again, forever. READ COMMITTED
		// also leaves out the gap locks that make concurrent inserts
		// deadlock.
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	// The transaction is begun without ctx's cancellation, so that a
	// deadline reached during COMMIT cannot leave an order that the buyer
	// was told failed; each statement inside still obeys ctx.
	db := o.store.db.WithContext(context.WithoutCancel(ctx))
	fn := func(tx *gorm.DB) error {
		tx = tx.WithContext(ctx)
		if whole {
			return o.writeAll(tx, plans, results)
		}
		for i, p := range plans {
			order, err := o.place(tx, p)
			if err != nil && (retryable(err) || ctx.Err() != nil) {
				return err
			}
			results[i] = result{order: order, err: err}
		}
		return nil
	}
	if o.store.dialect != migrations.SQLite {
		return db.Transaction(fn, opts...)
	}
	// SQLite takes its write lock at BEGIN, and the driver's BEGIN waits
	// for it up to the busy timeout whatever ctx says. On this connection
	// the wait is cut to ctx's deadline, then set back.
	return db.Connection(func(conn *gorm.DB) error {
		on := func() *gorm.DB { return conn.Session(&gorm.Session{NewDB: true}) }
		var was int
		if err := on().Raw("PRAGMA busy_timeout").Scan(&was).Error; err != nil {
			return err
		}
		deadline, _ := ctx.Deadline()
		wait := max(1, min(time.Until(deadline).Milliseconds(), int64(was)))
		if err := on().Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", wait)).Error; err != nil {
			return err
		}
		defer on().Exec(fmt.Sprintf("PRAGMA busy_timeout = %d", was))
		return on().Transaction(fn)
	})
}

// errIDTaken means the order header's insert hit a unique index: the order
// id, or the user's commit token.
var errIDTaken = errors.New("order id or commit token taken")

// placeSavepoint is the savepoint each plan is written in. One name does
// for all: a new SAVEPOINT of the same name hides (MySQL: replaces) the
// last, and ROLLBACK TO keeps it.
const placeSavepoint = "place_order"

// place writes one plan inside tx, in a savepoint: if it fails, the
// transaction goes back to where it was before the plan. If the header
// collides with an order of the same token, that order is the answer; if
// it collides on the order id, it tries a new id.
//
// The savepoint is never released: COMMIT ends it, and a RELEASE would
// cost a round trip while the hot rows are locked.
func (o *Orders) place(tx *gorm.DB, p *plan) (*Order, error) {
	for {
		if err := tx.SavePoint(placeSavepoint).Error; err != nil {
			return nil, fmt.Errorf("savepoint: %w", err)
		}
		order, err := o.write(tx, p)
		if err != nil && !retryable(err) {
			// (A retryable error aborts the whole transaction: MySQL
			// has dropped the savepoint, and commit starts again.)
			if rerr := tx.RollbackTo(placeSavepoint).Error; rerr != nil {
				return nil, fmt.Errorf("%w (and rolling back to the savepoint: %v)", err, rerr)
			}
		}
		if !errors.Is(err, errIDTaken) {
			return order, err
		}
		if p.req.Token != "" {
			prior, err := orderByToken(tx, p.req.UserID, p.req.Token)
			if err == nil {
				return prior, nil
			}
			if !errors.Is(err, ErrNotFound) {
				return nil, err
			}
		}
		if err := tx.Statement.Context.Err(); err != nil {
			return nil, err
		}
	}
}

// write inserts the order and takes the stock. The statements that touch
// no hot row come first and the stock and sales updates last, right before
// COMMIT, so the hot rows stay locked as briefly as possible.
func (o *Orders) write(tx *gorm.DB, p *plan) (*Order, error) {
	head, lines := o.rows(p, time.Now().UTC().Truncate(time.Microsecond))
	// On MySQL the foreign key check of an order line takes a shared lock
	// on its SKU row; two buyers holding it would deadlock when each then
	// updates the row. So there the lines go in after the stock update,
	// which by then holds the row exclusively. PostgreSQL's key-share lock
	// and SQLite's single writer have no such conflict.
	linesLater := o.store.dialect == migrations.MySQL
	if err := insertOrders(tx, head); err != nil {
		return nil, err
	}
	if !linesLater {
		if err := insertLines(tx, lines); err != nil {
			return nil, err
		}
	}
	folded, sales, err := o.takeStock(tx, p, head.OrderID)
	if err != nil {
		return nil, err
	}
	if linesLater {
		if err := insertLines(tx, lines); err != nil {
			return nil, err
		}
	}
	// The sale entries that takeStock did not write itself (all but
	// PostgreSQL's), in one statement.
	if err := recordStock(tx, sales...); err != nil {
		return nil, fmt.Errorf("order %s: %w", head.OrderID, err)
	}
	if !folded {
		for _, sp := range p.spus {
			if err := addSPUSales(tx, sp); err != nil {
				return nil, err
			}
		}
	}
	return head.order(lines), nil
}

// addSPUSales adds sold units to an SPU's sales.
func addSPUSales(tx *gorm.DB, sp spuSale) error {
	if err := tx.Exec("UPDATE tb_spu SET sales = sales + ? WHERE id = ?", sp.count, sp.id).Error; err != nil {
		return fmt.Errorf("add %d sales to spu %d: %w", sp.count, sp.id, err)
	}
	return nil
}

// rows are the order header and lines that a plan becomes, with a new
// order id.
func (o *Orders) rows(p *plan, now time.Time) (orderRow, []OrderLine) {
	status := StatusUnpaid
	if p.req.PayMethod == PayCash {
		status = StatusUnsend
	}
	head := orderRow{
		OrderID: o.orderID(p.req.UserID, now), CreateTime: now, UpdateTime: now,
		UserID: p.req.UserID, AddressID: p.req.AddressID,
		TotalCount: p.count, TotalAmount: p.total, Freight: Freight,
		PayMethod: p.req.PayMethod, Status: status,
	}
	if p.req.Token != "" {
		head.CommitToken = &p.req.Token
	}
	lines := make([]OrderLine, len(p.lines))
	for i, l := range p.lines {
		lines[i] = OrderLine{CreateTime: now, UpdateTime: now, OrderID: head.OrderID, SKUID: l.SKU.ID, Count: l.Count, Price: l.SKU.Price, Score: 5}
	}
	return head, lines
}

// insertOrders inserts order headers in one statement. Returns errIDTaken
// if one collides on a unique index (an order id or a commit token).
func insertOrders(tx *gorm.DB, heads ...orderRow) error {
	// Plain INSERTs rather than tx.Create: this runs for every order, and
	// GORM's reflective create cost an eighth of the commit's CPU.
	var q strings.Builder
	q.WriteString(`INSERT INTO tb_order_info (order_id, create_time, update_time, user_id, address_id,
		total_count, total_amount, freight, pay_method, status, commit_token) VALUES `)
	args := make([]any, 0, 11*len(heads))
	for i, h := range heads {
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
		args = append(args, h.OrderID, h.CreateTime, h.UpdateTime, h.UserID, h.AddressID,
			h.TotalCount, h.TotalAmount, h.Freight, h.PayMethod, h.Status, h.CommitToken)
	}
	if err := tx.Exec(q.String(), args...).Error; err != nil {
		if errors.Is(translate(err), ErrDuplicate) {
			return errIDTaken
		}
		return fmt.Errorf("insert order %s (and %d more): %w", heads[0].OrderID, len(heads)-1, err)
	}
	return nil
}

// insertLines inserts order lines, of one order or several, in one
// statement.
func insertLines(tx *gorm.DB, lines []OrderLine) error {
	if len(lines) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO tb_order_goods (create_time, update_time, order_id, sku_id, count, price,
		comment, score, is_anonymous, is_commented) VALUES `)
	args := make([]any, 0, 10*len(lines))
	for i, l := range lines {
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?)")
		args = append(args, l.CreateTime, l.UpdateTime, l.OrderID, l.SKUID, l.Count, l.Price,
			l.Comment, l.Score, l.IsAnonymous, l.IsCommented)
	}
	if err := tx.Exec(q.String(), args...).Error; err != nil {
		return fmt.Errorf("insert lines of order %s: %w", lines[0].OrderID, err)
	}
	return nil
}

// takeStock takes every line's count from its SKU's stock and adds it to
// its sales, in ascending SKU id order. It reports whether it also added
// the SPU's sales, which PostgreSQL does in the last SKU's statement when
// the order has one SPU: one round trip less while the hot rows are
// locked. (Its SPU row is still locked after its SKU rows.)
//
// Every line is a ReasonSale entry in the stock ledger. PostgreSQL writes
// it in the statement that updates the stock; on the other dialects
// takeStock returns the entries, with their stock after, for the caller to
// write in the same transaction.
func (o *Orders) takeStock(tx *gorm.DB, p *plan, orderID string) (folded bool, sales []LedgerEntry, err error) {
	fold := func(i int) *spuSale {
		if o.store.dialect == migrations.Postgres && len(p.spus) == 1 && i == len(p.lines)-1 {
			return &p.spus[0]
		}
		return nil
	}
	u := skuWriter{tx: tx, dialect: o.store.dialect, uid: p.req.UserID, orderID: orderID,
		now: time.Now().UTC().Truncate(time.Microsecond)}
	switch o.strategy {
	case StrategyPessimistic:
		err = o.takeLocked(&u, p.lines, fold)
	case StrategyOptimistic:
		for i, l := range p.lines {
			if err = takeCAS(&u, l, fold(i)); err != nil {
				break
			}
		}
	default: // conditional, and the queue worker, which is alone anyway
		for i, l := range p.lines {
			if err = takeConditional(&u, l, fold(i)); err != nil {
				break
			}
		}
	}
	return err == nil && fold(len(p.lines)-1) != nil, u.pending, err
}

// skuWriter updates the SKUs of one order and keeps the sale entries of
// the stock ledger that are still to be written.
type skuWriter struct {
	tx      *gorm.DB
	dialect migrations.Dialect
	uid     int64
	orderID string
	now     time.Time
	pending []LedgerEntry
}

// update runs UPDATE tb_sku SET set WHERE where for the line that takes n
// units of sku, and reports whether it matched the row. after is the
// stock after the update when the caller knows it (optimistic: what it
// saw minus n; pessimistic: the locked read minus n), or -1: then it is
// read back, with RETURNING on SQLite and a read of the row this
// transaction now holds locked on MySQL.
//
// On PostgreSQL the same statement also writes the sale's ledger entry
// (RETURNING gives the stock after) and, with spu, adds the SPU's sales,
// all in one round trip while the hot row is locked; on the others the
// entry is kept in pending. The SQL is written out, not built from a
// struct, which would skip zero values (a stock of 0).
func (u *skuWriter) update(sku int64, n int, set, where string, args []any, after int, spu *spuSale) (bool, error) {
	q := "UPDATE tb_sku SET " + set + " WHERE " + where
	switch {
	case u.dialect == migrations.Postgres:
		q = "WITH k AS (" + q + " RETURNING id, spu_id, stock)" +
			", l AS (INSERT INTO tb_stock_ledger (create_time, sku_id, delta, stock_after, reason, user_id, order_id, note)" +
			" SELECT ?, k.id, ?, k.stock, ?, ?, ?, '' FROM k)"
		args = append(args, u.now, -n, ReasonSale, u.uid, u.orderID)
		if spu != nil {
			q += ", s AS (UPDATE tb_spu SET sales = sales + ? FROM k WHERE tb_spu.id = k.spu_id)"
			args = append(args, spu.count)
		}
		var got []int
		if err := u.tx.Raw(q+" SELECT stock FROM k", args...).Scan(&got).Error; err != nil {
			return false, err
		}
		return len(got) == 1, nil
	case after < 0 && u.dialect == migrations.SQLite:
		var got []int
		if err := u.tx.Raw(q+" RETURNING stock", args...).Scan(&got).Error; err != nil {
			return false, err
		}
		if len(got) != 1 {
			return false, nil
		}
		after = got[0]
	default:
		res := u.tx.Exec(q, args...)
		if res.Error != nil || res.RowsAffected != 1 {
			return false, res.Error
		}
		if after < 0 {
			if err := u.tx.Raw("SELECT stock FROM tb_sku WHERE id = ?", sku).Scan(&after).Error; err != nil {
				return false, err
			}
		}
	}
	uid, oid := u.uid, u.orderID
	u.pending = append(u.pending, LedgerEntry{CreateTime: u.now, SKUID: sku, Delta: -n, StockAfter: after,
		Reason: ReasonSale, UserID: &uid, OrderID: &oid})
	return true, nil
}

// skuNow is a SKU's stock as the transaction reads it.
type skuNow struct {
	ID         int64
	Stock      int
	Sales      int
	IsLaunched bool
}

func readSKU(tx *gorm.DB, id int64) (skuNow, error) {
	var k skuNow
	err := tx.Model(&SKU{}).Select("id", "stock", "sales", "is_launched").Where("id = ?", id).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !k.IsLaunched) {
		return k, fmt.Errorf("sku %d: %w", id, ErrNotLaunched)
	}
	if err != nil {
		return k, fmt.Errorf("read sku %d: %w", id, err)
	}
	return k, nil
}

// The stock updates of the optimistic and the conditional strategy, for
// one order (takeCAS, takeConditional) and for a group (casUnits,
// takeUnits). Arguments: the new stock and sales, then id and the stock
// and sales seen, then true (CAS); n, n, id, n, true (conditional).
const (
	casSet    = "stock = ?, sales = ?"
	casWhere  = "id = ? AND stock = ? AND sales = ? AND is_launched = ?"
	condSet   = "stock = stock - ?, sales = sales + ?"
	condWhere = "id = ? AND stock >= ? AND is_launched = ?"
)

// takeCAS is the optimistic lock of the Django shop: write the new stock
// only where the stock is still what was read, and read again if not. The
// first try uses what prepare read, saving a read when nobody else is
// buying. fn may run more than once.
func takeCAS(u *skuWriter, l BillLine, spu *spuSale) error {
	tx := u.tx
	seen := skuNow{ID: l.SKU.ID, Stock: l.SKU.Stock, Sales: l.SKU.Sales, IsLaunched: true}
	for {
		if seen.Stock < l.Count {
			return &StockError{SKUID: l.SKU.ID, Name: l.SKU.Name, Wanted: l.Count, Left: seen.Stock}
		}
		// Both counters are compared: a cancel (stock back, sales back)
		// and an adjustment (stock only) in between could bring the stock
		// back to what was seen with the sales changed, and writing
		// seen.Sales + n would lose that change.
		done, err := u.update(seen.ID, l.Count, casSet, casWhere,
			[]any{seen.Stock - l.Count, seen.Sales + l.Count, seen.ID, seen.Stock, seen.Sales, true}, seen.Stock-l.Count, spu)
		if err != nil {
			return fmt.Errorf("update sku %d: %w", seen.ID, err)
		}
		if done {
			return nil
		}
		if err := tx.Statement.Context.Err(); err != nil {
			return err
		}
		if seen, err = readSKU(tx, l.SKU.ID); err != nil {
			return err
		}
	}
}

// takeConditional decrements in one statement that matches only while
// enough stock is left. When it matches nothing, a read tells short stock
// from a withdrawn SKU. fn may run more than once (if stock came back
// between the update and the read).
func takeConditional(u *skuWriter, l BillLine, spu *spuSale) error {
	tx := u.tx
	for {
		done, err := u.update(l.SKU.ID, l.Count, condSet, condWhere,
			[]any{l.Count, l.Count, l.SKU.ID, l.Count, true}, -1, spu)
		if err != nil {
			return fmt.Errorf("update sku %d: %w", l.SKU.ID, err)
		}
		if done {
			return nil
		}
		now, err := readSKU(tx, l.SKU.ID)
		if err != nil {
			return err
		}
		if now.Stock < l.Count {
			return &StockError{SKUID: l.SKU.ID, Name: l.SKU.Name, Wanted: l.Count, Left: now.Stock}
		}
		if err := tx.Statement.Context.Err(); err != nil {
			return err
		}
	}
}

// takeLocked locks the SKU rows with SELECT ... FOR UPDATE in one statement
// ordered by id (PostgreSQL locks the rows as they leave the sort, MySQL as
// it walks the primary key: in ascending id order either way), then
// updates them. SQLite has no row locks and GORM drops the clause there;
// the write lock that the transaction took at BEGIN (_txlock=immediate)
// gives the same exclusion.
//
// PostgreSQL takes FOR NO KEY UPDATE, the lock its UPDATE takes anyway:
// FOR UPDATE would also wait for the key-share lock that another buyer's
// order line holds on the SKU (the foreign key check), while that buyer
// waits for this one's row lock, a deadlock on every pair of buyers.
func (o *Orders) takeLocked(u *skuWriter, lines []BillLine, fold func(int) *spuSale) error {
	tx := u.tx
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.SKU.ID
	}
	lock := clause.Locking{Strength: clause.LockingStrengthUpdate}
	if o.store.dialect == migrations.Postgres {
		lock.Strength = "NO KEY UPDATE"
	}
	var rows []skuNow
	err := tx.Model(&SKU{}).Clauses(lock).
		Select("id", "stock", "sales", "is_launched").Where("id IN ?", ids).Order("id").Find(&rows).Error
	if err != nil {
		return fmt.Errorf("lock skus %v: %w", ids, err)
	}
	byID := make(map[int64]skuNow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	for _, l := range lines {
		r, ok := byID[l.SKU.ID]
		switch {
		case !ok || !r.IsLaunched:
			return fmt.Errorf("sku %d: %w", l.SKU.ID, ErrNotLaunched)
		case r.Stock < l.Count:
			return &StockError{SKUID: l.SKU.ID, Name: l.SKU.Name, Wanted: l.Count, Left: r.Stock}
		}
	}
	for i, l := range lines {
		r := byID[l.SKU.ID]
		if _, err := u.update(r.ID, l.Count, "stock = ?, sales = ?", "id = ?", []any{r.Stock - l.Count, r.Sales + l.Count, r.ID}, r.Stock-l.Count, fold(i)); err != nil {
			return fmt.Errorf("update sku %d: %w", r.ID, err)
		}
	}
	return nil
}

// retryable reports an error that aborts the transaction through nobody's
// fault, so that running it again may succeed: a deadlock, a lock wait
// timeout, a serialization failure, or SQLite's busy database.
func retryable(err error) bool {
	var pe *pgconn.PgError
	var me *mysql.MySQLError
	var se *sqlite.Error
	switch {
	case errors.As(err, &pe):
		return pe.Code == "40001" || pe.Code == "40P01" // serialization_failure, deadlock_detected
	case errors.As(err, &me):
		return me.Number == 1213 || me.Number == 1205 // ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT
	case errors.As(err, &se):
		code := se.Code() & 0xff // the primary result code
		return code == sqlite3.SQLITE_BUSY || code == sqlite3.SQLITE_LOCKED
	}
	return false
}

// pause waits before try attempt+1: 2 ms doubling up to 128 ms, with full
// jitter so that the losers of a deadlock do not collide again.
func pause(ctx context.Context, attempt int) error {
	d := 2 * time.Millisecond << min(attempt, 6)
	t := time.NewTimer(time.Duration(rand.Int64N(int64(d))) + time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// busy says the commit ran out of time.
func busy(ctx context.Context, cause error) error {
	return fmt.Errorf("%w (%w): %v", ErrBusy, ctx.Err(), cause)
}

// orderRow is tb_order_info as the commit writes it, with the commit token
// that Order leaves out.
type orderRow struct {
	OrderID     string `gorm:"primaryKey"`
	CreateTime  time.Time
	UpdateTime  time.Time
	UserID      int64
	AddressID   int64
	TotalCount  int
	TotalAmount decimal.Decimal
	Freight     decimal.Decimal
	PayMethod   int
	Status      int
	CommitToken *string
}

func (orderRow) TableName() string { return "tb_order_info" }

func (r orderRow) order(lines []OrderLine) *Order {
	return &Order{
		OrderID: r.OrderID, CreateTime: r.CreateTime, UpdateTime: r.UpdateTime,
		UserID: r.UserID, AddressID: r.AddressID, TotalCount: r.TotalCount,
		TotalAmount: r.TotalAmount, Freight: r.Freight, PayMethod: r.PayMethod,
		Status: r.Status, Lines: lines,
	}
}
