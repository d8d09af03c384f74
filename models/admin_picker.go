package models

import (
	"context"
	"fmt"

	"github.com/shopspring/decimal"
)

// SKUChoice is a SKU as a staff picker lists it.
type SKUChoice struct {
	ID    int64
	Name  string
	Price decimal.Decimal
	Stock int
}

// MaxSKUChoices bounds a picker's list.
const MaxSKUChoices = 2000

// SKUChoices returns the launched SKUs that have stock, by name, for the
// staff pages that pick one (the flash-sale form): at most MaxSKUChoices.
func (s *Admin) SKUChoices(ctx context.Context) ([]SKUChoice, error) {
	var out []SKUChoice
	err := s.db.WithContext(ctx).Model(&SKU{}).Select("id, name, price, stock").
		Where("is_launched = ? AND stock > 0", true).Order("name, id").Limit(MaxSKUChoices).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("sku choices: %w", err)
	}
	return out, nil
}
