package templates

import (
	"time"

	"github.com/shopspring/decimal"
)

// SettlementView is the checkout page (/orders/settlement/).
type SettlementView struct {
	Page
	Addresses []AddressChoice
	Lines     []OrderLineView // the selected cart lines, at today's prices
	// Totals of the lines on sale.
	TotalCount int
	Goods      decimal.Decimal
	Freight    decimal.Decimal
	Payable    decimal.Decimal
	// Token is the one-time commit token: a second commit with it gets the
	// first one's order back instead of a second order.
	Token string
}

// AddressChoice is one delivery address to choose from.
type AddressChoice struct {
	ID       int64
	Receiver string
	Region   string // province, city, district and place
	Mobile   string
	Default  bool
	Checked  bool
}

// OrderLineView is one SKU of an order, or of the checkout.
type OrderLineView struct {
	SKUID    int64
	Name     string // empty when the SKU no longer exists
	Image    string
	Price    decimal.Decimal
	Count    int
	Amount   decimal.Decimal
	OnSale   bool // checkout only: a withdrawn SKU cannot be ordered
	Detailed bool // the SKU still exists, so its page can be linked
}

// CanCommit reports whether the page offers the commit button.
func (v SettlementView) CanCommit() bool {
	if len(v.Lines) == 0 || len(v.Addresses) == 0 {
		return false
	}
	for _, l := range v.Lines {
		if !l.OnSale {
			return false
		}
	}
	return true
}

// OrderSuccessView is the confirmation page (/orders/success/).
type OrderSuccessView struct {
	Page
	OrderID   string
	Amount    decimal.Decimal
	PayMethod int
	Status    int
}

// OrdersView is a page of the user's orders (/orders/info/<page>/).
type OrdersView struct {
	Page
	Tabs   []OrderTab
	Orders []OrderView
	Pager  Pager
}

// OrderView is one order in the list.
type OrderView struct {
	OrderID   string
	Created   time.Time
	Status    int
	PayMethod int
	Lines     []OrderLineView
	Count     int
	Freight   decimal.Decimal
	Total     decimal.Decimal // freight included
}

// chinaTime is Beijing time, in which the shop shows times.
var chinaTime = time.FixedZone("CST", 8*3600)

func orderTime(t time.Time) string { return t.In(chinaTime).Format("2006-01-02 15:04:05") }

func orderStatus(p Page, status int) string { return p.T("order.status." + itoa(status)) }

func payMethod(p Page, m int) string { return p.T("order.pay." + itoa(m)) }

func lineName(p Page, l OrderLineView) string {
	if l.Name == "" {
		return p.T("order.gone")
	}
	return l.Name
}
