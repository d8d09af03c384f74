package models

import (
	"context"
	"fmt"
)

// Area is one region of China (tb_areas): a province (no parent), a city
// or a district. Ids are the six-digit division codes (migration 00010).
type Area struct {
	ID       int64  `gorm:"primaryKey" json:"id"`
	Name     string `json:"name"`
	ParentID *int64 `json:"-"`
}

func (Area) TableName() string { return "tb_areas" }

// Areas is the regions of China, loaded by a migration and never changed
// at runtime.
type Areas struct{ handle }

// All returns every region, ordered by id (so each parent's children in
// code order).
func (s *Areas) All(ctx context.Context) ([]Area, error) {
	var out []Area
	if err := s.db.WithContext(ctx).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("areas: %w", err)
	}
	return out, nil
}
