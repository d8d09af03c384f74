package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/loadtest"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// The shop serves /metrics on SHOP_METRICS_ADDR and not on its public
// address; buyers' commits over HTTP move the order-commit counters by
// exactly what they were answered, and the HTTP counters by route pattern.
func TestMetricsListener(t *testing.T) {
	dir := t.TempDir()
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	dbURL := "sqlite:///" + filepath.Join(dir, "shop.db")
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	getenv := env(map[string]string{
		"DATABASE_URL":           dbURL,
		"SHOP_DATA_DIR":          dir,
		"SHOP_LOG_LEVEL":         "warn",
		"SHOP_DEMO":              "off",
		"SHOP_METRICS_ADDR":      metricsAddr,
		"SHOP_STOCK_STRATEGY":    "conditional",
		"SHOP_REGISTER_PER_HOUR": "1000",
	})
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"runserver", addr}, getenv, &out, &out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("runserver did not stop after its context ended")
		}
	})
	get := func(url string) (int, string) {
		t.Helper()
		var res *http.Response
		var err error
		for range 200 {
			if res, err = http.Get(url); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("GET %s: %v; output:\n%s", url, err, out.String())
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get("http://" + addr + "/healthz"); code != http.StatusOK {
		t.Fatalf("GET /healthz = %d", code)
	}
	if code, _ := get("http://" + addr + "/metrics"); code != http.StatusNotFound {
		t.Errorf("GET /metrics on the public address = %d, want 404", code)
	}

	st, err := models.Open(ctx, dbURL, models.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const stock = 3
	skus, err := testkit.CreateBenchSKUs(ctx, st, "metrics", 1, stock, decimal.RequireFromString("5.00"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := loadtest.Run(ctx, loadtest.Config{URL: "http://" + addr, Buyers: 1, MaxOrders: stock + 2,
		Duration: 30 * time.Second, SKUs: skus, Count: 1, RunID: "metrics"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Successes != stock || len(res.Rejections) != 1 || res.ErrorCount() != 0 {
		t.Fatalf("load: %d orders, %d out of stock, errors %v; want %d, 1, none", res.Successes, len(res.Rejections), res.Errors, stock)
	}

	code, body := get("http://" + metricsAddr + "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics on SHOP_METRICS_ADDR = %d\n%s", code, body)
	}
	want := map[string]float64{
		`shop_order_placed_total{outcome="ok",strategy="conditional"}`:                    stock,
		`shop_order_placed_total{outcome="out_of_stock",strategy="conditional"}`:          1,
		`shop_order_commit_transactions_total{strategy="conditional"}`:                    stock,
		`shop_order_commit_group_size_sum{strategy="conditional"}`:                        stock,
		`shop_http_requests_total{method="POST",route="/orders/commit/",status="200"}`:    stock + 1,
		`shop_http_requests_total{method="GET",route="/healthz",status="200"}`:            1,
		`shop_http_requests_total{method="GET",route="unmatched",status="404"}`:           1,
		`shop_http_request_duration_seconds_count{method="POST",route="/orders/commit/"}`: stock + 1,
		`shop_unpaid_orders_expired_total`:                                                0,
	}
	got := scrape(body)
	for series, w := range want {
		if v, ok := got[series]; !ok || v != w {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, w)
		}
	}
	for _, name := range []string{"go_goroutines", `go_sql_max_open_connections{db_name="sqlite"}`,
		"shop_redis_pool_hits_total", "shop_seckill_streams_up", "shop_order_commit_waiting", "process_cpu_seconds_total"} {
		if _, ok := got[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}
}

// scrape reads Prometheus's text format into series -> value.
func scrape(body string) map[string]float64 {
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			panic(fmt.Sprintf("metrics line %q: %v", line, err))
		}
		out[line[:i]] = v
	}
	return out
}

// SHOP_LOG_FORMAT=json writes one JSON object a line; a request's log line
// carries the id sent back in X-Request-ID.
func TestJSONLogsCarryRequestID(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	getenv := env(map[string]string{
		"DATABASE_URL":    "sqlite:///" + filepath.Join(dir, "shop.db"),
		"SHOP_DATA_DIR":   dir,
		"SHOP_DEMO":       "off",
		"SHOP_LOG_FORMAT": "json",
	})
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"runserver", addr}, getenv, io.Discard, &out) }()
	var res *http.Response
	var err error
	for range 200 {
		if res, err = http.Get("http://" + addr + "/livez"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		cancel()
		t.Fatalf("GET /livez: %v; output:\n%s", err, out.String())
	}
	res.Body.Close()
	id := res.Header.Get("X-Request-ID")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("runserver did not stop after its context ended")
	}
	if id == "" {
		t.Fatal("no X-Request-ID on the answer")
	}
	found := false
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue // the development key's warning, before the logger exists
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %v: %s", err, line)
			continue
		}
		if rec["msg"] == "http" && rec["path"] == "/livez" {
			found = true
			if rec["request_id"] != id {
				t.Errorf("request log line %s: request_id %v, want %q (X-Request-ID)", line, rec["request_id"], id)
			}
		}
	}
	if !found {
		t.Errorf("no request log line for GET /livez in:\n%s", out.String())
	}
}
