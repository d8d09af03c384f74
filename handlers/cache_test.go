package handlers

import (
	"context"
	"testing"
	"time"

	"github.com/meiduo/shop/models"
)

func TestTTLCache(t *testing.T) {
	loads := 0
	load := func(_ context.Context, id int64) (*models.User, error) {
		loads++
		return &models.User{ID: id}, nil
	}
	ctx := context.Background()
	uc := newTTLCache[int64, *models.User](time.Hour, 3)
	for i := 0; i < 5; i++ {
		if u, _ := uc.get(ctx, 7, load); u.ID != 7 {
			t.Fatalf("got user %d, want 7", u.ID)
		}
	}
	if loads != 1 {
		t.Errorf("5 gets of one user loaded %d times, want 1", loads)
	}
	uc.evict(7)
	uc.get(ctx, 7, load)
	if loads != 2 {
		t.Errorf("get after evict: %d loads, want 2", loads)
	}
	for id := int64(1); id <= 10; id++ {
		uc.get(ctx, id, load)
	}
	if n := len(uc.entries); n > 3 {
		t.Errorf("cache holds %d users, want at most 3", n)
	}

	off := newTTLCache[int64, *models.User](-1, 3)
	loads = 0
	off.get(ctx, 1, load)
	off.get(ctx, 1, load)
	if loads != 2 {
		t.Errorf("disabled cache: %d loads for 2 gets, want 2", loads)
	}
}
