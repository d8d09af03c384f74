package order

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/meiduo/shop/models"
)

// Staff's side of payments: marking an unpaid online order paid when the
// money came another way (MarkPaid), and the payments to refund, listed
// and marked refunded once (Refunds, MarkRefunded).

// Why of staff's payment events in tb_order_event.
const (
	WhyPaidOffline = "paid_offline"
	WhyRefunded    = "refunded"
)

// MaxReason is the longest reason staff may give, in characters.
const MaxReason = 200

var (
	// ErrNotOnline is an order paid on delivery: it has nothing to mark paid.
	ErrNotOnline = errors.New("the order is not paid online")
	// ErrRefunded is a payment refunded already.
	ErrRefunded = errors.New("payment refunded already")
)

// MarkPaid records that staff member staff took an unpaid online order's
// payment outside Alipay (cash at the counter, a bank transfer), for
// reason: in one transaction the order moves from unpaid to awaiting
// shipment, an offline tb_payment row of the order's amount is written,
// and the tb_order_event says who, when and why (its note). It is the
// transition RecordPayment makes: the order row is locked first and the
// update names the status it read, so of a mark-paid, a notification, an
// expiry and a cancel racing on one order exactly one takes it out of
// unpaid, and the unique tb_payment.order_id keeps it to one payment.
//
// Returns models.ErrInvalid for an empty reason or one over MaxReason
// characters, models.ErrNotFound, ErrNotOnline, and models.ErrWrongStatus
// when the order is not unpaid; nothing is written then.
func (o *Orders) MarkPaid(ctx context.Context, orderID string, staff int64, reason string) error {
	if err := checkReason(reason); err != nil {
		return fmt.Errorf("mark order %q paid: %w", orderID, err)
	}
	err := o.db.Transact(ctx, func(tx *models.Tx) error {
		st, err := lockOrder(tx, orderID)
		if err != nil {
			return err
		}
		if st.PayMethod != models.PayOnline {
			return ErrNotOnline
		}
		if _, err := moveNoted(tx, orderID, 0, models.StatusUnsend, &staff, WhyPaidOffline, reason, models.StatusUnpaid); err != nil {
			return err
		}
		pay := models.Payment{CreateTime: tx.Now, OrderID: orderID, Amount: st.TotalAmount, Offline: true}
		if err := tx.Create(&pay).Error; err != nil {
			return fmt.Errorf("insert the offline payment: %w", models.Translate(err))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark order %q paid: %w", orderID, err)
	}
	return nil
}

// checkReason holds a staff reason to what tb_order_event.note keeps:
// trimmed already, not empty, at most MaxReason characters.
func checkReason(reason string) error {
	if n := utf8.RuneCountInString(reason); n == 0 || n > MaxReason || strings.TrimSpace(reason) != reason {
		return fmt.Errorf("%w: a reason of %d characters", models.ErrInvalid, n)
	}
	return nil
}

// Refund is a payment to refund, as staff list it.
type Refund struct {
	OrderID    string
	TradeID    string // empty for an offline payment
	Offline    bool
	Amount     decimal.Decimal
	PaidAt     time.Time
	RefundedAt *time.Time // nil while it waits
	RefundedBy string     // the staff member's username, when refunded
}

// RefundsShown is how many refunded payments Refunds lists, newest first.
const RefundsShown = 50

// Refunds lists the payments to refund: every one still waiting, oldest
// first, then the RefundsShown latest refunded, newest first.
func (o *Orders) Refunds(ctx context.Context) (waiting, done []Refund, err error) {
	q := func() *gorm.DB {
		return o.db.Gorm().WithContext(ctx).Table("tb_payment p").
			Select("p.order_id AS order_id, p.trade_id AS trade_id, p.offline AS offline, p.amount AS amount, p.create_time AS paid_at, p.refund_time AS refunded_at, u.username AS refunded_by").
			Joins("LEFT JOIN tb_users u ON u.id = p.refund_user_id").
			Where("p.to_refund = ?", true)
	}
	if err := q().Where("p.refund_time IS NULL").Order("p.create_time, p.id").Scan(&waiting).Error; err != nil {
		return nil, nil, fmt.Errorf("payments to refund: %w", err)
	}
	if err := q().Where("p.refund_time IS NOT NULL").Order("p.refund_time DESC, p.id DESC").Limit(RefundsShown).Scan(&done).Error; err != nil {
		return nil, nil, fmt.Errorf("refunded payments: %w", err)
	}
	return waiting, done, nil
}

// MarkRefunded records that staff member staff refunded the payment to
// refund of order orderID, with a note (may be empty, at most MaxReason
// characters): the payment's refund_time and refund_user_id are set by a
// conditional write (only while unset), with a "refunded" tb_order_event
// of the order, in one transaction, so two staff clicking at once refund
// it once.
//
// Returns models.ErrInvalid for a note over MaxReason, models.ErrNotFound
// when the order has no payment to refund, ErrRefunded when it was
// refunded already; nothing is written then.
func (o *Orders) MarkRefunded(ctx context.Context, orderID string, staff int64, note string) error {
	if note != "" {
		if err := checkReason(note); err != nil {
			return fmt.Errorf("refund order %q: %w", orderID, err)
		}
	}
	err := o.db.Transact(ctx, func(tx *models.Tx) error {
		st, err := lockOrder(tx, orderID)
		if err != nil {
			return err
		}
		res := tx.Exec("UPDATE tb_payment SET refund_time = ?, refund_user_id = ? WHERE order_id = ? AND to_refund = ? AND refund_time IS NULL",
			tx.Now, staff, orderID, true)
		if res.Error != nil {
			return fmt.Errorf("mark the payment refunded: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			var pays []models.Payment
			if err := tx.Where("order_id = ? AND to_refund = ?", orderID, true).Find(&pays).Error; err != nil {
				return fmt.Errorf("read the payment: %w", err)
			}
			if len(pays) == 0 {
				return models.ErrNotFound
			}
			return ErrRefunded
		}
		return recordEvent(tx, orderID, &st.Status, st.Status, &staff, WhyRefunded, note)
	})
	if err != nil {
		return fmt.Errorf("refund order %q: %w", orderID, err)
	}
	return nil
}
