package handlers_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// The order commit under faults (README, "The order commit"): database
// connections cut mid-commit, Redis gone, parallel checkouts of one cart.

// cutter cuts the shop's database connections from the server side.
type cutter struct {
	name string
	cut  func(t *testing.T) int
}

// faultyShop serves the shop on a pool of its own on db's schema, whose
// connections cut ends; the test's helpers (e.sql, the invariants) keep
// db.Store. Only PostgreSQL and MariaDB have connections to cut.
func faultyShop(t *testing.T, db testenv.DB) (*orderEnv, cutter) {
	t.Helper()
	ctx := context.Background()
	var c cutter
	var url string
	switch db.Name {
	case "postgres":
		b := make([]byte, 6)
		rand.Read(b)
		app := "shopfault_" + hex.EncodeToString(b)
		url = faults.PostgresURLWithAppName(db.URL, app)
		admin := os.Getenv("TEST_POSTGRES_URL")
		c = cutter{name: "pg_terminate_backend", cut: func(t *testing.T) int { return faults.TerminatePostgres(t, admin, app) }}
	case "mysql":
		url = db.URL
		dbName := db.URL[strings.LastIndexByte(db.URL, '/')+1:]
		if i := strings.IndexByte(dbName, '?'); i >= 0 {
			dbName = dbName[:i]
		}
		admin := os.Getenv("TEST_MYSQL_URL")
		c = cutter{name: "KILL CONNECTION", cut: func(t *testing.T) int { return faults.KillMySQL(t, admin, dbName) }}
	default:
		t.Fatalf("no connections to cut on %s", db.Name)
	}
	// A small pool: each cut then ends few connections, and cuts are quick.
	st, err := models.Open(ctx, url, models.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := newOrderEnv(t, db, nil, func(d *handlers.Deps) { d.Store = st })
	return e, c
}

// Buyers keep committing orders over HTTP while their database connections
// are cut again and again: every answer is an order, a true "insufficient
// stock", or 503; never a 500, a 401 or a false refusal; and stock, sales,
// orders and the stock ledger agree at the end.
func TestOrderCommitWhileConnectionsDrop(t *testing.T) {
	for _, name := range []string{"postgres", "mysql"} {
		db, ok := testenv.Database(t, name)
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			t0 := time.Now()
			e, cutter := faultyShop(t, db)
			hot := e.sku("抢手手机", "1999.00", 60)
			cold := e.sku("数据线", "0.10", 100000)
			buyers := make([]orderBuyer, 6)
			for i := range buyers {
				buyers[i] = e.buyer()
			}
			before, err := testkit.TakeSnapshot(context.Background(), db.Store)
			if err != nil {
				t.Fatal(err)
			}

			var (
				mu      sync.Mutex
				seen    testkit.Outcome
				answers = map[string]int{}
				stop    atomic.Bool
				wg      sync.WaitGroup
			)
			for i, b := range buyers {
				wg.Go(func() {
					for n := 0; !stop.Load(); n++ {
						want := map[int64]int{cold: 1 + n%3}
						if (i+n)%2 == 0 {
							want[hot] = 1 + i%2
						}
						for sku, count := range want {
							e.put(b, sku, count, true)
						}
						res := b.Do(http.MethodPost, "/orders/commit/", map[string]any{"address_id": b.address, "pay_method": 1 + n%2})
						var body map[string]any
						if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
							body = res.JSON(t)
						}
						mu.Lock()
						switch {
						case res.Status == http.StatusOK && body["code"] == 0.0:
							seen.Placed = append(seen.Placed, body["order_id"].(string))
							answers["order"]++
						case res.Status == http.StatusOK && body["code"] == 400.0 && strings.Contains(body["errmsg"].(string), "库存不足"):
							seen.Short = append(seen.Short, want)
							answers["short"]++
						case res.Status == http.StatusServiceUnavailable:
							answers["503"]++
						default:
							t.Errorf("buyer %d, commit %d: %d %.500s", i, n, res.Status, res.Body)
						}
						mu.Unlock()
						if res.Status != http.StatusOK || body["code"] != 0.0 {
							// Whatever was not ordered leaves the cart, so
							// the next commit wants exactly what it put.
							for sku := range want {
								e.carts.Remove(context.Background(), b.uid, sku)
							}
						}
					}
				})
			}
			cuts := 0
			for range 6 {
				time.Sleep(200 * time.Millisecond)
				cuts += cutter.cut(t)
			}
			time.Sleep(250 * time.Millisecond)
			stop.Store(true)
			wg.Wait()
			t.Logf("%s ended %d connections; answers %v; %v", cutter.name, cuts, answers, time.Since(t0))
			if cuts == 0 {
				t.Errorf("no connection was cut")
			}
			if answers["order"] == 0 {
				t.Errorf("no order placed")
			}
			bad, err := testkit.CheckInvariants(context.Background(), db.Store, before, seen)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range bad {
				t.Errorf("invariant broken: %s", v)
			}
		})
	}
}

