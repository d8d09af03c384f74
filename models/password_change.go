package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// ChangePassword is a user changing their own password: when old is the
// password now, it is replaced by a hash of password and the user's
// session generation moves on, so every session of the user ends. The
// write is conditional on the hash that old was checked against, so of
// two changes racing with the same old password one wins and the other
// gets ErrBadCredential. Callers check the password rules. It returns the
// user as now stored, for the caller to open its own session again.
//
// Returns ErrBadCredential if old is wrong (or the password changed
// meanwhile), ErrNotFound if there is no such user.
func (s *Accounts) ChangePassword(ctx context.Context, id int64, old, password string) (*User, error) {
	u, err := s.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("change password: %w", err)
	}
	ok, _, err := s.checkPassword(ctx, old, u.Password)
	if err != nil {
		return nil, fmt.Errorf("change password of user %d: %w", id, err)
	}
	if !ok {
		return nil, fmt.Errorf("change password of user %d: %w", id, ErrBadCredential)
	}
	hash, err := s.HashPassword(ctx, password)
	if err != nil {
		return nil, fmt.Errorf("change password of user %d: %w", id, err)
	}
	err = s.pool.Transact(ctx, func(tx *Tx) error {
		res := tx.Model(&User{}).Where("id = ? AND password = ?", id, u.Password).
			Updates(map[string]any{"password": hash, "session_generation": gorm.Expr("session_generation + 1")})
		if res.Error == nil && res.RowsAffected == 0 {
			if tx.Unsure {
				// The last try's COMMIT lost its answer: it may have
				// changed the password already.
				var n int64
				if err := tx.Model(&User{}).Where("id = ? AND password = ?", id, hash).Count(&n).Error; err != nil || n == 1 {
					return err
				}
			}
			return ErrBadCredential
		}
		return res.Error
	})
	if err != nil {
		return nil, fmt.Errorf("change password of user %d: %w", id, translate(err))
	}
	return s.UserByID(ctx, id)
}
