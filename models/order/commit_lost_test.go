package order_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

// A COMMIT that succeeded and whose answer was lost: a proxy between the
// shop and the database passes the COMMIT on, drops the server's answer
// and closes the connection, so the client sees its connection die
// although the order is written. Transact runs the commit again
// (Tx.Unsure), which finds its own order (ownOrder) and answers it: one
// order, the stock taken once, every invariant exact. No commit token is
// sent, so the unique index on it cannot hide a second order; the order
// id drawn at the first try is all the retry has.
//
// Two timings:
//   - answered: the server has committed before the client hears of the
//     cut (the answer is read and dropped);
//   - late: the client's connection is closed first and the COMMIT
//     reaches the server only once the retry waits on the first try's
//     order row (same order id), so the retry's look-up cannot see the
//     order yet: the order id's collision must then be read as its own
//     order, not as someone else's id to draw again.
//
// Only PostgreSQL and MariaDB: SQLite runs in the shop's process, where
// COMMIT is a function call whose answer cannot be lost on the way back.
func TestCommitAnswerLost(t *testing.T) {
	for _, d := range orderDBs(t) {
		if d.Name == "sqlite" {
			continue
		}
		for _, late := range []bool{false, true} {
			timing := "answered"
			if late {
				timing = "late"
			}
			d.Run(t, d.Name+"/"+timing, func(t *testing.T, d *shopDB) {
				testCommitAnswerLost(t, d, late)
			})
		}
	}
}

func testCommitAnswerLost(t *testing.T, d *shopDB, late bool) {
	proxy := faults.NewDBProxy(t, d.URL)
	url, waiting := lockWaits(t, d, proxy.Through(d.URL))
	st, err := models.Open(context.Background(), url, models.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	spu := d.SPU("lost answers")
	// lose loses the answer of the next COMMIT while place runs.
	lose := func(t *testing.T, place func()) {
		t.Helper()
		lost := proxy.Lost()
		if !late {
			proxy.LoseAnswerTo("COMMIT")
			place()
		} else {
			deliver := proxy.LoseAnswerLate("COMMIT")
			defer deliver() // a failing test must not hold the row
			done := make(chan struct{})
			go func() { defer close(done); place() }()
			// Once the COMMIT is held, an insert of an order header is
			// the retry's.
			for proxy.Lost() == lost || waiting() == 0 {
				select {
				case <-done:
					t.Fatalf("the commit ended (%v) before its retry waited on the first try's row", err)
				case <-time.After(5 * time.Millisecond):
				}
			}
			deliver()
			<-done
		}
		if n := proxy.Lost() - lost; n != 1 {
			t.Fatalf("%d answers lost, want 1: the fault did not happen", n)
		}
	}

	for _, s := range strategies {
		d.Run(t, string(s), func(t *testing.T, d *shopDB) {
			o := newOrders(t, st, order.Config{Strategy: s})
			sku := d.SKU(spu, "lost "+string(s), "12.50", 5)
			uid, addr := d.Buyer()
			before := d.Snapshot()
			orders := d.Orders()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()

			var got *models.Order
			lose(t, func() {
				got, err = o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayCash,
					Items: []order.Item{{SKUID: sku, Count: 2}}})
			})
			if err != nil {
				t.Fatalf("PlaceOrder after its COMMIT lost its answer: %v", err)
			}
			if n := d.Orders() - orders; n != 1 {
				t.Errorf("%d orders written, want 1", n)
			}
			if n := d.Int("SELECT COUNT(*) FROM tb_order_info WHERE user_id = ?", uid); n != 1 {
				t.Errorf("the buyer has %d orders, want 1", n)
			}
			if n := d.Int("SELECT COUNT(*) FROM tb_order_info WHERE order_id = ?", got.OrderID); n != 1 {
				t.Errorf("the order answered, %s, is not in the database", got.OrderID)
			}
			if got, want := d.SKUNow(sku), (counters{Stock: 3, Sales: 2}); got != want {
				t.Errorf("sku %+v, want %+v", got, want)
			}
			d.CheckInvariants(before, testkit.Outcome{Placed: []string{got.OrderID}})
		})
	}

	// Three commits in one transaction (the queue's batch, writeAll): the
	// COMMIT of the batch loses its answer, and the retry finds all three
	// orders.
	d.Run(t, "batch", func(t *testing.T, d *shopDB) {
		o := order.New(st, order.Config{Strategy: order.StrategyQueue})
		sku := d.SKU(spu, "lost batch", "3.00", 10)
		before := d.Snapshot()
		orders := d.Orders()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		const buyers = 3
		var wg sync.WaitGroup
		var mu sync.Mutex
		var placed []string
		errs := make([]error, buyers)
		for i := range buyers {
			uid, addr := d.Buyer()
			wg.Go(func() {
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayOnline,
					Items: []order.Item{{SKUID: sku, Count: 1 + i}}})
				errs[i] = err
				if err == nil {
					mu.Lock()
					placed = append(placed, got.OrderID)
					mu.Unlock()
				}
			})
		}
		// The worker starts once all three wait, so that it takes them
		// in one batch.
		for o.Waiting() < buyers {
			if ctx.Err() != nil {
				t.Fatalf("%d commits queued, want %d", o.Waiting(), buyers)
			}
			time.Sleep(time.Millisecond)
		}
		wctx, stop := context.WithCancel(context.Background())
		done := make(chan error, 1)
		lose(t, func() {
			go func() { done <- o.Run(wctx) }()
			wg.Wait()
		})
		stop()
		if err := <-done; err != nil {
			t.Errorf("queue worker: %v", err)
		}
		for i, err := range errs {
			if err != nil {
				t.Errorf("buyer %d: %v", i, err)
			}
		}
		if n := d.Orders() - orders; n != buyers {
			t.Errorf("%d orders written, want %d", n, buyers)
		}
		if got, want := d.SKUNow(sku), (counters{Stock: 10 - 6, Sales: 6}); got != want {
			t.Errorf("sku %+v, want %+v", got, want)
		}
		d.CheckInvariants(before, testkit.Outcome{Placed: placed})
	})
}

// lockWaits returns the store's URL, tagged so that its connections can be
// told apart on PostgreSQL, and a count of those connections that wait
// for a row lock (on MariaDB: that run an order header's insert, which
// only a held row keeps running).
func lockWaits(t *testing.T, d *shopDB, url string) (string, func() int) {
	t.Helper()
	switch d.Name {
	case "postgres":
		b := make([]byte, 6)
		rand.Read(b)
		app := "lostcommit_" + hex.EncodeToString(b)
		return faults.PostgresURLWithAppName(url, app), func() int {
			return d.Int("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'", app)
		}
	case "mysql":
		name := d.URL[strings.LastIndexByte(d.URL, '/')+1:]
		name, _, _ = strings.Cut(name, "?")
		return url, func() int {
			// INNODB_TRX showed no transaction here while one waited:
			// the retry's insert of its header, running, is the wait.
			return d.Int(`SELECT COUNT(*) FROM information_schema.PROCESSLIST
				WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE 'INSERT INTO tb_order_info%'`, name)
		}
	}
	t.Fatalf("no lock waits to watch on %s", d.Name)
	return "", nil
}
