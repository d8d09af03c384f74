package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/metrics"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// A flash sale reports its decisions by outcome, the lag of each order
// written, and its stream: entries pending while no consumer has written
// them, none once one has.
func TestSeckillMetrics(t *testing.T) {
	ctx := context.Background()
	db, _ := testenv.Database(t, "sqlite")
	rdb, _ := testenv.Redis(t)
	m := metrics.New()
	e, err := seckill.New(seckill.Config{Redis: rdb, DB: db.Store.Sales, Observer: m.Seckill(), Tick: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	m.WatchSeckill(e)
	m.WatchRedis(rdb)
	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)

	ids, err := testkit.CreateBenchSKUs(ctx, db.Store, "mx", 1, 10, decimal.RequireFromString("9.00"))
	if err != nil {
		t.Fatal(err)
	}
	buyers, err := testkit.CreateBuyers(ctx, db.Store, fmt.Sprintf("mx%d", time.Now().UnixNano()%1e9), testenv.Password, 3)
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Open(ctx, models.SaleInput{SKUID: ids[0], Stock: 2, Price: decimal.RequireFromString("1.00"),
		PerUser: 1, Start: time.Now().Add(-time.Minute), End: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	buy := func(b testkit.Buyer) error {
		_, err := e.Buy(ctx, s.SKUID, b.UserID, b.AddressID)
		return err
	}
	for i, step := range []struct {
		buyer int
		want  error
	}{{0, nil}, {0, seckill.ErrLimit}, {1, nil}, {2, seckill.ErrSoldOut}} {
		if err := buy(buyers[step.buyer]); err != step.want {
			t.Fatalf("buy %d: %v, want %v", i, err, step.want)
		}
	}
	// A refusal answered from memory (before the session) counts too.
	if err := e.Refuse(s.SKUID); err != seckill.ErrSoldOut {
		t.Fatalf("refuse from memory: %v, want %v", err, seckill.ErrSoldOut)
	}
	sku := strconv.FormatInt(s.SKUID, 10)
	got := scrape(t, srv.URL)
	for series, want := range map[string]float64{
		`shop_seckill_decisions_total{outcome="ok"}`:       2,
		`shop_seckill_decisions_total{outcome="limit"}`:    1,
		`shop_seckill_decisions_total{outcome="sold_out"}`: 2,
		`shop_seckill_stream_length{sku="` + sku + `"}`:    2,
		`shop_seckill_pending_entries{sku="` + sku + `"}`:  0,
		`shop_seckill_persist_lag_seconds_count`:           0,
		`shop_seckill_streams_up`:                          1,
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("before the consumer: %s = %v (present %v), want %v", series, v, ok, want)
		}
	}

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); e.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(20 * time.Second)
	for scrape(t, srv.URL)["shop_seckill_persist_lag_seconds_count"] < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the consumer did not write the 2 orders within 20 s:\n%v", scrape(t, srv.URL))
		}
		time.Sleep(20 * time.Millisecond)
	}
	got = scrape(t, srv.URL)
	if v := got[`shop_seckill_pending_entries{sku="`+sku+`"}`]; v != 0 {
		t.Errorf("pending entries after the consumer wrote them: %v, want 0", v)
	}
	if v := got["shop_seckill_failed_orders_total"]; v != 0 {
		t.Errorf("failed orders %v, want 0", v)
	}
	if _, ok := got["shop_redis_pool_hits_total"]; !ok {
		t.Error("no Redis pool metrics")
	}
}

// scrape reads the Prometheus text at url/ into series -> value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d\n%s", url, res.StatusCode, body)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}
