package order

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/models"
)

// ErrPaymentMismatch is a payment that cannot be this order's: the order
// is paid on delivery, the amount is not the order's to the cent, or the
// order was paid already by another trade.
var ErrPaymentMismatch = errors.New("payment does not match the order")

// Payment is a payment the payment provider confirmed.
type Payment struct {
	OrderID string
	TradeID string // the provider's trade number
	Amount  decimal.Decimal
}

// PayOutcome is what RecordPayment did.
type PayOutcome int

const (
	// PaidNow: the payment is recorded and the order moved from unpaid to
	// awaiting shipment.
	PaidNow PayOutcome = iota + 1
	// PaidBefore: this payment was recorded already; nothing changed.
	PaidBefore
	// ToRefund: the order was canceled (expired, or by its buyer or staff)
	// before the payment came. The payment is recorded, not applied, and
	// flagged for staff to refund. A repeat of it is ToRefund again.
	ToRefund
)

// RecordPayment records a confirmed payment and, if the order is unpaid,
// moves it to awaiting shipment, all in one transaction with its
// tb_order_event. It may be called any number of times for one payment
// (Alipay repeats notifications, and the buyer's return carries the same
// payment): only the first call changes anything.
//
// The order row is locked before anything is read, as CancelOrder and
// ExpireUnpaid lock it, so of a payment, an expiry and a cancel racing on
// one order exactly one decides its fate, and the stock comes back at
// most once: a payment that loses to a cancel is recorded ToRefund.
//
// Returns ErrNotFound for an unknown order, ErrPaymentMismatch (nothing
// written), or ErrWrongStatus for an unpaid status the order cannot be
// paid from.
func (o *Orders) RecordPayment(ctx context.Context, p Payment) (PayOutcome, error) {
	var out PayOutcome
	err := o.db.Transact(ctx, func(tx *models.Tx) error {
		var err error
		out, err = recordPayment(tx, p)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record payment %s of order %q: %w", p.TradeID, p.OrderID, err)
	}
	return out, nil
}

func recordPayment(tx *models.Tx, p Payment) (PayOutcome, error) {
	st, err := lockOrder(tx, p.OrderID)
	if err != nil {
		return 0, err
	}
	if st.PayMethod != models.PayOnline {
		return 0, fmt.Errorf("%w: paid on delivery", ErrPaymentMismatch)
	}
	if !p.Amount.Equal(st.TotalAmount) {
		return 0, fmt.Errorf("%w: paid %s, the order is %s", ErrPaymentMismatch, p.Amount.StringFixed(2), st.TotalAmount.StringFixed(2))
	}
	var seen []models.Payment
	if err := tx.Where("order_id = ?", p.OrderID).Find(&seen).Error; err != nil {
		return 0, fmt.Errorf("read payments: %w", err)
	}
	if len(seen) > 0 {
		switch {
		case seen[0].TradeID != p.TradeID:
			return 0, fmt.Errorf("%w: paid already by trade %s", ErrPaymentMismatch, seen[0].TradeID)
		case seen[0].ToRefund:
			return ToRefund, nil
		}
		return PaidBefore, nil
	}
	pay := models.Payment{CreateTime: tx.Now, OrderID: p.OrderID, TradeID: p.TradeID, Amount: p.Amount}
	out := PaidNow
	switch st.Status {
	case models.StatusUnpaid:
		if _, err := move(tx, p.OrderID, 0, models.StatusUnsend, nil, WhyPaid, models.StatusUnpaid); err != nil {
			return 0, err
		}
	case models.StatusCanceled:
		pay.ToRefund, out = true, ToRefund
	default:
		return 0, fmt.Errorf("%w (status %d, no payment recorded)", models.ErrWrongStatus, st.Status)
	}
	if err := tx.Create(&pay).Error; err != nil {
		return 0, fmt.Errorf("insert payment: %w", models.Translate(err))
	}
	return out, nil
}

// Payments returns the payments recorded for an order (at most one).
func (o *Orders) Payments(ctx context.Context, orderID string) ([]models.Payment, error) {
	var out []models.Payment
	if err := o.db.Gorm().WithContext(ctx).Where("order_id = ?", orderID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("payments of order %q: %w", orderID, err)
	}
	return out, nil
}

// Events returns an order's status changes, oldest first.
func (o *Orders) Events(ctx context.Context, orderID string) ([]models.OrderEvent, error) {
	var out []models.OrderEvent
	if err := o.db.Gorm().WithContext(ctx).Where("order_id = ?", orderID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("events of order %q: %w", orderID, err)
	}
	return out, nil
}
