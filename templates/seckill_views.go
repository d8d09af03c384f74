package templates

import (
	"time"

	"github.com/shopspring/decimal"
)

// Phases of a flash sale as its page shows it.
const (
	SalePhaseUpcoming = "upcoming"
	SalePhaseLive     = "live"
	SalePhaseSoldOut  = "soldout"
	SalePhaseEnded    = "ended"
)

// SeckillView is a flash sale's page (/seckill/<sku_id>/).
type SeckillView struct {
	Page
	SKU       Card // Price is the everyday price
	SalePrice decimal.Decimal
	Total     int // units the sale opened with
	Left      int // units left now
	PerUser   int
	Start     time.Time
	End       time.Time
	Now       time.Time // the server's clock, so the countdown ignores the browser's
	Phase     string    // one of the SalePhase constants
	Addresses []AddressChoice
	Freight   decimal.Decimal // what the order adds for delivery
	// Mine is the shopper's own result in this sale after a buy: "" (no
	// buy), SaleMineQueued, SaleMineCreated or SaleMineFailed; MineReason
	// says why it failed.
	Mine       string
	MineReason string
	// PayOrderID is the shopper's newest order of the sale awaiting
	// payment ("" for none): the result area offers to pay it.
	PayOrderID string
	// LimitReached: the shopper has bought all this sale allows one
	// buyer, so the button stays disabled whatever the phase.
	LimitReached bool
}

// The shopper's own result in a sale, as the page shows it after a reload.
const (
	SaleMineQueued  = "queued"
	SaleMineCreated = "created"
	SaleMineFailed  = "failed"
)

// Live reports whether the buy button is enabled.
func (v SeckillView) Live() bool { return v.Phase == SalePhaseLive && !v.LimitReached }

// Payable is what the order costs: the sale price and the freight.
func (v SeckillView) Payable() decimal.Decimal { return v.SalePrice.Add(v.Freight) }

// SaleForm is the staff form that opens a sale, as typed.
type SaleForm struct {
	SKUID, Stock, Price, PerUser, Start, End string
}

// SaleRow is a sale in the staff list.
type SaleRow struct {
	ID      int64
	SKUID   int64
	SKUName string
	Price   decimal.Decimal
	Stock   int
	PerUser int
	Start   time.Time
	End     time.Time
	Open    bool
	Phase   string // SalePhaseUpcoming, SalePhaseLive or SalePhaseEnded (SaleAdminPhase)
	InRedis bool
	Sold    int           // Redis's count while open; the orders once closed
	Queued  int           // accepted buys not yet in the database
	Oldest  time.Duration // how long the oldest of them has waited
}

// SeckillAdminView is the staff page of flash sales (/admin/seckill/).
type SeckillAdminView struct {
	AdminPage
	Sales   []SaleRow
	Form    SaleForm
	SKUs    []Option // the SKUs a sale may be opened for, by name; Form.SKUID selected
	Problem string   // why the form was refused
	Notice  string   // what the last action did
}

// SaleAdminPhase is a sale's phase as staff see it at now: upcoming before
// its start, live until its end, ended from its end on or once closed. (A
// sale still open past its end has ended for buyers; its close button
// stays, to give the unsold units back.)
func SaleAdminPhase(open bool, start, end, now time.Time) string {
	switch {
	case !open || !now.Before(end):
		return SalePhaseEnded
	case now.Before(start):
		return SalePhaseUpcoming
	default:
		return SalePhaseLive
	}
}

// saleTime shows a time in the shop's zone, UTC+8.
func saleTime(t time.Time) string {
	return t.In(time.FixedZone("CST", 8*3600)).Format("2006-01-02 15:04")
}

func unixMilli(t time.Time) string { return i64(t.UnixMilli()) }

func lagText(d time.Duration) string { return d.Round(time.Millisecond).String() }

// boolAttr writes a bool as a data-* attribute's value.
func boolAttr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
