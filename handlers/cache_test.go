package handlers

import (
	"context"
	"sync"
	"sync/atomic"
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

// TestTTLCacheSharesLoads: concurrent gets of a key not cached make one
// load; an evict during the load keeps its result out of the cache; a
// joiner whose leader went away loads for itself.
func TestTTLCacheSharesLoads(t *testing.T) {
	ctx := context.Background()
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(ctx context.Context, id int64) (*models.User, error) {
		loads.Add(1)
		select {
		case <-release:
			return &models.User{ID: id}, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	uc := newTTLCache[int64, *models.User](time.Hour, 100)
	const n = 20
	var wg sync.WaitGroup
	got := make([]*models.User, n)
	for i := range n {
		wg.Go(func() { got[i], _ = uc.get(ctx, 7, load) })
	}
	waitFor(t, func() bool { return loads.Load() == 1 && joiners(uc, 7) })
	close(release)
	wg.Wait()
	if l := loads.Load(); l != 1 {
		t.Errorf("%d concurrent gets made %d loads, want 1", n, l)
	}
	for i, u := range got {
		if u == nil || u.ID != 7 {
			t.Fatalf("get %d: got %v, want user 7", i, u)
		}
	}

	// An evict while a load runs: the load's answer is not kept.
	release = make(chan struct{})
	loads.Store(0)
	done := make(chan struct{})
	go func() { uc.get(ctx, 8, load); close(done) }()
	waitFor(t, func() bool { return loads.Load() == 1 })
	uc.evict(8)
	close(release)
	<-done
	uc.mu.Lock()
	_, kept := uc.entries[8]
	uc.mu.Unlock()
	if kept {
		t.Error("a load evicted while it ran was cached")
	}

	// The leader's request goes away: a joiner still gets its answer.
	release = make(chan struct{})
	loads.Store(0)
	leaderCtx, cancel := context.WithCancel(ctx)
	go uc.get(leaderCtx, 9, load)
	waitFor(t, func() bool { return loads.Load() == 1 })
	joined := make(chan *models.User)
	go func() { u, _ := uc.get(ctx, 9, load); joined <- u }()
	waitFor(t, func() bool { return joiners(uc, 9) })
	cancel()
	waitFor(t, func() bool { return loads.Load() == 2 })
	close(release)
	if u := <-joined; u == nil || u.ID != 9 {
		t.Errorf("joiner after the leader went away got %v, want user 9", u)
	}
}

// joiners reports whether a load of k is under way (gets that come now
// join it).
func joiners(uc *ttlCache[int64, *models.User], k int64) bool {
	uc.mu.Lock()
	defer uc.mu.Unlock()
	_, ok := uc.inflight[k]
	return ok
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5 s")
		}
	}
}
