package order

import (
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
)

// The stock updates, one statement per strategy, each used for one order
// (takeCAS, takeConditional, takeLocked) and for a group (casUnits,
// takeUnits), where n is the group's units. The SQL is written out, not
// built from a struct, which would skip zero values (a stock of 0).
const (
	// casUpdate is the optimistic lock: write the new counters only where
	// both are still what was read. Both are compared: a cancel (stock
	// back, sales back) and an adjustment (stock only) in between could
	// bring the stock back to what was seen with the sales changed, and
	// writing seen_sales + n would lose that change.
	casUpdate = "UPDATE tb_sku SET stock = @new_stock, sales = @new_sales" +
		" WHERE id = @id AND stock = @seen_stock AND sales = @seen_sales AND is_launched = @launched"
	// condUpdate takes n units in one statement, only while n are left.
	condUpdate = "UPDATE tb_sku SET stock = stock - @n, sales = sales + @n" +
		" WHERE id = @id AND stock >= @n AND is_launched = @launched"
	// lockedUpdate writes the counters of a row this transaction holds
	// locked (SELECT ... FOR UPDATE).
	lockedUpdate = "UPDATE tb_sku SET stock = @new_stock, sales = @new_sales WHERE id = @id"
)

func casArgs(seen skuNow, n int) map[string]any {
	return map[string]any{"id": seen.ID, "n": n, "launched": true,
		"seen_stock": seen.Stock, "seen_sales": seen.Sales,
		"new_stock": seen.Stock - n, "new_sales": seen.Sales + n}
}

func condArgs(id int64, n int) map[string]any {
	return map[string]any{"id": id, "n": n, "launched": true}
}

