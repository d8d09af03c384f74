package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/meiduo/shop/migrations"
)

// ExpiryBatch is how many unpaid orders ExpireUnpaid cancels per query.
const ExpiryBatch = 100

// CancelOrder cancels an order that is unpaid or awaiting shipment, and in
// the same transaction gives back its stock and sales: every line's count
// returns to its SKU's stock and leaves the SKU's and the SPU's sales, with
// a ReasonCancel ledger entry per line recorded as done by staff (nil: by
// the shop itself, as when an order expires). The status change is a
// conditional update, so the stock comes back exactly once, even when two
// staff cancel the same order at the same moment: the second finds it
// canceled already. The transaction may run more than once (after a
// deadlock); the stock still comes back once.
//
// Returns ErrNotFound for an unknown order, ErrWrongStatus if the order is
// shipped, finished or canceled already.
func (s *Store) CancelOrder(ctx context.Context, orderID string, staff *int64, note string) error {
	err := s.retryTx(ctx, func(tx *gorm.DB) error { return s.cancelIn(tx, orderID, staff, note) })
	if err != nil {
		return fmt.Errorf("cancel order %q: %w", orderID, err)
	}
	return nil
}

// cancelIn is CancelOrder inside tx. Rows are locked in the order commit's
// order (SKUs by ascending id, then SPUs by ascending id) after the order
// row, so cancels and commits cannot deadlock on each other.
func (s *Store) cancelIn(tx *gorm.DB, orderID string, staff *int64, note string) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	res := tx.Exec("UPDATE tb_order_info SET status = ?, update_time = ? WHERE order_id = ? AND status IN (?, ?)",
		StatusCanceled, now, orderID, StatusUnpaid, StatusUnsend)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return statusOf(tx, orderID)
	}
	var lines []struct {
		SKUID int64 `gorm:"column:sku_id"`
		SPUID int64 `gorm:"column:spu_id"`
		Count int
	}
	err := tx.Raw(`SELECT g.sku_id AS sku_id, k.spu_id AS spu_id, g.count AS count
		FROM tb_order_goods g JOIN tb_sku k ON k.id = g.sku_id WHERE g.order_id = ? ORDER BY g.sku_id`, orderID).Scan(&lines).Error
	if err != nil {
		return fmt.Errorf("lines: %w", err)
	}
	entries := make([]LedgerEntry, 0, len(lines))
	bySPU := map[int64]int{}
	var spus []int64
	for _, l := range lines {
		after, err := s.addStock(tx, l.SKUID, l.Count, "sales = sales - ?", l.Count)
		if err != nil {
			return err
		}
		oid := orderID
		entries = append(entries, LedgerEntry{CreateTime: now, SKUID: l.SKUID, Delta: l.Count, StockAfter: after,
			Reason: ReasonCancel, UserID: staff, OrderID: &oid, Note: note})
		if _, seen := bySPU[l.SPUID]; !seen {
			spus = append(spus, l.SPUID)
		}
		bySPU[l.SPUID] += l.Count
	}
	slices.Sort(spus)
	for _, id := range spus {
		if err := tx.Exec("UPDATE tb_spu SET sales = sales - ? WHERE id = ?", bySPU[id], id).Error; err != nil {
			return fmt.Errorf("take %d sales from spu %d: %w", bySPU[id], id, err)
		}
	}
	return recordStock(tx, entries...)
}

// statusOf explains why an order could not change status: ErrNotFound if
// it does not exist, ErrWrongStatus otherwise.
func statusOf(tx *gorm.DB, orderID string) error {
	var st []int
	if err := tx.Model(&Order{}).Where("order_id = ?", orderID).Pluck("status", &st).Error; err != nil {
		return err
	}
	if len(st) == 0 {
		return ErrNotFound
	}
	return fmt.Errorf("%w (status %d)", ErrWrongStatus, st[0])
}

// addStock adds delta to a SKU's stock where the result stays at or above
// zero (and sets extra, a "col = expr" with its argument, in the same
// statement), and returns the stock after it. Returns ErrNotFound if the
// SKU does not exist and a *StockError if the stock would go below zero.
func (s *Store) addStock(tx *gorm.DB, sku int64, delta int, extra string, extraArg any) (int, error) {
	set, args := "stock = stock + ?, update_time = ?", []any{delta, time.Now().UTC().Truncate(time.Microsecond)}
	if extra != "" {
		set += ", " + extra
		args = append(args, extraArg)
	}
	q := "UPDATE tb_sku SET " + set + " WHERE id = ? AND stock + ? >= 0"
	args = append(args, sku, delta)
	var after []int
	if s.dialect == migrations.MySQL {
		res := tx.Exec(q, args...)
		if res.Error != nil {
			return 0, fmt.Errorf("add %d to the stock of sku %d: %w", delta, sku, res.Error)
		}
		if res.RowsAffected == 1 {
			// The row is locked by this transaction now: this is its stock.
			after = []int{0}
			if err := tx.Raw("SELECT stock FROM tb_sku WHERE id = ?", sku).Scan(&after[0]).Error; err != nil {
				return 0, fmt.Errorf("stock of sku %d: %w", sku, err)
			}
		}
	} else if err := tx.Raw(q+" RETURNING stock", args...).Scan(&after).Error; err != nil {
		return 0, fmt.Errorf("add %d to the stock of sku %d: %w", delta, sku, err)
	}
	if len(after) == 1 {
		return after[0], nil
	}
	var k SKU
	if err := tx.Select("id", "name", "stock").Take(&k, sku).Error; err != nil {
		return 0, fmt.Errorf("sku %d: %w", sku, translate(err))
	}
	return 0, &StockError{SKUID: k.ID, Name: k.Name, Wanted: -delta, Left: k.Stock}
}

// ExpireUnpaid cancels the unpaid online-payment orders created before
// now - olderThan, through CancelOrder's path (the stock comes back once),
// and returns how many it canceled. An order paid or canceled meanwhile is
// left alone.
func (s *Store) ExpireUnpaid(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().UTC().Add(-olderThan)
	n := 0
	for {
		var ids []string
		err := s.db.WithContext(ctx).Model(&Order{}).
			Where("status = ? AND pay_method = ? AND create_time < ?", StatusUnpaid, PayOnline, cutoff).
			Order("create_time").Limit(ExpiryBatch).Pluck("order_id", &ids).Error
		if err != nil {
			return n, fmt.Errorf("find unpaid orders before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		for _, id := range ids {
			err := s.CancelOrder(ctx, id, nil, "expired unpaid")
			switch {
			case err == nil:
				n++
			case errors.Is(err, ErrWrongStatus), errors.Is(err, ErrNotFound):
			default:
				return n, err
			}
		}
		if len(ids) < ExpiryBatch {
			return n, nil
		}
	}
}

// retryTx runs fn in a transaction, again after a jittered pause when it
// loses a deadlock or a serialization check, until ctx ends: fn may run
// more than once. MySQL runs it at READ COMMITTED, as the order commit.
func (s *Store) retryTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, CommitTimeout)
		defer cancel()
	}
	var opts []*sql.TxOptions
	if s.dialect == migrations.MySQL {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	}
	for attempt := 0; ; attempt++ {
		err := s.db.WithContext(ctx).Transaction(fn, opts...)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			if err != nil && ctx.Err() != nil {
				return busy(ctx, err)
			}
			return err
		}
		if err := pause(ctx, attempt); err != nil {
			return busy(ctx, err)
		}
	}
}
