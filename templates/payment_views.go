package templates

import (
	"time"

	"github.com/shopspring/decimal"
)

// PaymentOutcome is what the payment result page says.
type PaymentOutcome int

const (
	// PaymentInvalid: the return could not be verified or did not match
	// the order.
	PaymentInvalid PaymentOutcome = iota
	// PaymentPaid: the order is paid.
	PaymentPaid
	// PaymentRefund: the order was canceled first; the payment is to be
	// refunded.
	PaymentRefund
)

// PaymentResultView is the page Alipay sends the buyer back to
// (/payment/status/).
type PaymentResultView struct {
	Page
	Outcome PaymentOutcome
	OrderID string // empty when the return could not be read
	Amount  string // yuan with two decimals, as Alipay sent it
}

// PaymentRow is a payment recorded for an order, as staff see it.
type PaymentRow struct {
	Time       time.Time
	TradeID    string // empty for an offline payment
	Offline    bool
	Amount     decimal.Decimal
	ToRefund   bool      // came for (or stayed on) a canceled order: refund it
	RefundedAt time.Time // zero while it waits
}

// OrderEventRow is one status change of an order.
type OrderEventRow struct {
	Time time.Time
	From int // 0: placed
	To   int
	Who  string // a username; empty: the shop
	Why  string
	Note string // staff's reason, if any
}

// AdminRefundsView is the staff's list of payments to refund.
type AdminRefundsView struct {
	AdminPage
	Waiting []RefundRow // oldest first
	Done    []RefundRow // the latest refunded, newest first
}

// RefundRow is one payment to refund.
type RefundRow struct {
	OrderID    string
	TradeID    string // empty for an offline payment
	Offline    bool
	Amount     decimal.Decimal
	PaidAt     time.Time
	RefundedAt time.Time // zero while it waits
	RefundedBy string
}

// DevGatewayView is the development gateway's cashier page.
type DevGatewayView struct {
	Page
	OrderID string
	Amount  string // yuan with two decimals
	Subject string
	// Request is the signed page-pay query, posted back on pay.
	Request string
}
