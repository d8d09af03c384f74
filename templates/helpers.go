package templates

import (
	"strconv"

	"github.com/shopspring/decimal"
)

func itoa(n int) string { return strconv.Itoa(n) }

func i64(n int64) string { return strconv.FormatInt(n, 10) }

// money formats an exact amount with two decimals.
func money(d decimal.Decimal) string { return "¥" + d.StringFixed(2) }

func otherLangCode(l Lang) string {
	if l == English {
		return "zh-CN"
	}
	return "en"
}
