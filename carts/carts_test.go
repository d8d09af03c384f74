package carts_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/internal/testenv"
)

const uid = 7

// cartAPI is what the Redis store and the cookie cart have in common, so
// one table checks that both obey the same rules.
type cartAPI interface {
	Add(skuID int64, count int, selected bool) (int, error)
	Set(skuID int64, count int, selected bool) (int, error)
	Remove(skuIDs ...int64)
	SelectAll(selected bool)
	Lines() []carts.Line
	Count() int
}

type redisAPI struct {
	t *testing.T
	s *carts.Store
}

func (r redisAPI) Add(id int64, n int, sel bool) (int, error) {
	return r.s.Add(context.Background(), uid, id, n, sel)
}

func (r redisAPI) Set(id int64, n int, sel bool) (int, error) {
	return r.s.Set(context.Background(), uid, id, n, sel)
}

func (r redisAPI) Remove(ids ...int64) {
	r.t.Helper()
	if err := r.s.Remove(context.Background(), uid, ids...); err != nil {
		r.t.Fatal(err)
	}
}

func (r redisAPI) SelectAll(sel bool) {
	r.t.Helper()
	if err := r.s.SelectAll(context.Background(), uid, sel); err != nil {
		r.t.Fatal(err)
	}
}

func (r redisAPI) Lines() []carts.Line {
	r.t.Helper()
	lines, err := r.s.Lines(context.Background(), uid)
	if err != nil {
		r.t.Fatal(err)
	}
	return lines
}

