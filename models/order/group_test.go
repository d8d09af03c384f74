package order_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

// TestGroupCommit makes commits gather behind a busy turn, then
// checks what each group wrote: a group whose orders all fit is written at
// once; one that does not fit is split, and exactly the orders that fit
// are placed; two posts of one commit token in one group make one order.
func TestGroupCommit(t *testing.T) {
	for _, db := range orderDBs(t) {
		for _, st := range []order.Strategy{order.StrategyOptimistic, order.StrategyConditional} {
			t.Run(db.Name+"/"+string(st), func(t *testing.T) { testGroupCommit(t, db, st) })
		}
	}
}

func testGroupCommit(t *testing.T, db *shopDB, st order.Strategy) {
	db = db.For(t)
	o := newOrders(t, db.Store, order.Config{Strategy: st, Concurrency: 1})
	spu := db.SPU("g")
	uid, addr := db.Buyer()
	buy := func(sku int64, n int, token string) order.PlaceRequest {
		return order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayCash, Token: token,
			Items: []order.Item{{SKUID: sku, Count: n}}}
	}

	t.Run("fits", func(t *testing.T) {
		sku := db.SKU(spu, "fits", "10.00", 10)
		before := db.Snapshot()
		got := inGroup(t, db, o, sku, buy(sku, 1, ""), []order.PlaceRequest{
			buy(sku, 2, ""), buy(sku, 2, ""), buy(sku, 2, ""), buy(sku, 2, ""),
		})
		var placed []string
		for i, r := range got {
			if r.err != nil {
				t.Fatalf("commit %d: %v", i, r.err)
			}
			placed = append(placed, r.order.OrderID)
		}
		if k := db.SKUNow(sku); k != (counters{Stock: 1, Sales: 9}) {
			t.Errorf("sku after: %+v, want stock 1, sales 9", k)
		}
		// One group: the four orders share one create_time.
		if n := db.Int("SELECT COUNT(DISTINCT create_time) FROM tb_order_info WHERE order_id IN (?, ?, ?, ?)",
			placed[1], placed[2], placed[3], placed[4]); n != 1 {
			t.Errorf("the four waiting orders have %d create times, want 1 (one group)", n)
		}
		// The ledger tells the group's sales apart, in the order
		// it wrote them.
		rows, err := db.SQL.Query(db.Query("SELECT stock_after FROM tb_stock_ledger WHERE order_id IN (?, ?, ?, ?) ORDER BY id"),
			placed[1], placed[2], placed[3], placed[4])
		if err != nil {
			t.Fatal(err)
		}
		var afters []int
		for rows.Next() {
			var n int
			if err := rows.Scan(&n); err != nil {
				t.Fatal(err)
			}
			afters = append(afters, n)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(afters, []int{7, 5, 3, 1}) {
			t.Errorf("ledger of the group: stock after %v, want [7 5 3 1]", afters)
		}
		db.CheckInvariants(before, testkit.Outcome{Placed: placed})
	})

	t.Run("split", func(t *testing.T) {
		sku := db.SKU(spu, "split", "10.00", 5)
		before := db.Snapshot()
		got := inGroup(t, db, o, sku, buy(sku, 1, ""), []order.PlaceRequest{
			buy(sku, 2, ""), buy(sku, 2, ""), buy(sku, 2, ""),
		})
		var out testkit.Outcome
		for i, r := range got {
			var se *models.StockError
			switch {
			case r.err == nil:
				out.Placed = append(out.Placed, r.order.OrderID)
			case errors.As(r.err, &se):
				out.Short = append(out.Short, map[int64]int{sku: 2})
			default:
				t.Fatalf("commit %d: %v", i, r.err)
			}
		}
		if len(out.Placed) != 3 || len(out.Short) != 1 {
			t.Errorf("%d placed and %d short, want 3 and 1", len(out.Placed), len(out.Short))
		}
		if k := db.SKUNow(sku); k != (counters{Stock: 0, Sales: 5}) {
			t.Errorf("sku after: %+v, want stock 0, sales 5", k)
		}
		db.CheckInvariants(before, out)
	})

	t.Run("one token twice", func(t *testing.T) {
		sku := db.SKU(spu, "token", "10.00", 10)
		before := db.Snapshot()
		got := inGroup(t, db, o, sku, buy(sku, 1, ""), []order.PlaceRequest{
			buy(sku, 3, "twice"), buy(sku, 3, "twice"),
		})
		for i, r := range got {
			if r.err != nil {
				t.Fatalf("commit %d: %v", i, r.err)
			}
		}
		if got[1].order.OrderID != got[2].order.OrderID {
			t.Errorf("the two posts of one token got orders %s and %s, want one", got[1].order.OrderID, got[2].order.OrderID)
		}
		if k := db.SKUNow(sku); k != (counters{Stock: 6, Sales: 4}) {
			t.Errorf("sku after: %+v, want stock 6, sales 4", k)
		}
		db.CheckInvariants(before, testkit.Outcome{Placed: []string{got[0].order.OrderID, got[1].order.OrderID, got[2].order.OrderID}, Replays: true})
	})
}

// inGroup places first while a transaction of the test holds sku locked,
// so that first holds the only commit turn; then the rest, which wait for
// that turn together; then lets go. It returns first's result, then the
// rest's.
func inGroup(t *testing.T, db *shopDB, o *order.Orders, sku int64, first order.PlaceRequest, rest []order.PlaceRequest) []placed {
	t.Helper()
	ctx := context.Background()
	lock, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Rollback()
	if _, err := lock.Exec(db.Query("UPDATE tb_sku SET stock = stock WHERE id = ?"), sku); err != nil {
		t.Fatal(err)
	}
	out := make([]placed, 1+len(rest))
	var wg sync.WaitGroup
	place := func(i int, req order.PlaceRequest) {
		wg.Go(func() {
			o, err := o.PlaceOrder(ctx, req)
			out[i] = placed{o, err}
		})
	}
	// first holds the turn and has left the waiting line: it is alone in
	// its group.
	place(0, first)
	waitFor(t, "the first commit to take the turn", func() bool { return o.Committing() == 1 && o.Waiting() == 0 })
	for i, req := range rest {
		place(i+1, req)
	}
	waitFor(t, "the others to wait", func() bool { return o.Waiting() == len(rest) })
	if err := lock.Rollback(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return out
}
