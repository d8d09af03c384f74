package templates

import "github.com/shopspring/decimal"

// CartView is the cart page.
type CartView struct {
	Page
	Lines []CartLine
	// Totals of the selected lines that are on sale.
	SelectedCount  int
	SelectedAmount decimal.Decimal
	// AllSelected: every line on sale is selected (and there is one).
	AllSelected bool
	MaxCount    int
}

// CartLine is one line of the cart page. A line whose SKU was withdrawn
// or deleted is not Available: it is shown, but not counted.
type CartLine struct {
	SKUID     int64
	Name      string // empty when the SKU no longer exists
	Image     string
	Price     decimal.Decimal
	Count     int
	Amount    decimal.Decimal
	Selected  bool
	Available bool
}

// AnySelected reports whether checkout has something to settle.
func (v CartView) AnySelected() bool { return v.SelectedCount > 0 }

// AnyAvailable reports whether a line can be selected at all.
func (v CartView) AnyAvailable() bool {
	for _, l := range v.Lines {
		if l.Available {
			return true
		}
	}
	return false
}

// cartLineName names a line for labels, even when its SKU is gone.
func cartLineName(v CartView, l CartLine) string {
	if l.Name == "" {
		return v.T("cart.gone")
	}
	return l.Name
}

func cartFlag(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