func (r redisAPI) Count() int {
	r.t.Helper()
	n, err := r.s.Count(context.Background(), uid)
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

// cookieAPI goes through the signed encoding after every change, as the
// browser round trip does.
type cookieAPI struct {
	t   *testing.T
	key []byte
	val *string
}

func (c cookieAPI) load() *carts.Cookie {
	c.t.Helper()
	if *c.val == "" {
		return &carts.Cookie{}
	}
	k, err := carts.DecodeCookie(c.key, *c.val)
	if err != nil {
		c.t.Fatalf("decode own cookie: %v", err)
	}
	return k
}

func (c cookieAPI) save(k *carts.Cookie) {
	c.t.Helper()
	v, err := k.Encode(c.key)
	if err != nil {
		c.t.Fatalf("encode cookie: %v", err)
	}
	*c.val = v
}

func (c cookieAPI) Add(id int64, n int, sel bool) (int, error) {
	k := c.load()
	got, err := k.Add(id, n, sel)
	c.save(k)
	return got, err
}

func (c cookieAPI) Set(id int64, n int, sel bool) (int, error) {
	k := c.load()
	got, err := k.Set(id, n, sel)
	c.save(k)
	return got, err
}

func (c cookieAPI) Remove(ids ...int64) { k := c.load(); k.Remove(ids...); c.save(k) }
func (c cookieAPI) SelectAll(sel bool)  { k := c.load(); k.SelectAll(sel); c.save(k) }
func (c cookieAPI) Lines() []carts.Line { return c.load().Lines() }
func (c cookieAPI) Count() int          { return c.load().Count() }

type step struct {
	op   string // add, set, remove, select
	sku  int64
	n    int
	sel  bool
	want int
	err  error
	skus []int64 // for remove
}

func fill(from, to int64) []step {
	var out []step
	for id := from; id <= to; id++ {
		out = append(out, step{op: "add", sku: id, n: 1, sel: true, want: 1})
	}
	return out
}

func linesOf(from, to int64, n int, sel bool) []carts.Line {
	var out []carts.Line
	for id := from; id <= to; id++ {
		out = append(out, carts.Line{SKUID: id, Count: n, Selected: sel})
	}
	return out
}

var opCases = []struct {
	name      string
	steps     []step
	wantLines []carts.Line
}{
	{
		name: "add creates a line then adds to it",
		steps: []step{
			{op: "add", sku: 1, n: 2, sel: true, want: 2},
			{op: "add", sku: 1, n: 3, sel: false, want: 5},
			{op: "add", sku: 2, n: 1, sel: true, want: 1},
		},
		wantLines: []carts.Line{{SKUID: 1, Count: 5}, {SKUID: 2, Count: 1, Selected: true}},
	},
	{
		name: "add past MaxCount is refused and changes nothing",
		steps: []step{
			{op: "add", sku: 1, n: 98, sel: true, want: 98},
			{op: "add", sku: 1, n: 2, sel: false, err: carts.ErrCount},
		},
		wantLines: []carts.Line{{SKUID: 1, Count: 98, Selected: true}},
	},
	{
		name: "add up to exactly MaxCount",
		steps: []step{
			{op: "add", sku: 1, n: 98, sel: true, want: 98},
			{op: "add", sku: 1, n: 1, sel: true, want: carts.MaxCount},
			{op: "add", sku: 1, n: 1, sel: true, err: carts.ErrCount},
		},
		wantLines: []carts.Line{{SKUID: 1, Count: carts.MaxCount, Selected: true}},
	},
	{
		name: "set overwrites count and selection",
		steps: []step{
			{op: "add", sku: 1, n: 5, sel: true, want: 5},
			{op: "set", sku: 1, n: 2, sel: false, want: 2},
		},
		wantLines: []carts.Line{{SKUID: 1, Count: 2}},
	},
	{
		name: "set creates a line",
		steps: []step{
			{op: "set", sku: 9, n: 3, sel: true, want: 3},
		},
		wantLines: []carts.Line{{SKUID: 9, Count: 3, Selected: true}},
	},
	{
		name: "set outside 1..MaxCount is refused and changes nothing",
		steps: []step{
			{op: "add", sku: 1, n: 4, sel: true, want: 4},
			{op: "set", sku: 1, n: 0, sel: false, err: carts.ErrCount},
			{op: "set", sku: 1, n: -1, sel: false, err: carts.ErrCount},
			{op: "set", sku: 1, n: carts.MaxCount + 1, sel: false, err: carts.ErrCount},
			{op: "set", sku: 2, n: 0, sel: true, err: carts.ErrCount},
		},
		wantLines: []carts.Line{{SKUID: 1, Count: 4, Selected: true}},
	},
	{
		name: "remove deletes lines, missing ones too",
		steps: []step{
			{op: "add", sku: 1, n: 1, sel: true, want: 1},
			{op: "add", sku: 2, n: 2, sel: true, want: 2},
			{op: "add", sku: 3, n: 3, sel: false, want: 3},
			{op: "remove", skus: []int64{1, 3, 404}},
		},
		wantLines: []carts.Line{{SKUID: 2, Count: 2, Selected: true}},
	},
	{
		name: "select all then clear all",
		steps: []step{
			{op: "add", sku: 1, n: 1, sel: false, want: 1},
			{op: "add", sku: 2, n: 1, sel: true, want: 1},
			{op: "select", sel: true},
			{op: "add", sku: 3, n: 1, sel: false, want: 1},
			{op: "select", sel: false},
		},
		wantLines: []carts.Line{{SKUID: 1, Count: 1}, {SKUID: 2, Count: 1}, {SKUID: 3, Count: 1}},
	},
	{
		name: "select all selects every line",
		steps: []step{
			{op: "add", sku: 1, n: 1, sel: false, want: 1},
			{op: "add", sku: 2, n: 1, sel: false, want: 1},
			{op: "select", sel: true},
		},
		wantLines: []carts.Line{{SKUID: 1, Count: 1, Selected: true}, {SKUID: 2, Count: 1, Selected: true}},
	},
	{
		name: "a full cart refuses a new line but takes more of an old one",
		steps: append(fill(1, carts.MaxLines),
			step{op: "add", sku: 1000, n: 1, sel: true, err: carts.ErrFull},
			step{op: "set", sku: 1000, n: 1, sel: true, err: carts.ErrFull},
			step{op: "add", sku: 1, n: 1, sel: true, want: 2},
			step{op: "set", sku: 2, n: 1, sel: true, want: 1},
		),
		wantLines: append([]carts.Line{{SKUID: 1, Count: 2, Selected: true}}, linesOf(2, carts.MaxLines, 1, true)...),
	},
	{
		name: "room made by a removal is usable again",
		steps: append(fill(1, carts.MaxLines),
			step{op: "remove", skus: []int64{carts.MaxLines}},
			step{op: "add", sku: 1000, n: 4, sel: false, want: 4},
		),
		wantLines: append(linesOf(1, carts.MaxLines-1, 1, true), carts.Line{SKUID: 1000, Count: 4}),
	},
}

func runSteps(t *testing.T, c cartAPI, steps []step) {
	t.Helper()
	for i, s := range steps {
		var got int
		var err error
		switch s.op {
		case "add":
			got, err = c.Add(s.sku, s.n, s.sel)
		case "set":
			got, err = c.Set(s.sku, s.n, s.sel)
		case "remove":
			c.Remove(s.skus...)
			continue
		case "select":
			c.SelectAll(s.sel)
			continue
		}
		if !errors.Is(err, s.err) {
			t.Fatalf("step %d: %s(%d, %d): err = %v, want %v", i, s.op, s.sku, s.n, err, s.err)
		}
		if err == nil && got != s.want {
			t.Fatalf("step %d: %s(%d, %d) = %d, want %d", i, s.op, s.sku, s.n, got, s.want)
		}
	}
}

func TestCartOperations(t *testing.T) {
	for _, tc := range opCases {
		t.Run(tc.name, func(t *testing.T) {
			rdb, _ := testenv.Redis(t)
			val := ""
			impls := []struct {
				name string
				api  cartAPI
			}{
				{"redis", redisAPI{t: t, s: carts.New(rdb)}},
				{"cookie", cookieAPI{t: t, key: testKey(1), val: &val}},
			}
			for _, im := range impls {
				t.Run(im.name, func(t *testing.T) {
					runSteps(t, im.api, tc.steps)
					got := im.api.Lines()
					if diff := cmp.Diff(tc.wantLines, got); diff != "" {
						t.Errorf("lines (-want +got):\n%s", diff)
					}
					wantCount := 0
					for _, l := range tc.wantLines {
						wantCount += l.Count
					}
					if n := im.api.Count(); n != wantCount {
						t.Errorf("Count() = %d, want %d", n, wantCount)
					}
				})
			}
		})
	}
}

func TestCartSelectedAndRemove(t *testing.T) {
	ctx := context.Background()
	rdb, _ := testenv.Redis(t)
	s := carts.New(rdb)
	for _, l := range []carts.Line{{SKUID: 3, Count: 1, Selected: true}, {SKUID: 1, Count: 2, Selected: true}, {SKUID: 2, Count: 5}} {
		if _, err := s.Add(ctx, uid, l.SKUID, l.Count, l.Selected); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Selected(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	want := []carts.Line{{SKUID: 1, Count: 2, Selected: true}, {SKUID: 3, Count: 1, Selected: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Selected (-want +got):\n%s", diff)
	}
	if err := s.Remove(ctx, uid, 1, 3); err != nil {
		t.Fatal(err)
	}
	if members := rdb.SMembers(ctx, "selected_7").Val(); len(members) != 0 {
		t.Errorf("selected_7 after removing the selected lines = %v, want empty", members)
	}
	if fields := rdb.HKeys(ctx, "carts_7").Val(); len(fields) != 1 || fields[0] != "2" {
		t.Errorf("carts_7 fields = %v, want [2]", fields)
	}
}

func TestCartLinesSkipForeignFields(t *testing.T) {
	ctx := context.Background()
	rdb, _ := testenv.Redis(t)
	s := carts.New(rdb)
	rdb.HSet(ctx, "carts_7", "abc", "3", "5", "x", "6", "0", "8", "2")
	lines, err := s.Lines(ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]carts.Line{{SKUID: 8, Count: 2}}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
	// A garbled count is taken as no line, not as a script error.
	if n, err := s.Add(ctx, uid, 5, 2, true); err != nil || n != 2 {
		t.Errorf("Add over a garbled count = %d, %v; want 2, nil", n, err)
	}
}

func TestCartConcurrentAdds(t *testing.T) {
	cases := []struct {
		name       string
		goroutines int
		sku        func(i int) int64
		count      int
		wantOK     int
		wantErr    error
		wantLines  []carts.Line
	}{
		{
			name:       "many adds to one line sum exactly",
			goroutines: 40,
			sku:        func(int) int64 { return 1 },
			count:      2,
			wantOK:     40,
			wantLines:  []carts.Line{{SKUID: 1, Count: 80, Selected: true}},
		},
		{
			name:       "adds to one line never pass MaxCount",
			goroutines: 150,
			sku:        func(int) int64 { return 1 },
			count:      1,
			wantOK:     carts.MaxCount,
			wantErr:    carts.ErrCount,
			wantLines:  []carts.Line{{SKUID: 1, Count: carts.MaxCount, Selected: true}},
		},
		{
			name:       "new lines never pass MaxLines",
			goroutines: carts.MaxLines + 30,
			sku:        func(i int) int64 { return int64(i + 1) },
			count:      1,
			wantOK:     carts.MaxLines,
			wantErr:    carts.ErrFull,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rdb, _ := testenv.Redis(t)
			s := carts.New(rdb)
			var okN, refused, other atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range tc.goroutines {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					_, err := s.Add(ctx, uid, tc.sku(i), tc.count, true)
					switch {
					case err == nil:
						okN.Add(1)
					case tc.wantErr != nil && errors.Is(err, tc.wantErr):
						refused.Add(1)
					default:
						other.Add(1)
						t.Errorf("Add: %v", err)
					}
				}()
			}
			close(start)
			wg.Wait()
			if got := okN.Load(); got != int64(tc.wantOK) {
				t.Errorf("successful adds = %d, want %d", got, tc.wantOK)
			}
			if got, want := refused.Load(), int64(tc.goroutines-tc.wantOK); got != want {
				t.Errorf("refused adds = %d, want %d", got, want)
			}
			lines, err := s.Lines(ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantLines != nil {
				if diff := cmp.Diff(tc.wantLines, lines); diff != "" {
					t.Errorf("lines (-want +got):\n%s", diff)
				}
			}
			if len(lines) > carts.MaxLines {
				t.Errorf("cart has %d lines, over MaxLines %d", len(lines), carts.MaxLines)
			}
			total := 0
			for _, l := range lines {
				total += l.Count
			}
			if want := tc.wantOK * tc.count; total != want {
				t.Errorf("total count = %d, want %d", total, want)
			}
		})
	}
}

func TestCartMerge(t *testing.T) {
	cases := []struct {
		name        string
		redis       []carts.Line
		cookie      []carts.Line
		want        []carts.Line
		wantSkipped int
	}{
		{
			name:   "into an empty cart",
			cookie: []carts.Line{{SKUID: 2, Count: 3, Selected: true}, {SKUID: 1, Count: 1}},
			want:   []carts.Line{{SKUID: 1, Count: 1}, {SKUID: 2, Count: 3, Selected: true}},
		},
		{
			name:   "the cookie's count and selection win for a SKU in both",
			redis:  []carts.Line{{SKUID: 1, Count: 5, Selected: true}, {SKUID: 2, Count: 1}},
			cookie: []carts.Line{{SKUID: 1, Count: 2}, {SKUID: 2, Count: 9, Selected: true}},
			want:   []carts.Line{{SKUID: 1, Count: 2}, {SKUID: 2, Count: 9, Selected: true}},
		},
		{
			name:   "SKUs only in Redis are kept",
			redis:  []carts.Line{{SKUID: 5, Count: 4, Selected: true}, {SKUID: 6, Count: 1}},
			cookie: []carts.Line{{SKUID: 1, Count: 1, Selected: true}},
			want:   []carts.Line{{SKUID: 1, Count: 1, Selected: true}, {SKUID: 5, Count: 4, Selected: true}, {SKUID: 6, Count: 1}},
		},
		{
			name:   "an empty cookie changes nothing",
			redis:  []carts.Line{{SKUID: 5, Count: 4, Selected: true}},
			cookie: nil,
			want:   []carts.Line{{SKUID: 5, Count: 4, Selected: true}},
		},
		{
			name:   "counts over MaxCount are lowered, bad lines ignored",
			cookie: []carts.Line{{SKUID: 1, Count: 500, Selected: true}, {SKUID: 2, Count: 0}, {SKUID: 0, Count: 1}, {SKUID: -4, Count: 1}},
			want:   []carts.Line{{SKUID: 1, Count: carts.MaxCount, Selected: true}},
		},
		{
			name:  "a full cart still takes the cookie's counts but skips new SKUs",
			redis: linesOf(101, 100+carts.MaxLines-1, 1, true),
			cookie: []carts.Line{
				{SKUID: 3, Count: 1, Selected: true}, {SKUID: 101, Count: 7}, {SKUID: 1, Count: 2, Selected: true}, {SKUID: 2, Count: 1},
			},
			want: append(
				[]carts.Line{{SKUID: 1, Count: 2, Selected: true}, {SKUID: 101, Count: 7}},
				linesOf(102, 100+carts.MaxLines-1, 1, true)...),
			wantSkipped: 2,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			rdb, _ := testenv.Redis(t)
			s := carts.New(rdb)
			for _, l := range tc.redis {
				if _, err := s.Set(ctx, uid, l.SKUID, l.Count, l.Selected); err != nil {
					t.Fatal(err)
				}
			}
			skipped, err := s.Merge(ctx, uid, tc.cookie)
			if err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if skipped != tc.wantSkipped {
				t.Errorf("skipped = %d, want %d", skipped, tc.wantSkipped)
			}
			got, err := s.Lines(ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lines after merge (-want +got):\n%s", diff)
			}
			checkSelectedSubset(t, rdb)
		})
	}
}

// checkSelectedSubset checks that only lines in the cart are selected.
func checkSelectedSubset(t *testing.T, rdb *redis.Client) {
	t.Helper()
	ctx := context.Background()
	for _, id := range rdb.SMembers(ctx, "selected_"+strconv.Itoa(uid)).Val() {
		if !rdb.HExists(ctx, "carts_"+strconv.Itoa(uid), id).Val() {
			t.Errorf("sku %s is selected but not in the cart", id)
		}
	}
}

func testKey(seed byte) []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = seed + byte(i)
	}
	return k
}
