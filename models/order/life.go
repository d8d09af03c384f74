package order

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
)

// ExpiryBatch is how many unpaid orders ExpireUnpaid cancels per query.
const ExpiryBatch = 100

// Why an order's status changed, as tb_order_event records it.
const (
	WhyPaid      = "paid"
	WhyCanceled  = "canceled"
	WhyExpired   = "expired"
	WhyShipped   = "shipped"
	WhyReceived  = "received"
	WhyCompleted = "completed"
)

// CancelOrder cancels an order that is unpaid or awaiting shipment, and in
// the same transaction gives back its stock and sales: every line's count
// returns to its SKU's stock and leaves the SKU's and the SPU's sales, with
// a ReasonCancel ledger entry per line recorded as done by staff (nil: by
// the shop itself, as when an order expires). The status change is a
// conditional update, so the stock comes back exactly once, even when two
// staff cancel the same order at the same moment: the second finds it
// canceled already. A payment recorded for the order is flagged to refund.
//
// Returns ErrNotFound for an unknown order, ErrWrongStatus if the order is
// shipped, finished or canceled already.
func (o *Orders) CancelOrder(ctx context.Context, orderID string, staff *int64, note string) error {
	return o.cancel(ctx, cancelation{orderID: orderID, who: staff, why: WhyCanceled, note: note,
		from: []int{models.StatusUnpaid, models.StatusUnsend}})
}

// CancelOwnOrder is CancelOrder for the order's buyer: the order must be
// uid's. Returns ErrNotFound for an unknown order or someone else's,
// ErrWrongStatus if it is shipped, finished or canceled already.
func (o *Orders) CancelOwnOrder(ctx context.Context, uid int64, orderID string) error {
	return o.cancel(ctx, cancelation{orderID: orderID, who: &uid, owner: uid, why: WhyCanceled, note: "canceled by the buyer",
		from: []int{models.StatusUnpaid, models.StatusUnsend}})
}

// cancelation is one cancel: of which order, by whom (nil: the shop), of
// whose order (0: anyone's), why (tb_order_event), the ledger's note, and
// the statuses it may leave.
type cancelation struct {
	orderID string
	who     *int64
	owner   int64
	why     string
	note    string
	from    []int
}

func (o *Orders) cancel(ctx context.Context, c cancelation) error {
	err := o.db.Transact(ctx, func(tx *models.Tx) error { return cancelIn(tx, c) })
	if err != nil {
		return fmt.Errorf("cancel order %q: %w", c.orderID, err)
	}
	return nil
}

