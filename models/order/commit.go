package order

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
)

// errSplit means the plans of a batch cannot all be placed at once: they
// are then placed one savepoint each.
var errSplit = errors.New("the orders do not all fit")

// commit writes the plans in one transaction (models.DB.Transact, which
// runs it again after a deadlock or a lost connection) and returns one
// result per plan. Several plans are first written all at once
// (writeAll), except with StrategyPessimistic; if they do not all fit, or
// for that strategy, each plan goes in its own savepoint (place), so that
// one plan's failure (short stock, say) leaves the others alone.
//
// held says the caller already holds a turn (o.turns); otherwise commit
// waits for one.
func (o *Orders) commit(ctx context.Context, plans []*plan, held bool) []result {
	results := make([]result, len(plans))
	fail := func(err error) []result {
		for i := range results {
			results[i] = result{err: err}
		}
		return results
	}
	if !held {
		select {
		case o.turns <- struct{}{}:
			defer func() { <-o.turns }()
		case <-ctx.Done():
			return fail(models.Busy(ctx, errors.New("still waiting for a commit turn")))
		}
	}
	runs := 0
	if len(plans) > 1 && o.strategy != StrategyPessimistic {
		err := o.db.Transact(ctx, func(tx *models.Tx) error { runs++; return o.writeAll(tx, plans, results) })
		if err == nil {
			o.obs.Committed(len(plans), runs-1)
			return results
		}
		if ctx.Err() != nil || errors.Is(err, models.ErrBusy) {
			return fail(err)
		}
		// errSplit, or something about one plan failed the lot: one
		// savepoint each, so that it fails alone.
	}
	runs = 0
	err := o.db.Transact(ctx, func(tx *models.Tx) error {
		runs++
		for i, p := range plans {
			order, err := o.place(tx, p)
			if err != nil && (models.Transient(err) || ctx.Err() != nil) {
				return err
			}
			results[i] = result{order: order, err: err}
		}
		return nil
	})
	if err != nil {
		return fail(err)
	}
	placed := 0
	for _, r := range results {
		if r.order != nil {
			placed++
		}
	}
	o.obs.Committed(placed, runs-1)
	return results
}

// writeAll writes every plan at once: one INSERT for the order headers,
// one for their lines, per SKU (ascending id) one UPDATE that takes the
// units of all the plans together (stock.go: casUnits for the optimistic
// strategy, takeUnits for the others), one INSERT for the stock ledger,
// and per SPU (ascending id) one UPDATE of its sales. It fills in results.
// It returns errSplit when the plans cannot all go in: a SKU is short of
// the total, or withdrawn, or an order id or commit token is taken. The
// caller then places them one savepoint each, so exactly the plans that
// fit are placed.
func (o *Orders) writeAll(tx *models.Tx, plans []*plan, results []result) error {
	if tx.Unsure {
		// The last try's COMMIT lost its answer: if it wrote the first
		// order, it wrote them all. (If that COMMIT lands only after this
		// look, the headers' insert collides, and place finds them.)
		for _, p := range plans {
			p.unsure = true
		}
		if prior, err := ownOrder(tx, plans[0]); err != nil || prior != nil {
			if err != nil {
				return err
			}
			for i, p := range plans {
				if results[i].order, err = ownOrder(tx, p); err != nil {
					return err
				}
			}
			return nil
		}
	}
	heads := make([]models.OrderRow, len(plans))
	byOrder := make([][]models.OrderLine, len(plans))
	var lines []models.OrderLine
	skuUnits, spuUnits := map[int64]int{}, map[int64]int{}
	for i, p := range plans {
		heads[i], byOrder[i] = o.rows(p, tx.Now)
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
	// MySQL: the lines after the stock, as in write (savepoint.go).
	linesLater := tx.Dialect == migrations.MySQL
	if !linesLater {
		if err := insertLines(tx, lines); err != nil {
			return err
		}
	}
	left := make(map[int64]int, len(skuUnits)) // stock after the group
	for _, id := range slices.Sorted(maps.Keys(skuUnits)) {
		take := takeUnits
		if o.strategy == StrategyOptimistic {
			take = casUnits
		}
		after, ok, err := take(tx, id, skuUnits[id])
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
	entries := make([]models.LedgerEntry, len(lines))
	k := len(lines)
	for i := len(plans) - 1; i >= 0; i-- {
		for j := len(byOrder[i]) - 1; j >= 0; j-- {
			l := byOrder[i][j]
			k--
			entries[k] = saleEntry(tx, heads[i].UserID, heads[i].OrderID, l.SKUID, l.Count, left[l.SKUID])
			left[l.SKUID] += l.Count
		}
	}
	if err := models.RecordStock(tx, entries...); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(spuUnits)) {
		if err := addSPUSales(tx, spuSale{id: id, count: spuUnits[id]}); err != nil {
			return err
		}
	}
	for i := range plans {
		results[i] = result{order: heads[i].Order(byOrder[i])}
	}
	return nil
}
