package carts_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/internal/testenv"
)

// Every change of a cart gives it a new version; reading it does not, and
// a refused change does not either.
func TestCartVersion(t *testing.T) {
	rdb, _ := testenv.Redis(t)
	s := carts.New(rdb)
	ctx := context.Background()
	read := func() carts.Selection {
		t.Helper()
		sel, err := s.Checkout(ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		return sel
	}
	empty := read()
	if empty.Version == "" || len(empty.Lines) != 0 {
		t.Fatalf("an empty cart reads %+v, want no lines and a version", empty)
	}
	if again := read(); again.Version != empty.Version {
		t.Errorf("reading changed the version: %q, then %q", empty.Version, again.Version)
	}
	last := empty.Version
	tests := []struct {
		name    string
		change  func() error
		changed bool
		want    []carts.Line // the selected lines after the change
	}{
		{"add", func() error { _, err := s.Add(ctx, uid, 1, 2, true); return err }, true, []carts.Line{{SKUID: 1, Count: 2, Selected: true}}},
		{"add an unselected line", func() error { _, err := s.Add(ctx, uid, 2, 1, false); return err }, true, []carts.Line{{SKUID: 1, Count: 2, Selected: true}}},
		{"refused add", func() error { _, err := s.Add(ctx, uid, 1, carts.MaxCount, true); return ignore(err, carts.ErrCount) }, false, []carts.Line{{SKUID: 1, Count: 2, Selected: true}}},
		{"set", func() error { _, err := s.Set(ctx, uid, 1, 3, true); return err }, true, []carts.Line{{SKUID: 1, Count: 3, Selected: true}}},
		{"select all", func() error { return s.SelectAll(ctx, uid, true) }, true, []carts.Line{{SKUID: 1, Count: 3, Selected: true}, {SKUID: 2, Count: 1, Selected: true}}},
		{"merge", func() error {
			_, err := s.Merge(ctx, uid, []carts.Line{{SKUID: 3, Count: 1, Selected: false}})
			return err
		}, true, []carts.Line{{SKUID: 1, Count: 3, Selected: true}, {SKUID: 2, Count: 1, Selected: true}}},
		{"remove", func() error { return s.Remove(ctx, uid, 1, 2) }, true, nil},
	}
	for _, tc := range tests {
		if err := tc.change(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := read()
		if changed := got.Version != last; changed != tc.changed {
			t.Errorf("%s: version changed %v, want %v", tc.name, changed, tc.changed)
		}
		if diff := cmp.Diff(tc.want, got.Lines, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: selected lines (-want +got):\n%s", tc.name, diff)
		}
		last = got.Version
	}
}

func ignore(err, want error) error {
	if errors.Is(err, want) {
		return nil
	}
	if err == nil {
		return errors.New("not refused")
	}
	return err
}

// One checkout of a cart at a time: a second Lock waits for the first to
// be released, and gives up with ErrLocked after LockWait or when ctx
// ends; another user's cart is not held.
func TestCartLock(t *testing.T) {
	rdb, _ := testenv.Redis(t)
	s := carts.New(rdb)
	ctx := context.Background()
	unlock, err := s.Lock(ctx, uid, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.Lock(ctx, uid+1, 5*time.Second)
	if err != nil {
		t.Fatalf("another user's cart: %v", err)
	}
	other(ctx)

	start := time.Now()
	if _, err := s.Lock(ctx, uid, 5*time.Second); !errors.Is(err, carts.ErrLocked) {
		t.Fatalf("a second lock of a held cart: %v, want ErrLocked", err)
	}
	if waited := time.Since(start); waited < carts.LockWait || waited > carts.LockWait+2*time.Second {
		t.Errorf("gave up after %v, want about %v", waited, carts.LockWait)
	}

	got := make(chan error, 1)
	go func() {
		unlock2, err := s.Lock(ctx, uid, 5*time.Second)
		if err == nil {
			err = unlock2(ctx)
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-got; err != nil {
		t.Errorf("a lock that waited for the release: %v", err)
	}

	short, ctxErr := context.WithTimeout(ctx, 20*time.Millisecond)
	defer ctxErr()
	if _, err := s.Lock(ctx, uid, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lock(short, uid, 5*time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a wait past ctx's deadline: %v, want context.DeadlineExceeded", err)
	}
}