// cancelIn cancels inside tx. Rows are locked in the order commit's
// order (SKUs by ascending id, then SPUs by ascending id) after the order
// row, so cancels and commits cannot deadlock on each other.
func cancelIn(tx *models.Tx, c cancelation) error {
	now := tx.Now
	if _, err := move(tx, c.orderID, c.owner, models.StatusCanceled, c.who, c.why, c.from...); err != nil {
		return err
	}
	if err := tx.Exec("UPDATE tb_payment SET to_refund = ? WHERE order_id = ?", true, c.orderID).Error; err != nil {
		return fmt.Errorf("flag the payment to refund: %w", err)
	}
	var lines []struct {
		SKUID int64 `gorm:"column:sku_id"`
		SPUID int64 `gorm:"column:spu_id"`
		Count int
	}
	err := tx.Raw(`SELECT g.sku_id AS sku_id, k.spu_id AS spu_id, g.count AS count
		FROM tb_order_goods g JOIN tb_sku k ON k.id = g.sku_id WHERE g.order_id = ? ORDER BY g.sku_id`, c.orderID).Scan(&lines).Error
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
		oid := c.orderID
		entries = append(entries, models.LedgerEntry{CreateTime: now, SKUID: l.SKUID, Delta: l.Count, StockAfter: after,
			Reason: models.ReasonCancel, UserID: c.who, OrderID: &oid, Note: c.note})
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

// orderState is what a transition reads of an order, with its row locked.
type orderState struct {
	Status      int
	PayMethod   int
	UserID      int64
	TotalAmount decimal.Decimal
}

// lockOrder reads an order's state and locks its row until tx ends
// (SELECT ... FOR UPDATE; PostgreSQL: FOR NO KEY UPDATE, which the lines'
// and events' foreign keys do not wait for; SQLite: the write lock taken
// at BEGIN). Returns ErrNotFound.
func lockOrder(tx *models.Tx, orderID string) (orderState, error) {
	lock := clause.Locking{Strength: clause.LockingStrengthUpdate}
	if tx.Dialect == migrations.Postgres {
		lock.Strength = "NO KEY UPDATE"
	}
	var st []orderState
	err := tx.Model(&models.Order{}).Clauses(lock).Select("status", "pay_method", "user_id", "total_amount").
		Where("order_id = ?", orderID).Find(&st).Error
	if err != nil {
		return orderState{}, fmt.Errorf("read order: %w", err)
	}
	if len(st) == 0 {
		return orderState{}, models.ErrNotFound
	}
	return st[0], nil
}

// move sets an order's status to `to` if it is one of from, and records
// the change in tb_order_event, inside tx; owner > 0 requires the order to
// be that user's. The order row is locked first (lockOrder), and the
// UPDATE still names the status it read, so of transitions racing on one
// order exactly one applies and the others see its result. It returns the
// status the order had.
//
// Returns ErrNotFound (no such order, or not owner's), ErrWrongStatus.
func move(tx *models.Tx, orderID string, owner int64, to int, who *int64, why string, from ...int) (int, error) {
	return moveNoted(tx, orderID, owner, to, who, why, "", from...)
}

// moveNoted is move with staff's reason, kept in the event's note.
func moveNoted(tx *models.Tx, orderID string, owner int64, to int, who *int64, why, note string, from ...int) (int, error) {
	st, err := lockOrder(tx, orderID)
	if err != nil {
		return 0, err
	}
	if owner > 0 && st.UserID != owner {
		return 0, models.ErrNotFound
	}
	if !slices.Contains(from, st.Status) {
		return st.Status, fmt.Errorf("%w (status %d)", models.ErrWrongStatus, st.Status)
	}
	res := tx.Exec("UPDATE tb_order_info SET status = ?, update_time = ? WHERE order_id = ? AND status = ?",
		to, tx.Now, orderID, st.Status)
	if res.Error != nil {
		return st.Status, res.Error
	}
	if res.RowsAffected == 0 {
		return st.Status, statusOf(tx.DB, orderID)
	}
	return st.Status, recordEvent(tx, orderID, &st.Status, to, who, why, note)
}

// recordEvent writes one tb_order_event row; from nil is a placed order.
func recordEvent(tx *models.Tx, orderID string, from *int, to int, who *int64, why, note string) error {
	err := tx.Exec("INSERT INTO tb_order_event (create_time, order_id, from_status, to_status, user_id, why, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
		tx.Now, orderID, from, to, who, why, note).Error
	if err != nil {
		return fmt.Errorf("record event %s of order %q: %w", why, orderID, err)
	}
	return nil
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
			err := o.cancel(ctx, cancelation{orderID: id, why: WhyExpired, note: "expired unpaid", from: []int{models.StatusUnpaid}})
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

// ShipOrder moves an order awaiting shipment to shipped, as staff member
// staff (nil: the shop). Returns models.ErrNotFound, and
// models.ErrWrongStatus when it is not awaiting shipment.
func (o *Orders) ShipOrder(ctx context.Context, orderID string, staff *int64) error {
	return o.moveOrder(ctx, orderID, 0, staff, WhyShipped, models.StatusUnreceived, models.StatusUnsend)
}

// CompleteOrder finishes a shipped order (received, or reviewed), as
// staff member staff (nil: the shop). Returns models.ErrNotFound, and
// models.ErrWrongStatus when it is not shipped.
func (o *Orders) CompleteOrder(ctx context.Context, orderID string, staff *int64) error {
	return o.moveOrder(ctx, orderID, 0, staff, WhyCompleted, models.StatusFinished, models.StatusUnreceived, models.StatusUncomment)
}

// ReceiveOrder is the buyer uid saying a shipped order arrived: it moves
// to awaiting review. Returns models.ErrNotFound for an unknown order or
// someone else's, models.ErrWrongStatus when it is not shipped.
func (o *Orders) ReceiveOrder(ctx context.Context, uid int64, orderID string) error {
	return o.moveOrder(ctx, orderID, uid, &uid, WhyReceived, models.StatusUncomment, models.StatusUnreceived)
}

// moveOrder sets an order's status to `to` where it is one of `from`, in
// one transaction with its event (move): two staff moving it at once move
// it once.
func (o *Orders) moveOrder(ctx context.Context, orderID string, owner int64, who *int64, why string, to int, from ...int) error {
	err := o.db.Transact(ctx, func(tx *models.Tx) error {
		_, err := move(tx, orderID, owner, to, who, why, from...)
		return err
	})
	if err != nil {
		return fmt.Errorf("move order %q to status %d: %w", orderID, to, err)
	}
	return nil
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
