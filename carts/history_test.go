package carts_test

import (
	"context"
	"sync"
	"testing"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/internal/testenv"
)

// Many visits recorded at once leave a history of at most HistoryLen SKUs,
// each once: LREM, LPUSH and LTRIM run as one step.
func TestHistoryConcurrent(t *testing.T) {
	rdb, _ := testenv.Redis(t)
	s := carts.New(rdb)
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := range 20 {
				if err := s.AddHistory(ctx, uid, int64(1+(g+i)%8)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, err := s.History(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int64]bool{}
	for _, id := range got {
		if seen[id] {
			t.Errorf("sku %d twice in %v", id, got)
		}
		seen[id] = true
	}
	if len(got) != carts.HistoryLen {
		t.Errorf("history %v, want %d entries", got, carts.HistoryLen)
	}
	if n := rdb.LLen(ctx, "history_7").Val(); n != carts.HistoryLen {
		t.Errorf("the list holds %d entries", n)
	}
	rdb.LPush(ctx, "history_7", "junk")
	if got, err := s.History(ctx, uid); err != nil || len(got) != carts.HistoryLen-1 {
		t.Errorf("History with a junk entry first: %v, %v; want the four SKUs after it", got, err)
	}
}
