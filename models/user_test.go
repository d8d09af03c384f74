package models_test

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// argon2idFormat is a fresh hash in Django's encoding, at this shop's cost.
var argon2idFormat = regexp.MustCompile(`^argon2\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestCreateUserStoresArgon2idAndAuthenticates(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			u, err := db.Store.Accounts.CreateUser(ctx, models.NewUser{Username: "alice", Password: "secret-pw", Mobile: "13800000001", Email: "a@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			if !argon2idFormat.MatchString(u.Password) {
				t.Errorf("stored hash %q is not argon2id in Django's format", u.Password)
			}
			if !u.IsActive || u.IsStaff || u.IsSuperuser || u.LastLogin != nil {
				t.Errorf("new user: active %v staff %v superuser %v last login %v, want true false false nil",
					u.IsActive, u.IsStaff, u.IsSuperuser, u.LastLogin)
			}
			inactive := testenv.CreateUser(t, db.Store, "sleepy")
			exec(t, db, "UPDATE tb_users SET is_active = ? WHERE id = ?", false, inactive.ID)

			tests := []struct {
				name, login, password string
				wantID                int64 // 0: ErrBadCredential
			}{
				{"username", "alice", "secret-pw", u.ID},
				{"mobile", "13800000001", "secret-pw", u.ID},
				{"wrong password", "alice", "secret-pW", 0},
				{"unknown user", "nobody", "secret-pw", 0},
				{"unknown mobile", "13900000000", "secret-pw", 0},
				{"empty password", "alice", "", 0},
				{"inactive user, right password", "sleepy", testenv.Password, 0},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := db.Store.Accounts.Authenticate(ctx, tt.login, tt.password)
					if tt.wantID == 0 {
						if !errors.Is(err, models.ErrBadCredential) {
							t.Fatalf("Authenticate(%q) error = %v, want ErrBadCredential", tt.login, err)
						}
						return
					}
					if err != nil {
						t.Fatalf("Authenticate(%q): %v", tt.login, err)
					}
					if got.ID != tt.wantID || got.LastLogin == nil {
						t.Errorf("Authenticate(%q) = user %d, last login %v; want user %d with a last login", tt.login, got.ID, got.LastLogin, tt.wantID)
					}
					stored, err := db.Store.Accounts.UserByID(ctx, got.ID)
					if err != nil {
						t.Fatal(err)
					}
					if stored.LastLogin == nil || stored.Password != u.Password {
						t.Errorf("after login: last login %v, hash changed %v; want a last login and the same hash", stored.LastLogin, stored.Password != u.Password)
					}
				})
			}
		})
	}
}

func TestCreateUserRefusesDuplicatesAndBadInput(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := db.Store.Accounts.CreateUser(ctx, models.NewUser{Username: "taken", Password: "secret-pw", Mobile: "13800000002"}); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				nu   models.NewUser
				want error
			}{
				{"same username", models.NewUser{Username: "taken", Password: "secret-pw", Mobile: "13800000003"}, models.ErrDuplicate},
				{"same mobile", models.NewUser{Username: "other", Password: "secret-pw", Mobile: "13800000002"}, models.ErrDuplicate},
				{"no username", models.NewUser{Password: "secret-pw", Mobile: "13800000004"}, models.ErrInvalid},
				{"no password", models.NewUser{Username: "nopass", Mobile: "13800000005"}, models.ErrInvalid},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					if _, err := db.Store.Accounts.CreateUser(ctx, tt.nu); !errors.Is(err, tt.want) {
						t.Errorf("CreateUser(%+v) error = %v, want %v", tt.nu, err, tt.want)
					}
				})
			}
		})
	}
}

func TestCreateUserConcurrentSameName(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			const n = 8
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					_, errs[i] = db.Store.Accounts.CreateUser(context.Background(), models.NewUser{
						Username: "racer", Password: "secret-pw", Mobile: fmt.Sprintf("1380000%04d", i),
					})
				})
			}
			wg.Wait()
			created := 0
			for _, err := range errs {
				switch {
				case err == nil:
					created++
				case !errors.Is(err, models.ErrDuplicate):
					t.Errorf("concurrent CreateUser: %v, want nil or ErrDuplicate", err)
				}
			}
			if created != 1 {
				t.Errorf("%d of %d concurrent sign-ups of one name succeeded, want 1", created, n)
			}
		})
	}
}

// djangoPBKDF2 computes what Django's make_password(password, salt,
// "pbkdf2_sha256") stores at its 5.x iteration count.
func djangoPBKDF2(t *testing.T, password, salt string) string {
	t.Helper()
	const iterations = 870000
	key, err := pbkdf2.Key(sha256.New, password, []byte(salt), iterations, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("pbkdf2_sha256$%d$%s$%s", iterations, salt, base64.StdEncoding.EncodeToString(key))
}

// djangoArgon2 encodes an argon2 hash the way Django (argon2-cffi) does.
func djangoArgon2(variant, password string, memory, passes uint32, threads uint8) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.Key
	if variant == "argon2id" {
		key = argon2.IDKey
	}
	sum := key([]byte(password), salt, passes, memory, threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("argon2$%s$v=19$m=%d,t=%d,p=%d$%s$%s", variant, memory, passes, threads, b64.EncodeToString(salt), b64.EncodeToString(sum))
}

func TestAuthenticateUpgradesOlderHashes(t *testing.T) {
	tests := []struct {
		name   string
		stored string
	}{
		{"django pbkdf2_sha256", djangoPBKDF2(t, "secret-pw", "seasalt")},
		{"argon2id at another cost", djangoArgon2("argon2id", "secret-pw", 1024, 1, 2)},
		{"argon2i", djangoArgon2("argon2i", "secret-pw", 1024, 2, 1)},
	}
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			for i, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					u := testenv.CreateUser(t, db.Store, fmt.Sprintf("legacy%d", i))
					exec(t, db, "UPDATE tb_users SET password = ? WHERE id = ?", tt.stored, u.ID)

					if _, err := db.Store.Accounts.Authenticate(ctx, u.Username, "Secret-pw"); !errors.Is(err, models.ErrBadCredential) {
						t.Fatalf("wrong password: error = %v, want ErrBadCredential", err)
					}
					if got := storedHash(t, db, u.ID); got != tt.stored {
						t.Fatalf("a failed login changed the hash to %q", got)
					}
					got, err := db.Store.Accounts.Authenticate(ctx, u.Username, "secret-pw")
					if err != nil {
						t.Fatalf("right password: %v", err)
					}
					stored := storedHash(t, db, u.ID)
					if !argon2idFormat.MatchString(stored) {
						t.Errorf("after login the hash is %q, want a fresh argon2id one", stored)
					}
					if got.Password != stored {
						t.Errorf("returned user carries hash %q, stored is %q", got.Password, stored)
					}
					if _, err := db.Store.Accounts.Authenticate(ctx, u.Username, "secret-pw"); err != nil {
						t.Errorf("login with the upgraded hash: %v", err)
					}
				})
			}
		})
	}
}

func TestAuthenticateRefusesUnreadableHashes(t *testing.T) {
	db, _ := testenv.Database(t, "sqlite")
	u := testenv.CreateUser(t, db.Store, "broken")
	for _, stored := range []string{
		"",
		"!unusable",
		"md5$salt$5ebe2294ecd0e0f08eab7690d2a6ee69",
		"pbkdf2_sha256$many$salt$AAAA",
		"pbkdf2_sha256$0$salt$AAAA",
		"pbkdf2_sha256$99999999999$salt$AAAA",
		"pbkdf2_sha256$1000$salt$not base64!",
		"argon2$argon2id$v=19$m=0,t=0,p=0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"argon2$argon2id$v=19$m=99999999,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"argon2$argon2id$v=16$m=1024,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"argon2$argon2d$v=19$m=1024,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"argon2$argon2id$v=19$m=1024,t=2,p=1$AAAA",
	} {
		t.Run(stored, func(t *testing.T) {
			exec(t, db, "UPDATE tb_users SET password = ? WHERE id = ?", stored, u.ID)
			if _, err := db.Store.Accounts.Authenticate(context.Background(), "broken", testenv.Password); !errors.Is(err, models.ErrBadCredential) {
				t.Errorf("stored %q: error = %v, want ErrBadCredential", stored, err)
			}
		})
	}
}

func TestUsernameAndMobileTaken(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			u := testenv.CreateUser(t, db.Store, "present")
			tests := []struct {
				name  string
				check func(context.Context, string) (bool, error)
				value string
				want  bool
			}{
				{"username taken", db.Store.Accounts.UsernameTaken, "present", true},
				{"username free", db.Store.Accounts.UsernameTaken, "absent", false},
				{"mobile taken", db.Store.Accounts.MobileTaken, u.Mobile, true},
				{"mobile free", db.Store.Accounts.MobileTaken, "19900000000", false},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := tt.check(ctx, tt.value)
					if err != nil || got != tt.want {
						t.Errorf("%q: got %v, %v; want %v", tt.value, got, err, tt.want)
					}
				})
			}
		})
	}
}

func storedHash(t *testing.T, db testenv.DB, uid int64) string {
	t.Helper()
	u, err := db.Store.Accounts.UserByID(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	return u.Password
}

func TestSessionGenerationMovesOn(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			acc := db.Store.Accounts
			u := testenv.CreateUser(t, db.Store, "rotator")
			gen := func() int64 {
				t.Helper()
				got, err := acc.UserByID(ctx, u.ID)
				if err != nil {
					t.Fatal(err)
				}
				return got.SessionGeneration
			}
			if g := gen(); g != 0 {
				t.Fatalf("new user's session generation %d, want 0", g)
			}
			if err := acc.EndSessions(ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			if err := acc.SetPassword(ctx, u.ID, "brand-new-pw-1"); err != nil {
				t.Fatal(err)
			}
			if _, err := acc.Authenticate(ctx, "rotator", "brand-new-pw-1"); err != nil {
				t.Errorf("the new password does not log in: %v", err)
			}
			if err := acc.SetActive(ctx, u.ID, false); err != nil {
				t.Fatal(err)
			}
			if g := gen(); g != 3 {
				t.Errorf("session generation %d after three changes, want 3", g)
			}
			if _, err := acc.Authenticate(ctx, "rotator", "brand-new-pw-1"); !errors.Is(err, models.ErrBadCredential) {
				t.Errorf("a deactivated user logs in: %v", err)
			}
			if err := acc.EndSessions(ctx, u.ID+1000); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("EndSessions of no user: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestUsernamesUniqueWithoutCase: the database itself refuses a username
// that differs from another only in case, and logins and the sign-up check
// find a username in any case.
func TestUsernamesUniqueWithoutCase(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			acc := db.Store.Accounts
			u, err := acc.CreateUser(ctx, models.NewUser{Username: "Alice01", Password: testenv.Password, Mobile: testenv.RandomMobile()})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := acc.CreateUser(ctx, models.NewUser{Username: "alice01", Password: testenv.Password, Mobile: testenv.RandomMobile()}); !errors.Is(err, models.ErrDuplicate) {
				t.Errorf("CreateUser(alice01) after Alice01: %v, want ErrDuplicate", err)
			}
			sqlDB, err := db.Store.SQL()
			if err != nil {
				t.Fatal(err)
			}
			insert := func(name, mobile string) error {
				_, err := sqlDB.ExecContext(ctx, "INSERT INTO tb_users (password, username, mobile, date_joined) VALUES ('x', '"+name+"', '"+mobile+"', CURRENT_TIMESTAMP)")
				return err
			}
			if err := insert("Bobby01", "13000000002"); err != nil {
				t.Fatalf("a plain insert fails: %v", err)
			}
			if err := insert("ALICE01", "13000000001"); err == nil {
				t.Error("the database took ALICE01 beside Alice01")
			}
			for _, name := range []string{"alice01", "ALICE01", "Alice01"} {
				if taken, err := acc.UsernameTaken(ctx, name); err != nil || !taken {
					t.Errorf("UsernameTaken(%q) = %v, %v; want true", name, taken, err)
				}
				if got, err := acc.Authenticate(ctx, name, testenv.Password); err != nil || got.ID != u.ID {
					t.Errorf("Authenticate(%q): %v", name, err)
				}
			}
			if taken, err := acc.UsernameTaken(ctx, "alice02"); err != nil || taken {
				t.Errorf("UsernameTaken(alice02) = %v, %v; want false", taken, err)
			}
		})
	}
}
