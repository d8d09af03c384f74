package models

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/meiduo/shop/migrations"
)

// Accounts is the users: sign-up, login and their passwords.
type Accounts struct {
	handle
	// hashSlots bounds how many password hashes run at once (each takes
	// tens of MiB and a core), so a burst of sign-ups cannot exhaust memory.
	hashSlots chan struct{}
}

// UserByID returns the user with id. Returns ErrNotFound if there is none.
func (s *Accounts) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := s.db.WithContext(ctx).First(&u, id).Error; err != nil {
		return nil, fmt.Errorf("user %d: %w", id, translate(err))
	}
	return &u, nil
}

// NewUser is what CreateUser needs. Password is the plain text; only its
// hash is stored.
type NewUser struct {
	Username    string
	Password    string
	Mobile      string
	Email       string
	IsStaff     bool
	IsSuperuser bool
}

// CreateUser adds an active user with the password hashed. Callers check
// the formats; CreateUser only refuses an empty username or password, and
// a username with control characters or nothing visible (CheckText), with
// ErrInvalid. Returns ErrDuplicate if the username or the mobile is taken,
// also when two sign-ups race for the same one (the unique index decides).
func (s *Accounts) CreateUser(ctx context.Context, nu NewUser) (*User, error) {
	if nu.Username == "" || nu.Password == "" {
		return nil, fmt.Errorf("create user: %w: username and password are required", ErrInvalid)
	}
	if p := CheckText(nu.Username, false); p != "" {
		return nil, fmt.Errorf("create user: %w: the username %s", ErrInvalid, p.Text())
	}
	hash, err := s.HashPassword(ctx, nu.Password)
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", nu.Username, err)
	}
	u := &User{
		Username:    nu.Username,
		Password:    hash,
		Mobile:      nu.Mobile,
		Email:       nu.Email,
		IsStaff:     nu.IsStaff,
		IsSuperuser: nu.IsSuperuser,
		IsActive:    true,
		DateJoined:  s.db.NowFunc(),
	}
	err = s.pool.Transact(ctx, func(tx *Tx) error {
		if tx.Unsure {
			// The last try's COMMIT lost its answer: it may have made u.
			var made []User
			if err := tx.Where("username = ? AND password = ?", u.Username, u.Password).Limit(1).Find(&made).Error; err != nil || len(made) == 1 {
				if len(made) == 1 {
					*u = made[0]
				}
				return err
			}
		}
		u.ID = 0
		return tx.Create(u).Error
	})
	if err != nil {
		return nil, fmt.Errorf("create user %q: %w", nu.Username, translate(err))
	}
	return u, nil
}

// UsernameTaken reports whether a user already has this username, in any
// case.
func (s *Accounts) UsernameTaken(ctx context.Context, username string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&User{}).Where(s.usernameIs(), username).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look up username %q: %w", username, err)
	}
	return n > 0, nil
}

// usernameIs compares the username without regard to case, the way the
// unique index does (migration 00008): LOWER(username), indexed, on
// PostgreSQL and SQLite; the column's case-insensitive collation on
// MySQL/MariaDB.
func (s *Accounts) usernameIs() string {
	if s.dialect == migrations.MySQL {
		return "username = ?"
	}
	return "LOWER(username) = LOWER(?)"
}

// MobileTaken reports whether a user already has this mobile number.
func (s *Accounts) MobileTaken(ctx context.Context, mobile string) (bool, error) {
	return s.userExists(ctx, "mobile", mobile)
}

func (s *Accounts) userExists(ctx context.Context, column, value string) (bool, error) {
	var n int64
	if err := s.db.WithContext(ctx).Model(&User{}).Where(column+" = ?", value).Count(&n).Error; err != nil {
		return false, fmt.Errorf("look up %s %q: %w", column, value, err)
	}
	return n > 0, nil
}

