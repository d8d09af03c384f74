package templates

import (
	"net/url"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Views of an order's life as its buyer sees it (detail, reviews) and of
// the user centre (info, browse history, password).

// OrderTab is one status tab of "my orders".
type OrderTab struct {
	Key     string // the ?status= value; "" is all orders
	Label   string // a catalog key
	Current bool
}

// Filtered reports whether the page shows one tab, not all orders.
func (v OrdersView) Filtered() bool {
	for _, t := range v.Tabs {
		if t.Current {
			return t.Key != ""
		}
	}
	return false
}

// URL is the tab's first page.
func (t OrderTab) URL() string { return OrdersURL(t.Key, 1) }

// OrdersURL is page n of "my orders" in the tab key ("" for all).
func OrdersURL(key string, n int) string {
	u := "/orders/info/" + itoa(n) + "/"
	if key != "" {
		u += "?" + url.Values{"status": {key}}.Encode()
	}
	return u
}

// OrderDetailURL is an order's detail page.
func OrderDetailURL(orderID string) string { return "/orders/detail/" + url.PathEscape(orderID) + "/" }

// ReviewURL is the page to review an order's lines.
func ReviewURL(orderID string) string {
	return "/orders/comment/?" + url.Values{"order_id": {orderID}}.Encode()
}

// OrderDetailView is an order's detail page (/orders/detail/<id>/).
type OrderDetailView struct {
	Page
	Order     OrderView
	Goods     decimal.Decimal // the lines' amounts, freight excluded
	Receiver  string
	Mobile    string
	Address   string
	Payment   *PaymentFact // nil: no payment recorded
	Timeline  []TimelineEntry
	CanReview bool
}

// PaymentFact is the payment recorded for an order, as its buyer sees it.
type PaymentFact struct {
	TradeID  string
	Time     time.Time
	Amount   decimal.Decimal
	ToRefund bool
	Refunded bool // to refund, and refunded
	Offline  bool // taken by staff outside Alipay: no trade number
}

// TimelineEntry is one step of an order's life: placed, paid, shipped, ...
type TimelineEntry struct {
	Time time.Time
	What string // a key of order.event.*: placed, paid, shipped, received, reviewed, canceled, expired, completed
	To   int    // the status it led to
	By   string // a key of order.by.*: you, staff, shop
}

// ReviewPageView is the page to review an order's lines
// (/orders/comment/?order_id=).
type ReviewPageView struct {
	Page
	OrderID  string
	Lines    []ReviewLineView // the lines still to review
	Reviewed int              // lines reviewed already
	MinLen   int
	MaxLen   int
}

// ReviewLineView is one line to review.
type ReviewLineView struct {
	SKUID int64
	Name  string
	Image string
	Price decimal.Decimal
	Count int
}

// SKUReviewsView is the page of a SKU's reviews its page shows.
type SKUReviewsView struct {
	Reviews []ReviewView
	Total   int64 // the SKU's reviews, on every page
	Pager   Pager // links keep the SKU page and jump to #reviews
}

// ReviewView is one review on a SKU's page.
type ReviewView struct {
	Username string // masked when anonymous
	Comment  string
	Score    int
}

// Stars is the score as five stars.
func (r ReviewView) Stars() string {
	n := min(max(r.Score, 0), 5)
	return strings.Repeat("★", n) + strings.Repeat("☆", 5-n)
}

// UserCenterView is the user centre (/info/).
type UserCenterView struct {
	Page
	Username string
	Mobile   string
	Email    string
	History  []Card // the browse history, newest first
	// HistoryDown: Redis did not answer, so the history is not shown.
	HistoryDown     bool
	PasswordChanged bool
}

// PasswordView is the password change page (/password/).
type PasswordView struct {
	Page
	Errors  map[string]string // field -> message, in the page's language
	Message string            // about the whole form
}
