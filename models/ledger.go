package models

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// Reasons for a stock change, as the ledger records them.
const (
	ReasonInitial      = "initial"       // a SKU's first stock
	ReasonSale         = "sale"          // an order took it
	ReasonCancel       = "cancel"        // a canceled order gave it back
	ReasonAdjust       = "adjust"        // staff changed it by hand
	ReasonSeckillOpen  = "seckill_open"  // moved into a flash sale
	ReasonSeckillClose = "seckill_close" // unsold flash-sale stock came back
)

// LedgerEntry is one change to a SKU's stock (tb_stock_ledger). For every
// SKU, the current stock equals the sum of its entries' deltas.
type LedgerEntry struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	SKUID      int64  `gorm:"column:sku_id"`
	Delta      int    // negative when stock left
	StockAfter int    // the SKU's stock right after this change
	Reason     string // one of the Reason constants
	UserID     *int64 // who: the buyer for a sale, the staff member for an adjustment
	OrderID    *string
	Note       string
}

func (LedgerEntry) TableName() string { return "tb_stock_ledger" }

// recordStock appends entries to the ledger inside tx, the transaction that
// changed the stock, so the two commit or roll back together.
func recordStock(tx *gorm.DB, entries ...LedgerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	for i := range entries {
		if entries[i].CreateTime.IsZero() {
			entries[i].CreateTime = now
		}
	}
	if err := tx.Create(&entries).Error; err != nil {
		return fmt.Errorf("write stock ledger: %w", err)
	}
	return nil
}

// LedgerMismatches returns the SKUs whose stock differs from the sum of
// their ledger deltas, mapped to that sum. Empty means the ledger holds.
func (s *Store) LedgerMismatches(ctx context.Context) (map[int64]int, error) {
	var rows []struct {
		ID    int64
		Stock int
		Total int
	}
	err := s.db.WithContext(ctx).Raw(`SELECT k.id AS id, k.stock AS stock, COALESCE(SUM(l.delta), 0) AS total
		FROM tb_sku k LEFT JOIN tb_stock_ledger l ON l.sku_id = k.id
		GROUP BY k.id, k.stock HAVING k.stock <> COALESCE(SUM(l.delta), 0)`).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("check stock ledger: %w", err)
	}
	out := map[int64]int{}
	for _, r := range rows {
		out[r.ID] = r.Total
	}
	return out, nil
}

// recordInitialStock writes the first ledger entry of new SKUs.
func recordInitialStock(tx *gorm.DB, skus []SKU) error {
	entries := make([]LedgerEntry, len(skus))
	for i, k := range skus {
		entries[i] = LedgerEntry{SKUID: k.ID, Delta: k.Stock, StockAfter: k.Stock, Reason: ReasonInitial}
	}
	return recordStock(tx, entries...)
}
