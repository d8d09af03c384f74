package templates

import (
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// BarChart is a column chart drawn on the server as inline SVG, one
// column a day: readable without JavaScript, and every column carries
// its day and value in a <title>.
type BarChart struct {
	ID      string // for data-testid and aria ids
	Title   string
	Summary string // the total, in words, for the caption
	Bars    []Bar
}

// Bar is one column: its label (a day), its value for the height, and the
// value as shown.
type Bar struct {
	Label string
	Value float64
	Text  string
}

// ShareBar is one row of a horizontal bar list (units per category, a
// sale's sold against its stock): Value out of Max.
type ShareBar struct {
	Label string
	Value float64
	Max   float64
	Text  string
}

// Percent is the bar's length out of 100.
func (b ShareBar) Percent() string {
	if b.Max <= 0 {
		return "0"
	}
	return svgNum(max(0, min(100, 100*b.Value/b.Max)))
}

// The SVG's coordinate system: columns are drawn in a chartW × chartH box
// that CSS stretches to the card's width (so the labels are HTML, which
// does not stretch).
const (
	chartW   = 600.0
	chartH   = 160.0
	chartPad = 8.0 // room above the tallest column
)

// column is one drawn column.
type column struct {
	X, Y, W, H string
	Bar
}

func svgNum(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }

// ViewBox is the SVG's viewBox.
func (c BarChart) ViewBox() string {
	return "0 0 " + svgNum(chartW) + " " + svgNum(chartH)
}

// Max is the highest value, which the tallest column reaches.
func (c BarChart) Max() float64 {
	m := 0.0
	for _, b := range c.Bars {
		m = max(m, b.Value)
	}
	return m
}

// MaxText is the highest value as shown.
func (c BarChart) MaxText() string {
	m, text := 0.0, "0"
	for _, b := range c.Bars {
		if b.Value > m {
			m, text = b.Value, b.Text
		}
	}
	return text
}

// AxisY is where the columns stand.
func (c BarChart) AxisY() string { return svgNum(chartH) }

// Columns lays the bars out; a zero value still shows a 1-unit stub so
// that every day has a mark.
func (c BarChart) Columns() []column {
	n := len(c.Bars)
	if n == 0 {
		return nil
	}
	slot := chartW / float64(n)
	w := slot * 0.7
	m := c.Max()
	out := make([]column, n)
	for i, b := range c.Bars {
		h := 1.0
		if m > 0 {
			h = max(1, (chartH-chartPad)*b.Value/m)
		}
		x := float64(i)*slot + (slot-w)/2
		out[i] = column{X: svgNum(x), Y: svgNum(chartH - h), W: svgNum(w), H: svgNum(h), Bar: b}
	}
	return out
}

// AxisLabels are the first, middle and last columns' labels, spread under
// the chart.
func (c BarChart) AxisLabels() []string {
	n := len(c.Bars)
	if n == 0 {
		return nil
	}
	return []string{c.Bars[0].Label, c.Bars[n/2].Label, c.Bars[n-1].Label}
}

// DayLabel is a day as the charts label it: month and day, in the shop's
// zone.
func DayLabel(t time.Time) string { return t.In(chinaTime).Format("01-02") }

// Yuan is a money amount as a chart value.
func Yuan(d decimal.Decimal) float64 {
	f, _ := d.Float64()
	return f
}
