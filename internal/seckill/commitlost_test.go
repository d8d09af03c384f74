package seckill_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// The consumer's COMMIT of a batch succeeds and its answer is lost (a
// proxy between the consumer and the database drops it and closes the
// connection): answered (the server committed before the client heard of
// the cut), or late (the COMMIT reaches the server only once the retry
// waits for the sale's row lock, which the first try still holds).
// Transact runs the batch again, which, under the sale's lock, finds its
// orders written and skips them: every buy is created once, the sale's
// sold is exactly the orders, nothing is marked failed, and every
// invariant holds at close. PostgreSQL and MariaDB only: SQLite's COMMIT
// is a call in the process, whose answer cannot be lost on the way.
func TestSeckillPersistCommitAnswerLost(t *testing.T) {
	for _, name := range []string{"postgres", "mysql"} {
		for _, late := range []bool{false, true} {
			db, ok := testenv.Database(t, name)
			if !ok {
				continue
			}
			timing := "answered"
			if late {
				timing = "late"
			}
			t.Run(name+"/"+timing, func(t *testing.T) { testPersistCommitAnswerLost(t, db, late) })
		}
	}
}

func testPersistCommitAnswerLost(t *testing.T, db testenv.DB, late bool) {
	const units, crowd = 6, 4
	ctx := context.Background()
	s := openSale(t, db, seckill.Config{}, 20, units, crowd)
	var placed []string
	for _, b := range s.buyers {
		oid, err := s.buy(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		placed = append(placed, oid)
	}
	// The consumer reaches the database through the proxy; the buys wait
	// in the stream until it starts.
	proxy := faults.NewDBProxy(t, db.URL)
	url, locking := saleLockWaits(t, db, proxy.Through(db.URL))
	st, err := models.Open(ctx, url, models.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	consumer, err := seckill.New(seckill.Config{Redis: s.rdb, DB: st.Sales, Consumer: "lost", Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !late {
		proxy.LoseAnswerTo("COMMIT")
		run(t, consumer)
	} else {
		deliver := proxy.LoseAnswerLate("COMMIT")
		run(t, consumer)
		waitFor(t, "the retry to wait for the sale's row", func() (bool, string) {
			n := locking()
			return proxy.Lost() == 1 && n > 0, fmt.Sprintf("lost %d, waiting %d", proxy.Lost(), n)
		})
		deliver()
	}
	waitFor(t, "every buy to be created", func() (bool, string) {
		for i, oid := range placed {
			o, err := s.engine.Outcome(ctx, s.buyers[i].UserID, oid)
			if err != nil || o.Status != seckill.Created {
				return false, fmt.Sprintf("order %s: %+v, %v", oid, o, err)
			}
		}
		return true, ""
	})
	if n := proxy.Lost(); n != 1 {
		t.Fatalf("%d answers lost, want 1: the fault did not happen", n)
	}
	k := fmt.Sprintf("{seckill:%d}:", s.sale.SKUID)
	waitFor(t, "the stream's entries to be acknowledged", func() (bool, string) {
		p, err := s.rdb.XPending(ctx, k+"stream", "persist").Result()
		return err == nil && p.Count == 0, fmt.Sprint(p, err)
	})
	if failed, err := s.rdb.HGetAll(ctx, k+"failed").Result(); err != nil || len(failed) != 0 {
		t.Errorf("orders marked failed: %v, %v; want none", failed, err)
	}
	got, err := db.Store.Sales.Sale(ctx, s.sale.ID)
	if err != nil || got.Sold != crowd {
		t.Errorf("sale's sold %v, %v; want %d", got.Sold, err, crowd)
	}
	checkSaleOrders(t, db.Store, s.sale.ID, placed)
	s.closeAndCheck(t, placed)
}

// saleLockWaits returns the store's URL, tagged so that its connections
// can be told apart on PostgreSQL, and a count of those connections that
// wait for a lock (on MariaDB: that run the persister's locking read of
// the sale, which only a held row keeps running).
func saleLockWaits(t *testing.T, db testenv.DB, url string) (string, func() int) {
	t.Helper()
	sqlDB, err := db.Store.SQL()
	if err != nil {
		t.Fatal(err)
	}
	count := func(q string, arg any) int {
		var n int
		if err := sqlDB.QueryRow(q, arg).Scan(&n); err != nil {
			t.Errorf("%s: %v", q, err)
		}
		return n
	}
	switch db.Name {
	case "postgres":
		b := make([]byte, 6)
		rand.Read(b)
		app := "lostpersist_" + hex.EncodeToString(b)
		return faults.PostgresURLWithAppName(url, app), func() int {
			return count("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'", app)
		}
	case "mysql":
		name := db.URL[strings.LastIndexByte(db.URL, '/')+1:]
		name, _, _ = strings.Cut(name, "?")
		return url, func() int {
			return count(`SELECT COUNT(*) FROM information_schema.PROCESSLIST
				WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE 'SELECT s.id%FOR UPDATE%'`, name)
		}
	}
	t.Fatalf("no lock waits to watch on %s", db.Name)
	return "", nil
}