// Ten commits of one cart at once, without a token: one order. The
// others wait for the first to finish, then find the cart empty.
func TestOrderCommitOneCartTenTimesAtOnce(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newOrderEnv(t, db, nil, nil)
			b := e.buyer()
			sku := e.sku("华为 Mate 手机", "3999.00", 10)
			e.put(b, sku, 1, true)
			answers := make([]testenv.Response, 10)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range answers {
				wg.Go(func() {
					<-start
					answers[i] = b.Do(http.MethodPost, "/orders/commit/", map[string]any{"address_id": b.address, "pay_method": 1})
				})
			}
			close(start)
			wg.Wait()
			placed := map[string]int{}
			for i, res := range answers {
				body := res.JSON(t)
				switch {
				case res.Status == http.StatusOK && body["code"] == 0.0:
					placed[body["order_id"].(string)]++
				case res.Status == http.StatusOK && body["code"] == 400.0 && strings.Contains(body["errmsg"].(string), "勾选"):
				case res.Status == http.StatusTooManyRequests:
				default:
					t.Errorf("commit %d: %d %s", i, res.Status, res.Body)
				}
			}
			if len(placed) != 1 {
				t.Errorf("order ids answered %v, want one", placed)
			}
			if n := e.orders(); n != 1 {
				t.Errorf("%d orders, want 1", n)
			}
			if got := e.int("SELECT stock FROM tb_sku WHERE id = ?", sku); got != 9 {
				t.Errorf("stock %d, want 9", got)
			}
			if lines := e.cart(b); len(lines) != 0 {
				t.Errorf("cart after the order: %+v", lines)
			}
		})
	}
}

// The database guards a cart even where its lock does not: a cart that a
// commit could not clear (Redis refused) keeps its version, and a second
// commit of it returns the first order, even with the stock now short.
func TestOrderCommitSameCartVersionTwice(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			rdb, _ := testenv.Redis(t)
			e := newOrderEnv(t, db, rdb, nil)
			b := e.buyer()
			sku := e.sku("最后一台", "3999.00", 1)
			e.put(b, sku, 1, true)
			hook := &failCartRemoval{}
			rdb.AddHook(hook)
			var ids []string
			for range 2 {
				res, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": 1})
				if res.Status != http.StatusOK || body["code"] != 0.0 {
					t.Fatalf("commit: %d %s, want code 0", res.Status, res.Body)
				}
				ids = append(ids, body["order_id"].(string))
			}
			if ids[0] != ids[1] || e.orders() != 1 {
				t.Errorf("two commits of one cart version: orders %v, %d in the database; want one", ids, e.orders())
			}
			// Once the cart changes, it is a new checkout.
			e.exec("UPDATE tb_sku SET stock = 1 WHERE id = ?", sku)
			e.put(b, sku, 1, true)
			res, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": 1})
			if res.Status != http.StatusOK || body["code"] != 0.0 || body["order_id"] == ids[0] {
				t.Errorf("commit of the changed cart: %d %s, want a new order", res.Status, res.Body)
			}
		})
	}
}

// Redis down before the commit: 503, and nothing is written.
func TestOrderCommitRedisDown(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			r := faults.StartRedis(t)
			opt, err := redis.ParseURL(r.URL())
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opt)
			t.Cleanup(func() { rdb.Close() })
			e := newOrderEnv(t, db, rdb, nil)
			b := e.buyer()
			sku := e.sku("华为 Mate 手机", "3999.00", 10)
			e.put(b, sku, 1, true)
			r.Kill()
			res, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": 1})
			if res.Status != http.StatusServiceUnavailable || body["code"] != 503.0 {
				t.Errorf("commit with Redis down: %d %s, want 503", res.Status, res.Body)
			}
			if n := e.orders(); n != 0 {
				t.Errorf("%d orders written", n)
			}
			if got := e.int("SELECT stock FROM tb_sku WHERE id = ?", sku); got != 10 {
				t.Errorf("stock %d, want 10", got)
			}
		})
	}
}

// A logged-in buyer whose user the database cannot load is answered 503:
// not 401, not a redirect to the login page.
func TestSessionUserLookupFails(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			st, err := models.Open(context.Background(), db.URL, models.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			e := newOrderEnv(t, db, nil, func(d *handlers.Deps) { d.Store, d.CacheTTL = st, -1 })
			b := e.buyer()
			st.Close() // every query of the shop fails from now on
			res, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": 1})
			if res.Status != http.StatusServiceUnavailable || body["code"] != 503.0 {
				t.Errorf("commit: %d %s, want 503", res.Status, res.Body)
			}
			if res := b.Get("/orders/info/1/"); res.Status != http.StatusServiceUnavailable {
				t.Errorf("my orders page: %d (Location %q), want 503", res.Status, res.Header.Get("Location"))
			}
		})
	}
}