// takeStock takes every line's count from its SKU's stock and adds it to
// its sales, in ascending SKU id order, with the strategy's statement. It
// reports whether it also added the SPU's sales, which PostgreSQL does in
// the last SKU's statement when the order has one SPU: one round trip less
// while the hot rows are locked. (Its SPU row is still locked after its
// SKU rows.)
//
// Every line is a ReasonSale entry in the stock ledger. PostgreSQL writes
// it in the statement that updates the stock; on the other dialects
// takeStock returns the entries, with their stock after, for the caller to
// write in the same transaction.
func (o *Orders) takeStock(tx *models.Tx, p *plan, orderID string) (folded bool, sales []models.LedgerEntry, err error) {
	fold := func(i int) *spuSale {
		if tx.Dialect == migrations.Postgres && len(p.spus) == 1 && i == len(p.lines)-1 {
			return &p.spus[0]
		}
		return nil
	}
	u := skuWriter{tx: tx, uid: p.req.UserID, orderID: orderID}
	switch o.strategy {
	case StrategyPessimistic:
		err = takeLocked(&u, p.lines, fold)
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

// takeCAS is the optimistic lock of the Django shop for one order's line:
// write the new stock only where the stock is still what was read, and
// read again if not. The first try uses what prepare read, saving a read
// when nobody else is buying.
func takeCAS(u *skuWriter, l models.BillLine, spu *spuSale) error {
	seen := skuNow{ID: l.SKU.ID, Stock: l.SKU.Stock, Sales: l.SKU.Sales, IsLaunched: true}
	for {
		if seen.Stock < l.Count {
			return &models.StockError{SKUID: l.SKU.ID, Name: l.SKU.Name, Wanted: l.Count, Left: seen.Stock}
		}
		done, err := u.update(casUpdate, casArgs(seen, l.Count), seen.Stock-l.Count, spu)
		if err != nil {
			return fmt.Errorf("update sku %d: %w", seen.ID, err)
		}
		if done {
			return nil
		}
		if err := u.tx.Statement.Context.Err(); err != nil {
			return err
		}
		if seen, err = readSKU(u.tx, l.SKU.ID); err != nil {
			return err
		}
	}
}

// casUnits is the optimistic lock for a group: read the stock, then write
// stock - n only where the stock and sales are still what was read, and
// read again if someone else wrote in between, until it succeeds or the
// stock is short (ok false) or ctx ends. It returns the stock after.
func casUnits(tx *models.Tx, id int64, n int) (after int, ok bool, err error) {
	for {
		seen, err := readSKU(tx, id)
		switch {
		case errors.Is(err, models.ErrNotLaunched):
			return 0, false, nil
		case err != nil:
			return 0, false, err
		case seen.Stock < n:
			return 0, false, nil
		}
		res := tx.Exec(casUpdate, casArgs(seen, n))
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

// takeConditional takes one order's line with condUpdate. When it matches
// nothing, a read tells short stock from a withdrawn SKU; if the stock
// came back between the two, it tries again.
func takeConditional(u *skuWriter, l models.BillLine, spu *spuSale) error {
	for {
		done, err := u.update(condUpdate, condArgs(l.SKU.ID, l.Count), -1, spu)
		if err != nil {
			return fmt.Errorf("update sku %d: %w", l.SKU.ID, err)
		}
		if done {
			return nil
		}
		now, err := readSKU(u.tx, l.SKU.ID)
		if err != nil {
			return err
		}
		if now.Stock < l.Count {
			return &models.StockError{SKUID: l.SKU.ID, Name: l.SKU.Name, Wanted: l.Count, Left: now.Stock}
		}
		if err := u.tx.Statement.Context.Err(); err != nil {
			return err
		}
	}
}

// takeUnits takes n units of a launched SKU for a group with condUpdate and
// returns the stock after; ok is false when the update matched nothing
// (short or withdrawn). MySQL has no RETURNING: there the stock is read
// back from the row the update now holds locked.
func takeUnits(tx *models.Tx, id int64, n int) (after int, ok bool, err error) {
	if tx.Dialect != migrations.MySQL {
		var got []int
		if err := tx.Raw(condUpdate+" RETURNING stock", condArgs(id, n)).Scan(&got).Error; err != nil {
			return 0, false, fmt.Errorf("take %d of sku %d: %w", n, id, err)
		}
		if len(got) != 1 {
			return 0, false, nil
		}
		return got[0], true, nil
	}
	res := tx.Exec(condUpdate, condArgs(id, n))
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

// takeLocked locks the SKU rows with SELECT ... FOR UPDATE in one statement
// ordered by id (PostgreSQL locks the rows as they leave the sort, MySQL as
// it walks the primary key: in ascending id order either way), then
// updates them with lockedUpdate. SQLite has no row locks and GORM drops
// the clause there; the write lock that the transaction took at BEGIN
// (_txlock=immediate) gives the same exclusion.
//
// PostgreSQL takes FOR NO KEY UPDATE, the lock its UPDATE takes anyway:
// FOR UPDATE would also wait for the key-share lock that another buyer's
// order line holds on the SKU (the foreign key check), while that buyer
// waits for this one's row lock, a deadlock on every pair of buyers.
func takeLocked(u *skuWriter, lines []models.BillLine, fold func(int) *spuSale) error {
	ids := make([]int64, len(lines))
	for i, l := range lines {
		ids[i] = l.SKU.ID
	}
	lock := clause.Locking{Strength: clause.LockingStrengthUpdate}
	if u.tx.Dialect == migrations.Postgres {
		lock.Strength = "NO KEY UPDATE"
	}
	var rows []skuNow
	err := u.tx.Model(&models.SKU{}).Clauses(lock).
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
			return fmt.Errorf("sku %d: %w", l.SKU.ID, models.ErrNotLaunched)
		case r.Stock < l.Count:
			return &models.StockError{SKUID: l.SKU.ID, Name: l.SKU.Name, Wanted: l.Count, Left: r.Stock}
		}
	}
	for i, l := range lines {
		r := byID[l.SKU.ID]
		if _, err := u.update(lockedUpdate, casArgs(r, l.Count), r.Stock-l.Count, fold(i)); err != nil {
			return fmt.Errorf("update sku %d: %w", r.ID, err)
		}
	}
	return nil
}

// skuNow is a SKU's stock as the transaction reads it.
type skuNow struct {
	ID         int64
	Stock      int
	Sales      int
	IsLaunched bool
}

// readSKU reads a SKU's counters. Returns models.ErrNotLaunched for an
// unknown or withdrawn SKU.
func readSKU(tx *models.Tx, id int64) (skuNow, error) {
	var k skuNow
	err := tx.Model(&models.SKU{}).Select("id", "stock", "sales", "is_launched").Where("id = ?", id).Take(&k).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !k.IsLaunched) {
		return k, fmt.Errorf("sku %d: %w", id, models.ErrNotLaunched)
	}
	if err != nil {
		return k, fmt.Errorf("read sku %d: %w", id, err)
	}
	return k, nil
}
