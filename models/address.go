package models

import (
	"context"
	"fmt"
)

// Addresses returns the user's live (not deleted) addresses, oldest first.
func (s *Store) Addresses(ctx context.Context, uid int64) ([]Address, error) {
	var out []Address
	err := s.db.WithContext(ctx).Where("user_id = ? AND is_deleted = ?", uid, false).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("addresses of user %d: %w", uid, err)
	}
	return out, nil
}

// AddressOf returns the user's address id. Returns ErrNotFound if it does
// not exist, is deleted, or belongs to someone else.
func (s *Store) AddressOf(ctx context.Context, uid, id int64) (*Address, error) {
	var a Address
	err := s.db.WithContext(ctx).Where("id = ? AND user_id = ? AND is_deleted = ?", id, uid, false).First(&a).Error
	if err != nil {
		return nil, fmt.Errorf("address %d of user %d: %w", id, uid, translate(err))
	}
	return &a, nil
}
