package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// SeckillConfig describes a flash-sale run: many buyers, one sale.
type SeckillConfig struct {
	URL      string
	Buyers   int           // concurrent buyers, closed loop
	Duration time.Duration // the run stops after this long
	SKU      int64         // the SKU whose sale they buy
	RunID    string        // makes usernames unique across runs
	Log      io.Writer
	// Timed, if set, is called with true when the buying starts and false
	// when it ends (to profile just that).
	Timed func(running bool)
}

// SeckillResult is what a flash-sale run saw. Its Result counts every buy
// attempt; Successes and OrderIDs are the answers with code 0.
type SeckillResult struct {
	Result
	// Refused counts the business refusals (code 400) by message: sold
	// out, already bought, and so on.
	Refused map[string]int
	// Won holds the latencies of the successful buys alone, sorted: the
	// buys that reached the sale's decision while units were left.
	Won []time.Duration
}

// Summary is a human-readable report.
func (r *SeckillResult) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "buy attempts %d (%.0f/s), successes %d, refused %d, errors %d, in %.2fs\n",
		r.Attempts, r.AttemptsPerSecond(), r.Successes, r.refusedCount(), r.ErrorCount(), r.Elapsed.Seconds())
	fmt.Fprintf(&b, "latency p50 %s  p95 %s  p99 %s  max %s\n",
		ms(r.Percentile(50)), ms(r.Percentile(95)), ms(r.Percentile(99)), ms(r.Percentile(100)))
	if len(r.Won) > 0 {
		won := Result{Latencies: r.Won}
		fmt.Fprintf(&b, "  of the %d successful buys: p50 %s  p99 %s  max %s\n",
			len(r.Won), ms(won.Percentile(50)), ms(won.Percentile(99)), ms(won.Percentile(100)))
	}
	for _, m := range []map[string]int{r.Refused, r.Errors} {
		kinds := make([]string, 0, len(m))
		for k := range m {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			fmt.Fprintf(&b, "  %s: %d\n", k, m[k])
		}
	}
	return b.String()
}

func (r *SeckillResult) refusedCount() int {
	n := 0
	for _, v := range r.Refused {
		n += v
	}
	return n
}

// RunSeckill signs the buyers up (each with an address), then has each
// buy again as soon as answered, until the duration ends.
func RunSeckill(ctx context.Context, cfg SeckillConfig) (*SeckillResult, error) {
	if cfg.Buyers < 1 || cfg.SKU < 1 || cfg.Duration <= 0 {
		return nil, errors.New("loadtest: need buyers >= 1, a SKU and a duration")
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	transport := newTransport(cfg.Buyers)
	defer transport.CloseIdleConnections()
	fmt.Fprintf(logw, "signing up %d buyers...\n", cfg.Buyers)
	buyers, err := signUpAll(ctx, Config{URL: cfg.URL, Buyers: cfg.Buyers, RunID: cfg.RunID}, transport)
	if err != nil {
		return nil, err
	}
	res := &SeckillResult{Result: Result{Errors: map[string]int{}}, Refused: map[string]int{}}
	var mu sync.Mutex
	stop, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	fmt.Fprintf(logw, "buying for %s...\n", cfg.Duration)
	path := fmt.Sprintf("/seckill/%d/", cfg.SKU)
	if cfg.Timed != nil {
		cfg.Timed(true)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lat := make([]time.Duration, 0, 1024)
			var won []time.Duration
			defer func() {
				mu.Lock()
				res.Latencies = append(res.Latencies, lat...)
				res.Won = append(res.Won, won...)
				mu.Unlock()
			}()
			for stop.Err() == nil {
				t0 := time.Now()
				r, _, err := b.call(ctx, http.MethodPost, path, map[string]any{"address_id": b.addressID})
				answered := err == nil || isHTTPError(err)
				took := time.Since(t0)
				if answered {
					lat = append(lat, took)
				}
				if err == nil && r.Code == 0 {
					won = append(won, took)
				}
				mu.Lock()
				res.Attempts++
				switch {
				case err == nil && r.Code == 0:
					res.Successes++
					res.OrderIDs = append(res.OrderIDs, r.OrderID)
				case err == nil && r.Code == 400:
					res.Refused[r.Errmsg]++
				default:
					res.Errors[errorKind(err, r)]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	if cfg.Timed != nil {
		cfg.Timed(false)
	}
	sort.Slice(res.Latencies, func(i, j int) bool { return res.Latencies[i] < res.Latencies[j] })
	sort.Slice(res.Won, func(i, j int) bool { return res.Won[i] < res.Won[j] })
	return res, nil
}
