package models

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// ChartDays is how many days the admin dashboard's charts cover.
const ChartDays = 30

// DayFigures is one day of the dashboard's charts.
type DayFigures struct {
	Start    time.Time       // the day's first instant
	Orders   int64           // orders placed, canceled ones left out
	Revenue  decimal.Decimal // their total_amount, freight included
	NewUsers int64           // users who signed up
}

// CategoryUnits is how many units of one category's SKUs were sold.
type CategoryUnits struct {
	CategoryID int64
	Name       string
	Units      int64
}

// Charts is what the dashboard draws.
type Charts struct {
	Days       []DayFigures    // oldest first
	Categories []CategoryUnits // most units first, at most MaxChartCategories
}

// MaxChartCategories bounds the categories chart.
const MaxChartCategories = 8

// Charts returns the figures of days consecutive days, the first starting
// at from, and the units sold per category over them; canceled orders
// count nowhere. A day is 24 hours: the shop's zone, UTC+8, keeps no
// daylight saving time.
//
// Each day is a pair of bounds in one scan (COUNT and SUM over CASE), so
// the same SQL runs on every dialect, without date functions that differ.
func (s *Admin) Charts(ctx context.Context, from time.Time, days int) (*Charts, error) {
	db := s.db.WithContext(ctx)
	from = from.UTC()
	to := from.Add(time.Duration(days) * 24 * time.Hour)
	c := &Charts{Days: make([]DayFigures, days)}
	var orderCols, userCols []string
	var orderArgs, userArgs []any
	for i := range c.Days {
		lo := from.Add(time.Duration(i) * 24 * time.Hour)
		hi := lo.Add(24 * time.Hour)
		c.Days[i] = DayFigures{Start: lo, Revenue: decimal.Zero}
		orderCols = append(orderCols,
			"COUNT(CASE WHEN create_time >= ? AND create_time < ? THEN 1 END)",
			"SUM(CASE WHEN create_time >= ? AND create_time < ? THEN total_amount END)")
		orderArgs = append(orderArgs, lo, hi, lo, hi)
		userCols = append(userCols, "COUNT(CASE WHEN date_joined >= ? AND date_joined < ? THEN 1 END)")
		userArgs = append(userArgs, lo, hi)
	}

	orders := make([]sql.NullInt64, days)
	revenue := make([]decimal.NullDecimal, days)
	dest := make([]any, 0, 2*days)
	for i := range days {
		dest = append(dest, &orders[i], &revenue[i])
	}
	row := db.Model(&Order{}).Select(strings.Join(orderCols, ", "), orderArgs...).
		Where("create_time >= ? AND create_time < ? AND status <> ?", from, to, StatusCanceled).Row()
	if err := row.Scan(dest...); err != nil {
		return nil, fmt.Errorf("dashboard orders per day: %w", err)
	}
	users := make([]sql.NullInt64, days)
	dest = dest[:0]
	for i := range days {
		dest = append(dest, &users[i])
	}
	row = db.Model(&User{}).Select(strings.Join(userCols, ", "), userArgs...).
		Where("date_joined >= ? AND date_joined < ?", from, to).Row()
	if err := row.Scan(dest...); err != nil {
		return nil, fmt.Errorf("dashboard sign-ups per day: %w", err)
	}
	for i := range c.Days {
		c.Days[i].Orders, c.Days[i].NewUsers = orders[i].Int64, users[i].Int64
		if revenue[i].Valid {
			c.Days[i].Revenue = revenue[i].Decimal
		}
	}

	err := db.Table("tb_order_goods AS g").
		Select("c.id AS category_id, c.name AS name, SUM(g.count) AS units").
		Joins("JOIN tb_order_info o ON o.order_id = g.order_id").
		Joins("JOIN tb_sku s ON s.id = g.sku_id").
		Joins("JOIN tb_goods_category c ON c.id = s.category_id").
		Where("o.create_time >= ? AND o.create_time < ? AND o.status <> ?", from, to, StatusCanceled).
		Group("c.id, c.name").Order("units DESC, c.id").Limit(MaxChartCategories).
		Scan(&c.Categories).Error
	if err != nil {
		return nil, fmt.Errorf("dashboard units per category: %w", err)
	}
	return c, nil
}
