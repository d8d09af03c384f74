package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Addresses is the users' address books.
type Addresses struct{ handle }

// MaxAddresses is how many live addresses a user may keep.
const MaxAddresses = 20

// Addresses returns the user's live (not deleted) addresses, oldest first.
func (s *Addresses) Addresses(ctx context.Context, uid int64) ([]Address, error) {
	var out []Address
	err := s.db.WithContext(ctx).Where("user_id = ? AND is_deleted = ?", uid, false).Order("id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("addresses of user %d: %w", uid, err)
	}
	return out, nil
}

// AddressOf returns the user's address id. Returns ErrNotFound if it does
// not exist, is deleted, or belongs to someone else.
func (s *Addresses) AddressOf(ctx context.Context, uid, id int64) (*Address, error) {
	var a Address
	err := s.db.WithContext(ctx).Where("id = ? AND user_id = ? AND is_deleted = ?", id, uid, false).First(&a).Error
	if err != nil {
		return nil, fmt.Errorf("address %d of user %d: %w", id, uid, translate(err))
	}
	return &a, nil
}

// AddressInput is what a user fills in for an address. Callers check the
// formats and lengths. An empty Title becomes the Receiver.
//
// The region is either picked, as ids of tb_areas (ProvinceID, CityID and
// DistrictID all set; the names are then taken from tb_areas), or typed as
// names only (all three ids zero), as API clients of the Django shop do.
type AddressInput struct {
	Title      string
	Receiver   string
	Province   string
	City       string
	District   string
	ProvinceID int64
	CityID     int64
	DistrictID int64
	Place      string
	Mobile     string
	Tel        string
	Email      string
}

// applyTo copies the input into a.
func (in AddressInput) applyTo(a *Address) {
	a.Title = in.Title
	if a.Title == "" {
		a.Title = in.Receiver
	}
	a.Receiver, a.Province, a.City, a.District = in.Receiver, in.Province, in.City, in.District
	a.ProvinceID, a.CityID, a.DistrictID = nil, nil, nil
	if in.DistrictID != 0 {
		a.ProvinceID, a.CityID, a.DistrictID = &in.ProvinceID, &in.CityID, &in.DistrictID
	}
	a.Place, a.Mobile, a.Tel, a.Email = in.Place, in.Mobile, in.Tel, in.Email
}

