package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// Two changes of a password at once from the same old password: one wins,
// the other is refused, and the password is the winner's; each change
// moves the session generation on once.
func TestChangePasswordRace(t *testing.T) {
	ctx := context.Background()
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			u := testenv.CreateUser(t, db.Store, "racer0001")
			if _, err := db.Store.Accounts.ChangePassword(ctx, u.ID, "wrong-pass-1", "whatever-pw-9"); !errors.Is(err, models.ErrBadCredential) {
				t.Errorf("wrong old password: %v, want ErrBadCredential", err)
			}
			if _, err := db.Store.Accounts.ChangePassword(ctx, 999999, testenv.Password, "whatever-pw-9"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("unknown user: %v, want ErrNotFound", err)
			}
			const n = 4
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					_, errs[i] = db.Store.Accounts.ChangePassword(ctx, u.ID, testenv.Password, fmt.Sprintf("new-password-%d", i))
				})
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Errorf("changes %d and %d both won", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, models.ErrBadCredential):
					t.Errorf("change %d: %v", i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("no change won: %v", errs)
			}
			if _, err := db.Store.Accounts.Authenticate(ctx, u.Username, fmt.Sprintf("new-password-%d", winner)); err != nil {
				t.Errorf("the winner's password does not log in: %v", err)
			}
			if _, err := db.Store.Accounts.Authenticate(ctx, u.Username, testenv.Password); !errors.Is(err, models.ErrBadCredential) {
				t.Errorf("the old password: %v, want ErrBadCredential", err)
			}
			now, err := db.Store.Accounts.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if now.SessionGeneration != u.SessionGeneration+1 {
				t.Errorf("session generation %d, want %d", now.SessionGeneration, u.SessionGeneration+1)
			}
		})
	}
}
