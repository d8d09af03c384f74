package models

import (
	"context"
	"fmt"
)

// SKUByID returns one SKU, launched or not. Returns ErrNotFound.
func (s *Store) SKUByID(ctx context.Context, id int64) (*SKU, error) {
	var k SKU
	if err := s.db.WithContext(ctx).First(&k, id).Error; err != nil {
		return nil, fmt.Errorf("sku %d: %w", id, translate(err))
	}
	return &k, nil
}

// SKUsByIDs returns the SKUs with these ids, in ascending id order; ids that
// do not exist are simply missing from the result.
func (s *Store) SKUsByIDs(ctx context.Context, ids []int64) ([]SKU, error) {
	var out []SKU
	if len(ids) == 0 {
		return out, nil
	}
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("skus %v: %w", ids, err)
	}
	return out, nil
}
