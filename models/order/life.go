package order

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"

	"github.com/meiduo/shop/models"
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
// canceled already.
//
// Returns ErrNotFound for an unknown order, ErrWrongStatus if the order is
// shipped, finished or canceled already.
func (o *Orders) CancelOrder(ctx context.Context, orderID string, staff *int64, note string) error {
	err := o.db.Transact(ctx, func(tx *models.Tx) error { return cancelIn(tx, orderID, staff, note) })
	if err != nil {
		return fmt.Errorf("cancel order %q: %w", orderID, err)
	}
	return nil
}

// cancelIn is CancelOrder inside tx. Rows are locked in the order commit's
// order (SKUs by ascending id, then SPUs by ascending id) after the order
// row, so cancels and commits cannot deadlock on each other.
func cancelIn(tx *models.Tx, orderID string, staff *int64, note string) error {
	now := tx.Now
	res := tx.Exec("UPDATE tb_order_info SET status = ?, update_time = ? WHERE order_id = ? AND status IN (?, ?)",
		models.StatusCanceled, now, orderID, models.StatusUnpaid, models.StatusUnsend)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return statusOf(tx.DB, orderID)
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
	entries := make([]models.LedgerEntry, 0, len(lines))
	bySPU := map[int64]int{}
	var spus []int64
	for _, l := range lines {
		after, err := models.AddStock(tx, l.SKUID, l.Count, "sales = sales - ?", l.Count)
		if err != nil {
			return err
		}
		oid := orderID
		entries = append(entries, models.LedgerEntry{CreateTime: now, SKUID: l.SKUID, Delta: l.Count, StockAfter: after,
			Reason: models.ReasonCancel, UserID: staff, OrderID: &oid, Note: note})
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
	return models.RecordStock(tx, entries...)
}

// statusOf explains why an order could not change status: ErrNotFound if
// it does not exist, ErrWrongStatus otherwise.
func statusOf(tx *gorm.DB, orderID string) error {
	var st []int
	if err := tx.Model(&models.Order{}).Where("order_id = ?", orderID).Pluck("status", &st).Error; err != nil {
		return err
	}
	if len(st) == 0 {
		return models.ErrNotFound
	}
	return fmt.Errorf("%w (status %d)", models.ErrWrongStatus, st[0])
}

// ExpireUnpaid cancels the unpaid online-payment orders created before
// now - olderThan, through CancelOrder's path (the stock comes back once),
// and returns how many it canceled. An order paid or canceled meanwhile is
// left alone.
func (o *Orders) ExpireUnpaid(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().UTC().Add(-olderThan)
	n := 0
	for {
		var ids []string
		err := o.db.Gorm().WithContext(ctx).Model(&models.Order{}).
			Where("status = ? AND pay_method = ? AND create_time < ?", models.StatusUnpaid, models.PayOnline, cutoff).
			Order("create_time").Limit(ExpiryBatch).Pluck("order_id", &ids).Error
		if err != nil {
			return n, fmt.Errorf("find unpaid orders before %s: %w", cutoff.Format(time.RFC3339), err)
		}
		for _, id := range ids {
			err := o.CancelOrder(ctx, id, nil, "expired unpaid")
			switch {
			case err == nil:
				n++
			case errors.Is(err, models.ErrWrongStatus), errors.Is(err, models.ErrNotFound):
			default:
				return n, err
			}
		}
		if len(ids) < ExpiryBatch {
			return n, nil
		}
	}
}

// ShipOrder moves an order awaiting shipment to shipped. Returns
// models.ErrNotFound, and models.ErrWrongStatus when it is not awaiting
// shipment.
func (o *Orders) ShipOrder(ctx context.Context, orderID string) error {
	return o.moveOrder(ctx, orderID, models.StatusUnreceived, models.StatusUnsend)
}

// CompleteOrder finishes a shipped order (received, or reviewed). Returns
// models.ErrNotFound, and models.ErrWrongStatus when it is not shipped.
func (o *Orders) CompleteOrder(ctx context.Context, orderID string) error {
	return o.moveOrder(ctx, orderID, models.StatusFinished, models.StatusUnreceived, models.StatusUncomment)
}

// moveOrder sets an order's status to `to` where it is one of `from`: a
// conditional update, so two staff moving it at once move it once.
func (o *Orders) moveOrder(ctx context.Context, orderID string, to int, from ...int) error {
	err := o.db.Transact(ctx, func(tx *models.Tx) error {
		res := tx.Exec("UPDATE tb_order_info SET status = ?, update_time = ? WHERE order_id = ? AND status IN ?",
			to, tx.Now, orderID, from)
		if res.Error == nil && res.RowsAffected == 0 {
			return statusOf(tx.DB, orderID)
		}
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("move order %q to status %d: %w", orderID, to, err)
	}
	return nil
}