// Authenticate checks a login, which is a username or a mobile number, and
// its password. On success it records the login time and, when the stored
// hash uses an old algorithm or cost (a Django pbkdf2_sha256 hash, say),
// replaces it with a fresh argon2id hash; the returned user carries the
// hash now stored. Returns ErrBadCredential for an unknown login, a wrong
// password or an inactive user alike, and spends a hash's time on an
// unknown login too, so that timing does not tell which names exist.
func (s *Accounts) Authenticate(ctx context.Context, login, password string) (*User, error) {
	u, err := s.userByLogin(ctx, login)
	if errors.Is(err, ErrNotFound) {
		if _, err := s.HashPassword(ctx, password); err != nil {
			return nil, fmt.Errorf("log in %q: %w", login, err)
		}
		return nil, fmt.Errorf("log in %q: %w", login, ErrBadCredential)
	}
	if err != nil {
		return nil, err
	}
	ok, stale, err := s.checkPassword(ctx, password, u.Password)
	if err != nil {
		return nil, fmt.Errorf("log in %q: %w", login, err)
	}
	if !ok || !u.IsActive {
		return nil, fmt.Errorf("log in %q: %w", login, ErrBadCredential)
	}
	now := s.db.NowFunc()
	set := map[string]any{"last_login": now}
	if stale {
		fresh, err := s.HashPassword(ctx, password)
		if err != nil {
			return nil, fmt.Errorf("log in %q: %w", login, err)
		}
		set["password"] = fresh
		// Only over the hash just checked: when two logins upgrade at once,
		// the first one's hash stays and the second session must carry it.
		res := s.db.WithContext(ctx).Model(&User{}).Where("id = ? AND password = ?", u.ID, u.Password).Updates(set)
		if res.Error != nil {
			return nil, fmt.Errorf("log in %q: upgrade password hash: %w", login, res.Error)
		}
		if res.RowsAffected == 1 {
			u.Password, u.LastLogin = fresh, &now
			return u, nil
		}
		delete(set, "password")
		if u, err = s.UserByID(ctx, u.ID); err != nil {
			return nil, fmt.Errorf("log in %q: %w", login, err)
		}
		ok, _, err := s.checkPassword(ctx, password, u.Password)
		if err != nil {
			return nil, fmt.Errorf("log in %q: %w", login, err)
		}
		if !ok {
			return nil, fmt.Errorf("log in %q: password changed meanwhile: %w", login, ErrBadCredential)
		}
	}
	if err := s.db.WithContext(ctx).Model(&User{}).Where("id = ?", u.ID).Updates(set).Error; err != nil {
		return nil, fmt.Errorf("log in %q: record login time: %w", login, err)
	}
	u.LastLogin = &now
	return u, nil
}

// LoginAccount is the id of the user a login (a username or a mobile
// number) names, or 0 when it names none: what failed logins are counted
// against, so that the username and the mobile of one account count
// together.
func (s *Accounts) LoginAccount(ctx context.Context, login string) (int64, error) {
	u, err := s.userByLogin(ctx, login)
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

// UserByUsername finds a user by username, in any case. Returns
// ErrNotFound if there is none.
func (s *Accounts) UserByUsername(ctx context.Context, username string) (*User, error) {
	var u User
	if err := s.db.WithContext(ctx).Where(s.usernameIs(), username).First(&u).Error; err != nil {
		return nil, fmt.Errorf("user %q: %w", username, translate(err))
	}
	return &u, nil
}

// userByLogin finds a user by username (in any case), then by mobile
// number. The sign-up
// form refuses all-digit usernames, so the two cannot be confused.
func (s *Accounts) userByLogin(ctx context.Context, login string) (*User, error) {
	var u User
	err := s.db.WithContext(ctx).Where(s.usernameIs(), login).First(&u).Error
	if errors.Is(translate(err), ErrNotFound) {
		err = s.db.WithContext(ctx).Where("mobile = ?", login).First(&u).Error
	}
	if err != nil {
		return nil, fmt.Errorf("user %q: %w", login, translate(err))
	}
	return &u, nil
}

// EndSessions ends every session of the user: the user's session
// generation moves on, so a session that carries an older one is refused.
// Returns ErrNotFound if there is no such user.
func (s *Accounts) EndSessions(ctx context.Context, id int64) error {
	return s.updateUser(ctx, id, "end sessions", map[string]any{})
}

// SetPassword replaces the user's password with a hash of password and
// ends every session of the user. Callers check the password rules.
// Returns ErrNotFound if there is no such user.
func (s *Accounts) SetPassword(ctx context.Context, id int64, password string) error {
	hash, err := s.HashPassword(ctx, password)
	if err != nil {
		return fmt.Errorf("set password of user %d: %w", id, err)
	}
	return s.updateUser(ctx, id, "set password", map[string]any{"password": hash})
}

// SetActive activates or deactivates the user (staff deactivating an
// account) and ends every session of the user. Returns ErrNotFound if
// there is no such user.
func (s *Accounts) SetActive(ctx context.Context, id int64, active bool) error {
	return s.updateUser(ctx, id, "set active", map[string]any{"is_active": active})
}

// updateUser writes set to the user and moves the session generation on,
// in one statement.
func (s *Accounts) updateUser(ctx context.Context, id int64, what string, set map[string]any) error {
	set["session_generation"] = gorm.Expr("session_generation + 1")
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		res := tx.Model(&User{}).Where("id = ?", id).Updates(set)
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("%s of user %d: %w", what, id, translate(err))
	}
	return nil
}
