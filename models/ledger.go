package models

import (
	"context"
	"fmt"
	"time"

	"github.com/meiduo/shop/migrations"
)

// Ledger is the stock ledger (tb_stock_ledger) as staff read it.
type Ledger struct{ handle }

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

// RecordStock appends entries to the ledger inside tx, the transaction that
// changed the stock, so the two commit or roll back together. An entry
// without a time gets tx.Now.
func RecordStock(tx *Tx, entries ...LedgerEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for i := range entries {
		if entries[i].CreateTime.IsZero() {
			entries[i].CreateTime = tx.Now
		}
	}
	if err := tx.Create(&entries).Error; err != nil {
		return fmt.Errorf("write stock ledger: %w", err)
	}
	return nil
}

// LedgerMismatches returns the SKUs whose stock differs from the sum of
// their ledger deltas, mapped to that sum. Empty means the ledger holds.
func (s *Ledger) LedgerMismatches(ctx context.Context) (map[int64]int, error) {
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

// RecordInitialStock writes the first ledger entry of new SKUs.
func RecordInitialStock(tx *Tx, skus []SKU) error {
	entries := make([]LedgerEntry, len(skus))
	for i, k := range skus {
		entries[i] = LedgerEntry{SKUID: k.ID, Delta: k.Stock, StockAfter: k.Stock, Reason: ReasonInitial}
	}
	return RecordStock(tx, entries...)
}

// AddStock adds delta to a SKU's stock where the result stays at or above
// zero (and sets extra, a "col = expr" with its argument, in the same
// statement), and returns the stock after it. The caller records the
// ledger entry in the same transaction. Returns ErrNotFound if the SKU
// does not exist and a *StockError if the stock would go below zero.
func AddStock(tx *Tx, sku int64, delta int, extra string, extraArg any) (int, error) {
	return addStock(tx, sku, delta, extra, extraArg, false)
}

// addStock is AddStock; capped also keeps the stock at or below MaxStock
// (in the same conditional write), else returns a *StockCapError.
func addStock(tx *Tx, sku int64, delta int, extra string, extraArg any, capped bool) (int, error) {
	set, args := "stock = stock + ?, update_time = ?", []any{delta, tx.Now}
	if extra != "" {
		set += ", " + extra
		args = append(args, extraArg)
	}
	q := "UPDATE tb_sku SET " + set + " WHERE id = ? AND stock + ? >= 0"
	args = append(args, sku, delta)
	if capped {
		q += " AND stock + ? <= ?"
		args = append(args, delta, MaxStock)
	}
	var after []int
	if tx.Dialect == migrations.MySQL {
		res := tx.Exec(q, args...)
		if res.Error != nil {
			return 0, fmt.Errorf("add %d to the stock of sku %d: %w", delta, sku, res.Error)
		}
		if res.RowsAffected == 1 {
			// The row is locked by this transaction now: this is its stock.
			after = []int{0}
			if err := tx.Raw("SELECT stock FROM tb_sku WHERE id = ?", sku).Scan(&after[0]).Error; err != nil {
				return 0, fmt.Errorf("stock of sku %d: %w", sku, err)
			}
		}
	} else if err := tx.Raw(q+" RETURNING stock", args...).Scan(&after).Error; err != nil {
		return 0, fmt.Errorf("add %d to the stock of sku %d: %w", delta, sku, err)
	}
	if len(after) == 1 {
		return after[0], nil
	}
	var k SKU
	if err := tx.Select("id", "name", "stock").Take(&k, sku).Error; err != nil {
		return 0, fmt.Errorf("sku %d: %w", sku, translate(err))
	}
	if capped && delta > 0 {
		return 0, &StockCapError{SKUID: k.ID, Room: max(MaxStock-k.Stock, 0)}
	}
	return 0, &StockError{SKUID: k.ID, Name: k.Name, Wanted: -delta, Left: k.Stock}
}

// StockCapError is an addition that would take a SKU's stock past
// MaxStock; Room is how much could still be added. errors.Is(err,
// ErrInvalid) holds.
type StockCapError struct {
	SKUID int64
	Room  int
}

func (e *StockCapError) Error() string {
	return fmt.Sprintf("sku %d: at most %d more fits under %d: %v", e.SKUID, e.Room, MaxStock, ErrInvalid)
}

func (e *StockCapError) Unwrap() error { return ErrInvalid }
