package templates

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Admin sections, for the admin navigation's current link.
const (
	SectionHome    = "home"
	SectionSKUs    = "skus"
	SectionSPUs    = "spus"
	SectionLow     = "low"
	SectionLedger  = "ledger"
	SectionOrders  = "orders"
	SectionSeckill = "seckill"
	SectionRefunds = "refunds"
)

// Flash is the one-time message shown after a form was posted.
type Flash struct {
	Text  string
	Error bool
}

// AdminPage is what every admin page carries: the layout's Page, the
// current section and the flash message.
type AdminPage struct {
	Page
	Section string
	Flash   Flash
}

// Option is one choice of a <select>.
type Option struct {
	Value    string
	Label    string
	Selected bool
}

// AdminSKURow is a SKU in an admin list.
type AdminSKURow struct {
	ID        int64
	Name      string
	Price     decimal.Decimal
	Stock     int
	Sales     int
	Threshold int
	Launched  bool
}

// Low reports whether the SKU is at or below its threshold.
func (r AdminSKURow) Low() bool { return r.Stock <= r.Threshold }

// AdminDashboardView is /admin/.
type AdminDashboardView struct {
	AdminPage
	Orders   int64
	Canceled int64
	Revenue  decimal.Decimal
	Units    int64
	LowCount int64
	Low      []AdminSKURow
	Recent   []AdminOrderRow
	// The charts: orders, revenue and sign-ups a day; units per category;
	// the latest flash sales' sold against their stock.
	DayCharts  []BarChart
	Days       int // how many days the charts cover
	Categories []ShareBar
	Sales      []ShareBar
}

// AdminSKUsView is /admin/skus/ and /admin/stock/low/.
type AdminSKUsView struct {
	AdminPage
	Query      string
	Categories []Option
	Launched   []Option
	LowOnly    bool
	Rows       []AdminSKURow
	Total      int64
	Pager      Pager
}

// SKUForm is the SKU form's fields as typed.
type SKUForm struct {
	Name, Caption, SPU, Category, Price, Image, Threshold, Stock string
	Launched                                                     bool
}

// AdminSKUView is the SKU create and edit page; ID 0 is a new SKU.
type AdminSKUView struct {
	AdminPage
	ID         int64
	Form       SKUForm
	Errors     map[string]string // field name to message
	SPUs       []Option
	Categories []Option
	// Editing only: the stock as it is, and its latest ledger entries.
	Stock    int
	Sales    int
	Launched bool
	Ledger   []LedgerRowView
	Image    string // default_image as saved, not as typed in Form
	// Editing only, from the catalog: the brand, the SKU's options
	// (read-only) and its gallery in order.
	Brand   string
	Specs   []AdminSpecValue
	Gallery []AdminGalleryImage
}

// AdminSpecValue is a specification and the SKU's option for it.
type AdminSpecValue struct{ Name, Value string }

// SpecsText is the SKU's options as one line: "存储：128GB · 颜色：黑色".
func (v AdminSKUView) SpecsText() string {
	if len(v.Specs) == 0 {
		return v.T("admin.specs.none")
	}
	parts := make([]string, len(v.Specs))
	for i, s := range v.Specs {
		parts[i] = s.Name + v.T("order.colon") + s.Value
	}
	return strings.Join(parts, " · ")
}

// AdminGalleryImage is one picture of a SKU's gallery.
type AdminGalleryImage struct {
	ID  int64
	URL string
}

// AdminSPURow is an SPU in the admin list.
type AdminSPURow struct {
	ID       int64
	Name     string
	Category string
	Sales    int
	SKUs     int
}

// AdminSPUsView is /admin/spus/.
type AdminSPUsView struct {
	AdminPage
	Query      string
	Categories []Option
	Rows       []AdminSPURow
	Total      int64
	Pager      Pager
}

// SPUForm is the SPU form's fields as typed.
type SPUForm struct {
	Name, Category, Desc string
}

// AdminSPUView is the SPU create and edit page; ID 0 is a new SPU.
type AdminSPUView struct {
	AdminPage
	ID         int64
	Form       SPUForm
	Errors     map[string]string
	Categories []Option
}

// LedgerRowView is one stock ledger entry.
type LedgerRowView struct {
	ID      int64
	Time    time.Time
	SKUID   int64
	SKUName string
	Delta   int
	After   int
	Reason  string
	Who     string // empty: the shop itself
	OrderID string
	Note    string
}

// AdminLedgerView is /admin/ledger/.
type AdminLedgerView struct {
	AdminPage
	SKU     string // the filter as typed
	Reasons []Option
	Rows    []LedgerRowView
	Total   int64
	Pager   Pager
}

// AdminOrderRow is an order in an admin list.
type AdminOrderRow struct {
	OrderID   string
	Created   time.Time
	Buyer     string
	Count     int
	Total     decimal.Decimal
	Status    int
	PayMethod int
}

// AdminOrdersView is /admin/orders/.
type AdminOrdersView struct {
	AdminPage
	Statuses []Option
	User     string
	From, To string // yyyy-mm-dd as typed
	Rows     []AdminOrderRow
	Total    int64
	Pager    Pager
}

// AdminOrderView is one order's page for staff.
type AdminOrderView struct {
	AdminPage
	Order       OrderView
	Buyer       string
	Receiver    string
	Mobile      string
	Address     string
	CanCancel   bool
	CanShip     bool
	CanComplete bool
	CanMarkPaid bool // an unpaid online order: staff may record an offline payment
	Payments    []PaymentRow
	Events      []OrderEventRow // oldest first
}

func signed(n int) string {
	if n > 0 {
		return "+" + itoa(n)
	}
	return itoa(n)
}

func ledgerReason(p Page, r string) string { return p.T("admin.reason." + r) }

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
