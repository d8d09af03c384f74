package models

import (
	"time"

	"github.com/shopspring/decimal"
)

// Payment is a payment Alipay confirmed for an order (tb_payment): at most
// one an order. ToRefund marks one that came for an order already
// canceled: recorded, not applied, for staff to refund.
type Payment struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	OrderID    string
	TradeID    string
	Amount     decimal.Decimal
	ToRefund   bool
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
}

func (OrderEvent) TableName() string { return "tb_order_event" }