// resolveRegion checks that the input's district lies in its city and the
// city in its province, and fills in their names from tb_areas. Input
// without ids is left as typed. Returns ErrInvalid otherwise.
func resolveRegion(tx *gorm.DB, in *AddressInput) error {
	if in.ProvinceID == 0 && in.CityID == 0 && in.DistrictID == 0 {
		return nil
	}
	var rows []Area
	if err := tx.Where("id IN ?", []int64{in.ProvinceID, in.CityID, in.DistrictID}).Find(&rows).Error; err != nil {
		return err
	}
	byID := map[int64]Area{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	p, okP := byID[in.ProvinceID]
	c, okC := byID[in.CityID]
	d, okD := byID[in.DistrictID]
	switch {
	case !okP || p.ParentID != nil:
		return fmt.Errorf("%w: %d is not a province", ErrInvalid, in.ProvinceID)
	case !okC || c.ParentID == nil || *c.ParentID != p.ID:
		return fmt.Errorf("%w: %d is not a city of province %d", ErrInvalid, in.CityID, p.ID)
	case !okD || d.ParentID == nil || *d.ParentID != c.ID:
		return fmt.Errorf("%w: %d is not a district of city %d", ErrInvalid, in.DistrictID, c.ID)
	}
	in.Province, in.City, in.District = p.Name, c.Name, d.Name
	return nil
}

// CreateAddress adds an address to the user's book. While the user has no
// default address (so for the first one), the new one becomes the default.
// Returns ErrTooMany when the user already has MaxAddresses live addresses,
// even under concurrent calls, ErrInvalid for a region whose district is
// not in its city or city not in its province, and ErrNotFound for an
// unknown user.
func (s *Addresses) CreateAddress(ctx context.Context, uid int64, in AddressInput) (*Address, error) {
	var a Address
	err := s.withUserLocked(ctx, uid, func(tx *gorm.DB, u *User) error {
		var n int64
		if err := tx.Model(&Address{}).Where("user_id = ? AND is_deleted = ?", uid, false).Count(&n).Error; err != nil {
			return err
		}
		if n >= MaxAddresses {
			return ErrTooMany
		}
		if err := resolveRegion(tx, &in); err != nil {
			return err
		}
		now := s.db.NowFunc()
		a = Address{UserID: uid, CreateTime: now, UpdateTime: now}
		in.applyTo(&a)
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		if u.DefaultAddressID != nil {
			return nil
		}
		return tx.Model(&User{}).Where("id = ?", uid).Update("default_address_id", a.ID).Error
	})
	if err != nil {
		return nil, fmt.Errorf("add an address for user %d: %w", uid, err)
	}
	return &a, nil
}

// UpdateAddress replaces every field of the user's address id. Returns
// ErrNotFound if it does not exist, is deleted, or belongs to someone else,
// and ErrInvalid for a region as CreateAddress does.
func (s *Addresses) UpdateAddress(ctx context.Context, uid, id int64, in AddressInput) (*Address, error) {
	var a Address
	err := s.withUserLocked(ctx, uid, func(tx *gorm.DB, _ *User) error {
		if err := tx.Where("id = ? AND user_id = ? AND is_deleted = ?", id, uid, false).First(&a).Error; err != nil {
			return err
		}
		if err := resolveRegion(tx, &in); err != nil {
			return err
		}
		in.applyTo(&a)
		a.UpdateTime = s.db.NowFunc()
		return tx.Model(&a).Select("title", "receiver", "province", "city", "district",
			"province_id", "city_id", "district_id", "place", "mobile", "tel", "email", "update_time").Updates(&a).Error
	})
	if err != nil {
		return nil, fmt.Errorf("update address %d of user %d: %w", id, uid, err)
	}
	return &a, nil
}

// DeleteAddress marks the user's address id deleted (orders keep pointing
// at it). If it was the default, the oldest remaining address becomes the
// default, or none if there is none. Returns ErrNotFound if it does not
// exist, is already deleted, or belongs to someone else.
func (s *Addresses) DeleteAddress(ctx context.Context, uid, id int64) error {
	err := s.withUserLocked(ctx, uid, func(tx *gorm.DB, u *User) error {
		res := tx.Model(&Address{}).Where("id = ? AND user_id = ? AND is_deleted = ?", id, uid, false).
			Updates(map[string]any{"is_deleted": true, "update_time": s.db.NowFunc()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if u.DefaultAddressID == nil || *u.DefaultAddressID != id {
			return nil
		}
		var next *int64
		var other Address
		err := tx.Select("id").Where("user_id = ? AND is_deleted = ?", uid, false).Order("id").First(&other).Error
		switch {
		case err == nil:
			next = &other.ID
		case !errors.Is(err, gorm.ErrRecordNotFound):
			return err
		}
		return tx.Model(&User{}).Where("id = ?", uid).Update("default_address_id", next).Error
	})
	if err != nil {
		return fmt.Errorf("delete address %d of user %d: %w", id, uid, err)
	}
	return nil
}

// SetDefaultAddress makes the user's address id the default. Returns
// ErrNotFound if it does not exist, is deleted, or belongs to someone else.
func (s *Addresses) SetDefaultAddress(ctx context.Context, uid, id int64) error {
	err := s.withUserLocked(ctx, uid, func(tx *gorm.DB, _ *User) error {
		var a Address
		if err := tx.Select("id").Where("id = ? AND user_id = ? AND is_deleted = ?", id, uid, false).First(&a).Error; err != nil {
			return err
		}
		return tx.Model(&User{}).Where("id = ?", uid).Update("default_address_id", id).Error
	})
	if err != nil {
		return fmt.Errorf("make address %d the default of user %d: %w", id, uid, err)
	}
	return nil
}

// withUserLocked runs fn in a transaction holding the user's row lock, so
// that changes to one address book happen one at a time and the count of
// addresses cannot be outrun. SQLite drops FOR UPDATE, but there the
// transaction takes the database's write lock at BEGIN. MySQL runs at READ
// COMMITTED so that reads after the lock see what the previous holder
// committed. A deadlock (an order being written that references the
// address holds a lock on it) retries the whole transaction through
// Transact. fn's errors come back translated.
func (s *Addresses) withUserLocked(ctx context.Context, uid int64, fn func(tx *gorm.DB, u *User) error) error {
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		var u User
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).First(&u, uid).Error; err != nil {
			return err
		}
		return fn(tx.DB, &u)
	})
	return translate(err)
}

// AddressBook returns the user's live addresses, oldest first, and the id
// of the default one (nil when there is none), both read now.
func (s *Addresses) AddressBook(ctx context.Context, uid int64) ([]Address, *int64, error) {
	list, err := s.Addresses(ctx, uid)
	if err != nil {
		return nil, nil, err
	}
	var u struct{ DefaultAddressID *int64 }
	err = s.db.WithContext(ctx).Model(&User{}).Select("default_address_id").Where("id = ?", uid).Take(&u).Error
	if err != nil {
		return nil, nil, fmt.Errorf("default address of user %d: %w", uid, translate(err))
	}
	return list, u.DefaultAddressID, nil
}
