package seckill_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// The consumer's COMMIT of a batch succeeds and its answer is lost (a
// proxy between the consumer and the database drops it and closes the
// connection). Transact runs the batch again, which finds its orders
// written and skips them: every buy is created once, the sale's sold is
// exactly the orders, nothing is marked failed, and every invariant holds
// at close. PostgreSQL and MariaDB only: SQLite's COMMIT is a call in the
// process, whose answer cannot be lost on the way.
func TestSeckillPersistCommitAnswerLost(t *testing.T) {
	for _, name := range []string{"postgres", "mysql"} {
		db, ok := testenv.Database(t, name)
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
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
			// The consumer reaches the database through the proxy; the
			// buys wait in the stream until it starts.
			proxy := faults.NewDBProxy(t, db.URL)
			st, err := models.Open(ctx, proxy.Through(db.URL), models.Options{MaxOpenConns: 2})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			consumer, err := seckill.New(seckill.Config{Redis: s.rdb, DB: st.Sales, Consumer: "lost", Tick: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			proxy.LoseAnswerTo("COMMIT")
			run(t, consumer)
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
			if failed, err := s.rdb.HGetAll(ctx, k+"failed").Result(); err != nil || len(failed) != 0 {
				t.Errorf("orders marked failed: %v, %v; want none", failed, err)
			}
			waitFor(t, "the stream's entries to be acknowledged", func() (bool, string) {
				p, err := s.rdb.XPending(ctx, k+"stream", "persist").Result()
				return err == nil && p.Count == 0, fmt.Sprint(p, err)
			})
			got, err := db.Store.Sales.Sale(ctx, s.sale.ID)
			if err != nil || got.Sold != crowd {
				t.Errorf("sale's sold %v, %v; want %d", got.Sold, err, crowd)
			}
			checkSaleOrders(t, db.Store, s.sale.ID, placed)
			s.closeAndCheck(t, placed)
		})
	}
}
