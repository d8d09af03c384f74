package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/meiduo/shop/migrations"
)

// StrategyOptimistic and StrategyConditional commit in groups (group
// commit). A buyer's commit joins the commits waiting for a turn; whoever
// gets a turn takes every commit waiting at that moment (up to BatchSize)
// and writes them in one
// transaction, all at once (writeAll). Nobody waits for a group to fill:
// a commit that finds a turn free goes alone, and commits gather only
// while every turn is busy, which is when one hot SKU makes them queue on
// its row lock anyway. A group then pays for one transaction, one fsync,
// one hot-row lock and a handful of statements, instead of each commit
// paying for its own.

// maxGroupLines bounds the order lines of one group, and so the size of
// its statements (placeholders are limited: 32,766 in SQLite, 65,535 in
// PostgreSQL and MySQL; a line takes 10).
const maxGroupLines = 512

// errSplit means the plans of a group cannot all be placed: they are then
// placed one savepoint each.
var errSplit = errors.New("the orders do not all fit")

// together places a plan in a group commit and waits for its result. A
// commit still waiting when ctx ends is dropped, and no order is made for
// it; one that a group has taken is answered when the group commits.
func (o *Orders) together(ctx context.Context, p *plan) result {
	j := &job{ctx: ctx, plan: p, done: make(chan result, 1)}
	o.mu.Lock()
	o.waiting = append(o.waiting, j)
	o.mu.Unlock()
	select {
	case r := <-j.done:
		return r
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobWaiting, jobDropped) {
			return result{err: busy(ctx, errors.New("still waiting for a commit turn"))}
		}
		return <-j.done
	case o.turns <- struct{}{}:
		// This group holds j unless another took it first; either way j
		// is answered by the time this group is done, or soon after.
		o.work(o.gather(), true)
		<-o.turns
		return <-j.done
	}
}

// gather takes the commits waiting now, oldest first, up to BatchSize and
// maxGroupLines, skipping (and answering) those whose buyer is gone.
func (o *Orders) gather() []*job {
	o.mu.Lock()
	defer o.mu.Unlock()
	var batch []*job
	n, lines := 0, 0
	for _, j := range o.waiting {
		if len(batch) == o.batch || (len(batch) > 0 && lines+len(j.plan.lines) > maxGroupLines) {
			break
		}
		n++
		before := len(batch)
		if batch = o.take(batch, j); len(batch) > before {
			lines += len(j.plan.lines)
		}
	}
	clear(o.waiting[:n])
	o.waiting = o.waiting[n:]
	return batch
}

