package models

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// SKUImage is one picture of a SKU's gallery (tb_sku_image), shown in
// Sequence order, ties by id.
type SKUImage struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	UpdateTime time.Time
	SKUID      int64 `gorm:"column:sku_id"`
	Image      string
	Sequence   int
}

func (SKUImage) TableName() string { return "tb_sku_image" }

// MaxGallery is how many pictures one SKU's gallery holds at most.
const MaxGallery = 12

// Gallery returns a SKU's pictures in order; a SKU without any has an
// empty gallery (its page shows its default image).
func (s *Catalog) Gallery(ctx context.Context, skuID int64) ([]SKUImage, error) {
	var out []SKUImage
	if err := s.db.WithContext(ctx).Where("sku_id = ?", skuID).Order("sequence, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("gallery of sku %d: %w", skuID, err)
	}
	return out, nil
}

// AddGalleryImage puts the picture at path last in the SKU's gallery.
// Returns ErrNotFound if the SKU does not exist, ErrInvalid for a path
// that is not this site's own (LocalImage), and ErrTooMany when the
// gallery already holds MaxGallery pictures.
func (s *Admin) AddGalleryImage(ctx context.Context, skuID int64, path string) (*SKUImage, error) {
	if !LocalImage(path) {
		return nil, fmt.Errorf("gallery of sku %d: %w: image path %q is not this site's own", skuID, ErrInvalid, path)
	}
	var img SKUImage
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		var k SKU
		if err := tx.Select("id").First(&k, skuID).Error; err != nil {
			return translate(err)
		}
		var have []SKUImage
		if err := tx.Where("sku_id = ?", skuID).Order("sequence, id").Find(&have).Error; err != nil {
			return err
		}
		if len(have) >= MaxGallery {
			return ErrTooMany
		}
		next := 1
		if len(have) > 0 {
			next = have[len(have)-1].Sequence + 1
		}
		img = SKUImage{CreateTime: tx.Now, UpdateTime: tx.Now, SKUID: skuID, Image: path, Sequence: next}
		return tx.Create(&img).Error
	})
	if err != nil {
		return nil, fmt.Errorf("add to the gallery of sku %d: %w", skuID, err)
	}
	return &img, nil
}

// RemoveGalleryImage takes a picture out of a SKU's gallery and returns
// it (the caller may delete its file). Returns ErrNotFound if the SKU has
// no such picture.
func (s *Admin) RemoveGalleryImage(ctx context.Context, skuID, imageID int64) (*SKUImage, error) {
	var img SKUImage
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		if err := tx.Where("sku_id = ?", skuID).First(&img, imageID).Error; err != nil {
			return translate(err)
		}
		res := tx.Where("id = ? AND sku_id = ?", imageID, skuID).Delete(&SKUImage{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return ErrNotFound
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("remove image %d of sku %d: %w", imageID, skuID, err)
	}
	return &img, nil
}

// MoveGalleryImage moves a picture one place earlier (by < 0) or later
// (by > 0) in the SKU's gallery and numbers the gallery 1, 2, 3... again.
// Moving the first earlier or the last later changes nothing. Returns
// ErrNotFound if the SKU has no such picture.
func (s *Admin) MoveGalleryImage(ctx context.Context, skuID, imageID int64, by int) error {
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		var have []SKUImage
		if err := tx.Where("sku_id = ?", skuID).Order("sequence, id").Find(&have).Error; err != nil {
			return err
		}
		at := -1
		for i, img := range have {
			if img.ID == imageID {
				at = i
			}
		}
		if at < 0 {
			return ErrNotFound
		}
		to := at
		switch {
		case by < 0 && at > 0:
			to = at - 1
		case by > 0 && at < len(have)-1:
			to = at + 1
		}
		have[at], have[to] = have[to], have[at]
		for i, img := range have {
			if img.Sequence == i+1 {
				continue
			}
			res := tx.Model(&SKUImage{}).Where("id = ?", img.ID).
				Updates(map[string]any{"sequence": i + 1, "update_time": tx.Now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return errors.New("gallery changed while being reordered")
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("move image %d of sku %d: %w", imageID, skuID, err)
	}
	return nil
}
