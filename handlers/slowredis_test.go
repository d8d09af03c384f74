package handlers_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/internal/testenv"
)

// Redis answers slowly (a proxy holds each of its answers 2 s, twice the
// client's carts.CommandTimeout) during a cart add and an order commit:
// both answer 503 within their deadline (checked only against twice
// times the commit's 5 s), never 500, and nothing is half-written: the
// cart line is there in full or not at all, and the database has no
// order and its stock. The shop's client is built as the shop builds it
// (carts.ClientOptions).
func TestSlowRedis(t *testing.T) {
	const latency = 2 * time.Second
	const bound = 2 * 5 * time.Second // twice the commit's deadline
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			srv := faults.StartRedis(t)
			proxy := faults.NewTCPProxy(t, srv.Addr(), faults.Raw)
			opt, err := carts.ClientOptions("redis://" + proxy.Addr() + "/0")
			if err != nil {
				t.Fatal(err)
			}
			rdb := redis.NewClient(opt)
			t.Cleanup(func() { rdb.Close() })
			e := newOrderEnv(t, db, rdb, nil)
			b := e.buyer()
			inCart := e.sku("慢的 Redis", "10.00", 10)
			added := e.sku("慢的 Redis 2", "20.00", 10)
			e.put(b, inCart, 1, true)

			proxy.SetLatency(latency)
			t0 := time.Now()
			res := b.Do(http.MethodPost, "/carts/", map[string]any{"sku_id": added, "count": 2})
			took := time.Since(t0)
			if res.Status != http.StatusServiceUnavailable || res.Code(t) != 503 {
				t.Errorf("cart add with a slow Redis: %d %s, want 503", res.Status, res.Body)
			}
			if took > bound {
				t.Errorf("cart add answered after %v, past %v", took, bound)
			}
			t0 = time.Now()
			res, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": 1})
			took = time.Since(t0)
			if res.Status != http.StatusServiceUnavailable || body["code"] != 503.0 {
				t.Errorf("commit with a slow Redis: %d %s, want 503", res.Status, res.Body)
			}
			if took > bound {
				t.Errorf("commit answered after %v, past %v", took, bound)
			}
			proxy.SetLatency(0)
			proxy.CutAll() // connections still waiting for a held answer

			if n := e.orders(); n != 0 {
				t.Errorf("%d orders written", n)
			}
			for _, sku := range []int64{inCart, added} {
				if got := e.int("SELECT stock FROM tb_sku WHERE id = ?", sku); got != 10 {
					t.Errorf("stock of sku %d is %d, want 10", sku, got)
				}
			}
			// The add may have reached Redis before its answer was held:
			// then the line is there in full, count and selection.
			ctx := context.Background()
			count, err := rdb.HGet(ctx, "carts_"+strconv.FormatInt(b.uid, 10), strconv.FormatInt(added, 10)).Result()
			if err != nil && err != redis.Nil {
				t.Fatal(err)
			}
			selected, err := rdb.SIsMember(ctx, "selected_"+strconv.FormatInt(b.uid, 10), strconv.FormatInt(added, 10)).Result()
			if err != nil {
				t.Fatal(err)
			}
			if !(count == "" && !selected) && !(count == "2" && selected) {
				t.Errorf("the added line is half-written: count %q, selected %v", count, selected)
			}
			lines := e.cart(b)
			if i := slices.IndexFunc(lines, func(l carts.Line) bool { return l.SKUID == inCart }); i < 0 || lines[i].Count != 1 {
				t.Errorf("the cart %+v, want sku %d once in it", lines, inCart)
			}
		})
	}
}