// writeAll writes every plan at once: one INSERT for the order headers,
// one for their lines, per SKU (ascending id) one UPDATE that takes the
// units of all the plans together (conditional: takeUnits; optimistic,
// the compare-and-set: casUnits), one INSERT for the stock
// ledger, and per SPU (ascending id) one UPDATE of its sales. It fills in
// results. It returns errSplit when the plans cannot all go in: a SKU is
// short of the total, or withdrawn, or an order id or commit token is
// taken. The caller then rolls back and places them one savepoint each,
// so exactly the plans that fit are placed.
func (o *Orders) writeAll(tx *gorm.DB, plans []*plan, results []result) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	heads := make([]orderRow, len(plans))
	byOrder := make([][]OrderLine, len(plans))
	var lines []OrderLine
	skuUnits, spuUnits := map[int64]int{}, map[int64]int{}
	for i, p := range plans {
		heads[i], byOrder[i] = o.rows(p, now)
		lines = append(lines, byOrder[i]...)
		for _, l := range p.lines {
			skuUnits[l.SKU.ID] += l.Count
		}
		for _, sp := range p.spus {
			spuUnits[sp.id] += sp.count
		}
	}
	if err := insertOrders(tx, heads...); err != nil {
		if errors.Is(err, errIDTaken) {
			return errSplit
		}
		return err
	}
	// MySQL: the lines after the stock, as in write.
	linesLater := o.store.dialect == migrations.MySQL
	if !linesLater {
		if err := insertLines(tx, lines); err != nil {
			return err
		}
	}
	left := make(map[int64]int, len(skuUnits)) // stock after the group
	for _, id := range sortedKeys(skuUnits) {
		take := takeUnits
		if o.strategy == StrategyOptimistic {
			take = casUnits
		}
		after, ok, err := take(tx, o.store.dialect, id, skuUnits[id])
		if err != nil {
			return err
		}
		if !ok {
			return errSplit
		}
		left[id] = after
	}
	if linesLater {
		if err := insertLines(tx, lines); err != nil {
			return err
		}
	}
	// The ledger tells the sales apart, in plan order: walking back from
	// the stock after the group, each line's stock after is what the
	// lines after it had not yet taken.
	entries := make([]LedgerEntry, len(lines))
	k := len(lines)
	for i := len(plans) - 1; i >= 0; i-- {
		for j := len(byOrder[i]) - 1; j >= 0; j-- {
			l := byOrder[i][j]
			k--
			uid, oid := heads[i].UserID, heads[i].OrderID
			entries[k] = LedgerEntry{CreateTime: now, SKUID: l.SKUID, Delta: -l.Count, StockAfter: left[l.SKUID],
				Reason: ReasonSale, UserID: &uid, OrderID: &oid}
			left[l.SKUID] += l.Count
		}
	}
	if err := recordStock(tx, entries...); err != nil {
		return err
	}
	for _, id := range sortedKeys(spuUnits) {
		if err := addSPUSales(tx, spuSale{id: id, count: spuUnits[id]}); err != nil {
			return err
		}
	}
	for i := range plans {
		results[i] = result{order: heads[i].order(byOrder[i])}
	}
	return nil
}

// takeUnits takes n units of a launched SKU in one conditional UPDATE and
// returns the stock after; ok is false when the update matched nothing
// (short or withdrawn). MySQL has no RETURNING: there the stock is read
// back from the row the update now holds locked.
func takeUnits(tx *gorm.DB, dialect migrations.Dialect, id int64, n int) (after int, ok bool, err error) {
	q := "UPDATE tb_sku SET " + condSet + " WHERE " + condWhere
	args := []any{n, n, id, n, true}
	if dialect != migrations.MySQL {
		var got []int
		if err := tx.Raw(q+" RETURNING stock", args...).Scan(&got).Error; err != nil {
			return 0, false, fmt.Errorf("take %d of sku %d: %w", n, id, err)
		}
		if len(got) != 1 {
			return 0, false, nil
		}
		return got[0], true, nil
	}
	res := tx.Exec(q, args...)
	if res.Error != nil {
		return 0, false, fmt.Errorf("take %d of sku %d: %w", n, id, res.Error)
	}
	if res.RowsAffected != 1 {
		return 0, false, nil
	}
	if err := tx.Raw("SELECT stock FROM tb_sku WHERE id = ?", id).Scan(&after).Error; err != nil {
		return 0, false, fmt.Errorf("read sku %d: %w", id, err)
	}
	return after, true, nil
}

// casUnits takes n units of a launched SKU the optimistic way: read the
// stock, then write stock - n only where the stock and sales are still
// what was read, and read again if someone else wrote in between, until
// it succeeds or the stock is short (ok false) or ctx ends.
func casUnits(tx *gorm.DB, _ migrations.Dialect, id int64, n int) (after int, ok bool, err error) {
	for {
		seen, err := readSKU(tx, id)
		switch {
		case errors.Is(err, ErrNotLaunched):
			return 0, false, nil
		case err != nil:
			return 0, false, err
		case seen.Stock < n:
			return 0, false, nil
		}
		res := tx.Exec("UPDATE tb_sku SET "+casSet+" WHERE "+casWhere,
			seen.Stock-n, seen.Sales+n, id, seen.Stock, seen.Sales, true)
		if res.Error != nil {
			return 0, false, fmt.Errorf("take %d of sku %d: %w", n, id, res.Error)
		}
		if res.RowsAffected == 1 {
			return seen.Stock - n, true, nil
		}
		if err := tx.Statement.Context.Err(); err != nil {
			return 0, false, err
		}
	}
}
