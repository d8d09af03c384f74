package models

import (
	"time"

	"github.com/shopspring/decimal"
)

// Payment is a payment Alipay confirmed for an order, or staff recorded
// by hand (Offline, with no TradeID) (tb_payment): at most one an order.
// ToRefund marks one that came for an order already canceled, or stayed
// on an order canceled after it: recorded, not applied, for staff to
// refund; RefundTime and RefundUserID say when and by whom it was.
type Payment struct {
	ID           int64 `gorm:"primaryKey"`
	CreateTime   time.Time
	OrderID      string
	TradeID      string
	Amount       decimal.Decimal
	ToRefund     bool
	Offline      bool
	RefundTime   *time.Time
	RefundUserID *int64
}

func (Payment) TableName() string { return "tb_payment" }

// OrderEvent is one change of an order's status (tb_order_event). From is
// nil when the order was placed; UserID is the shopper or staff member who
// made the change, nil when the shop did (an expiry, a payment).
type OrderEvent struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	OrderID    string
	FromStatus *int
	ToStatus   int
	UserID     *int64
	Why        string
	Note       string // staff's reason, if they gave one
}

func (OrderEvent) TableName() string { return "tb_order_event" }
