package models

import (
	"context"
	"fmt"
)

// LedgerFilter selects stock ledger entries. Zero fields select all.
type LedgerFilter struct {
	SKUID  int64
	Reason string // one of the Reason constants
}

// LedgerRow is a ledger entry with the names that the history shows.
type LedgerRow struct {
	LedgerEntry
	SKUName  string // empty if the SKU is gone
	Username string // empty when the shop itself made the change
}

// Ledger returns one page of ledger entries, newest first. Returns
// ErrInvalid for an unknown reason, ErrNotFound for a page past the last.
func (s *Ledger) Ledger(ctx context.Context, f LedgerFilter, number int) ([]LedgerRow, AdminPage, error) {
	q := s.db.WithContext(ctx).Table("tb_stock_ledger AS l")
	if f.SKUID > 0 {
		q = q.Where("l.sku_id = ?", f.SKUID)
	}
	if f.Reason != "" {
		if !knownReason(f.Reason) {
			return nil, AdminPage{}, fmt.Errorf("stock ledger: %w: reason %q", ErrInvalid, f.Reason)
		}
		q = q.Where("l.reason = ?", f.Reason)
	}
	pg, err := pageOf(q, number)
	if err != nil {
		return nil, AdminPage{}, fmt.Errorf("stock ledger: %w", err)
	}
	var out []LedgerRow
	err = q.Select("l.*, COALESCE(k.name, '') AS sku_name, COALESCE(u.username, '') AS username").
		Joins("LEFT JOIN tb_sku k ON k.id = l.sku_id").Joins("LEFT JOIN tb_users u ON u.id = l.user_id").
		Order("l.id DESC").Offset(pg.offset()).Limit(AdminPageSize).Scan(&out).Error
	if err != nil {
		return nil, AdminPage{}, fmt.Errorf("stock ledger: %w", err)
	}
	return out, pg, nil
}

// Reasons lists the ledger's reasons, for the history's filter.
func Reasons() []string {
	return []string{ReasonInitial, ReasonSale, ReasonCancel, ReasonAdjust, ReasonSeckillOpen, ReasonSeckillClose}
}

func knownReason(r string) bool {
	for _, k := range Reasons() {
		if k == r {
			return true
		}
	}
	return false
}
