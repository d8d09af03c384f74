package handlers

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestAdmission(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	a := newAdmission(5, 3)
	for i := range 5 {
		if ok, _ := a.allow("u1", now); !ok {
			t.Fatalf("try %d of 5 in one instant refused", i+1)
		}
	}
	ok, retry := a.allow("u1", now)
	if ok || retry != 200*time.Millisecond {
		t.Fatalf("sixth try: allowed %v, retry after %v; want refused, 200ms", ok, retry)
	}
	// A refusal takes no token: after the wait, exactly one more passes.
	if ok, _ := a.allow("u1", now.Add(retry)); !ok {
		t.Error("refused after waiting as told")
	}
	if ok, _ := a.allow("u1", now.Add(retry)); ok {
		t.Error("two passed after waiting for one")
	}
	if ok, _ := a.allow("u2", now); !ok {
		t.Error("another key shares the first key's bucket")
	}

	// At the bound, full buckets are forgotten and the others kept.
	a.allow("u3", now) // u1 empty, u2 and u3 nearly full: 3 keys
	later := now.Add(time.Second)
	if ok, _ := a.allow("u4", later); !ok {
		t.Error("a new key refused at the bound")
	}
	if _, kept := a.buckets["u1"]; !kept {
		t.Error("sweep forgot a bucket that was not full")
	}
	if _, kept := a.buckets["u2"]; kept {
		t.Error("sweep kept a full bucket")
	}
}

func TestAdmissionConcurrent(t *testing.T) {
	now := time.Now()
	a := newAdmission(50, 1000)
	var mu sync.Mutex
	passed := map[string]int{}
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			key := fmt.Sprint("k", i%4)
			if ok, _ := a.allow(key, now); ok {
				mu.Lock()
				passed[key]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i := range 4 {
		if n := passed[fmt.Sprint("k", i)]; n != 50 {
			t.Errorf("k%d: %d of 100 passed at one instant, want exactly the burst, 50", i, n)
		}
	}
}
