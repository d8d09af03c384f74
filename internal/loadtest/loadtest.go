// Package loadtest drives a running shop over HTTP exactly as browsers do:
// each buyer registers, adds an address, puts a SKU in the cart and
// commits the order. It runs closed-loop (N buyers, each ordering again as
// soon as answered) or open-loop (orders arrive at a fixed rate whatever
// the answers), and reports successful orders separately from attempts,
// latency percentiles and errors by kind. Bench is `shop bench`: it runs
// the load on a shop it serves in this process (or one at --url), then
// checks the database's invariants.
//
// It lives in internal/ because it is a client of the shop, not part of it.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config describes one run.
type Config struct {
	URL       string        // the shop, e.g. http://127.0.0.1:8000
	Buyers    int           // concurrent buyers (closed loop) or the buyer pool (open loop)
	Rate      float64       // orders started per second; 0 runs closed-loop
	Duration  time.Duration // the run stops after this long at the latest
	MaxOrders int           // stop after this many attempts (0: no limit)
	SKUs      []int64       // each order buys one of these, at random
	Count     int           // units per order
	// Browser drives the shop as browsers do: each buyer has connections
	// of its own, and each order adds 1-3 units with POST /carts/ (Count
	// is ignored) before committing.
	Browser bool
	RunID   string    // makes usernames unique across runs
	Log     io.Writer // progress; nil for none
	// Timed brackets the timed phase (after sign-up), e.g. to profile it:
	// it is called with true when the load starts and false when it ends.
	Timed func(running bool)
}

// Rejection is an order refused for insufficient stock.
type Rejection struct {
	SKUID int64
	Count int
}

// Result is what a run saw.
type Result struct {
	Attempts   int
	Successes  int
	Elapsed    time.Duration
	Latencies  []time.Duration // every attempt that got an answer, sorted
	Errors     map[string]int  // by kind: http_503, http_5xx, network, timeout, code_N, ...
	OrderIDs   []string        // answered code 0
	Rejections []Rejection     // answered "insufficient stock"
}

// ErrorCount is the number of attempts that failed for a reason other than
// insufficient stock.
func (r *Result) ErrorCount() int {
	n := 0
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// OrdersPerSecond is successful orders per second of the run.
func (r *Result) OrdersPerSecond() float64 { return float64(r.Successes) / r.Elapsed.Seconds() }

// AttemptsPerSecond is attempts per second of the run.
func (r *Result) AttemptsPerSecond() float64 { return float64(r.Attempts) / r.Elapsed.Seconds() }

// Percentile returns the p-th percentile latency (0 < p <= 100).
func (r *Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.Latencies))*p/100+0.5) - 1
	i = max(0, min(i, len(r.Latencies)-1))
	return r.Latencies[i]
}

// Summary is a human-readable report.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "attempts %d (%.0f/s), successful orders %d (%.0f/s), insufficient stock %d, errors %d, in %.2fs\n",
		r.Attempts, r.AttemptsPerSecond(), r.Successes, r.OrdersPerSecond(), len(r.Rejections), r.ErrorCount(), r.Elapsed.Seconds())
	fmt.Fprintf(&b, "latency p50 %s  p95 %s  p99 %s  max %s\n",
		ms(r.Percentile(50)), ms(r.Percentile(95)), ms(r.Percentile(99)), ms(r.Percentile(100)))
	if len(r.Errors) > 0 {
		kinds := make([]string, 0, len(r.Errors))
		for k := range r.Errors {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		b.WriteString("errors by kind:")
		for _, k := range kinds {
			fmt.Fprintf(&b, " %s=%d", k, r.Errors[k])
		}
		b.WriteString("\n")
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

// Run signs the buyers up, then runs the load until the duration ends, the
// attempts reach MaxOrders, or every SKU is sold out. It stops by itself.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Buyers < 1 || len(cfg.SKUs) == 0 || cfg.Count < 1 || cfg.Duration <= 0 {
		return nil, errors.New("loadtest: need buyers >= 1, at least one SKU, count >= 1 and a duration")
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	var transport *http.Transport
	if !cfg.Browser {
		transport = newTransport(cfg.Buyers)
		defer transport.CloseIdleConnections()
	}
	fmt.Fprintf(logw, "signing up %d buyers...\n", cfg.Buyers)
	buyers, err := signUpAll(ctx, cfg, transport)
	if err != nil {
		return nil, err
	}
	if cfg.Browser {
		defer func() {
			for _, b := range buyers {
				b.http.Transport.(*http.Transport).CloseIdleConnections()
			}
		}()
	}
	st := &state{cfg: cfg, remaining: append([]int64(nil), cfg.SKUs...), res: &Result{Errors: map[string]int{}}}
	// stop ends the run: no new order starts after it, but orders under
	// way are answered, since a commit cut off mid-flight may still make
	// an order whose reply nobody saw.
	stop, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	fmt.Fprintf(logw, "running for up to %s...\n", cfg.Duration)
	if cfg.Timed != nil {
		cfg.Timed(true)
		defer cfg.Timed(false)
	}
	start := time.Now()
	if cfg.Rate > 0 {
		st.openLoop(ctx, stop, buyers)
	} else {
		st.closedLoop(ctx, stop, buyers)
	}
	st.res.Elapsed = time.Since(start)
	sort.Slice(st.res.Latencies, func(i, j int) bool { return st.res.Latencies[i] < st.res.Latencies[j] })
	return st.res, nil
}

// signUpAll signs up cfg.Buyers buyers, sharing transport, or each with
// connections of its own when transport is nil.
func signUpAll(ctx context.Context, cfg Config, transport *http.Transport) ([]*buyer, error) {
	buyers := make([]*buyer, cfg.Buyers)
	errs := make(chan error, cfg.Buyers)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t := transport
			if t == nil {
				t = newTransport(2)
			}
			b := newBuyer(cfg.URL, t)
			name := fmt.Sprintf("b%s_%d", cfg.RunID, i)
			mobile := fmt.Sprintf("19%09d", rand.IntN(1e9))
			if err := b.signUp(ctx, name, "bench-pass-123", mobile); err != nil {
				errs <- err
				return
			}
			buyers[i] = b
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, fmt.Errorf("sign up buyers: %w", err)
	}
	return buyers, nil
}

// state is shared by the buyers of one run.
type state struct {
	cfg       Config
	mu        sync.Mutex
	remaining []int64 // SKUs not seen sold out
	res       *Result
}

func (s *state) pick() (int64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.remaining) == 0 || (s.cfg.MaxOrders > 0 && s.res.Attempts >= s.cfg.MaxOrders) {
		return 0, false
	}
	s.res.Attempts++
	return s.remaining[rand.IntN(len(s.remaining))], true
}

func (s *state) record(o outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.answered {
		s.res.Latencies = append(s.res.Latencies, o.latency)
	}
	switch o.kind {
	case "ok":
		s.res.Successes++
		s.res.OrderIDs = append(s.res.OrderIDs, o.orderID)
	case "out_of_stock":
		s.res.Rejections = append(s.res.Rejections, Rejection{SKUID: o.sku, Count: o.count})
		// Stock only falls during a run: with one unit per order, short
		// stock means sold out for good.
		if o.count == 1 {
			for i, id := range s.remaining {
				if id == o.sku {
					s.remaining = append(s.remaining[:i], s.remaining[i+1:]...)
					break
				}
			}
		}
	default:
		s.res.Errors[o.kind]++
	}
}

func (s *state) closedLoop(ctx, stop context.Context, buyers []*buyer) {
	var wg sync.WaitGroup
	for _, b := range buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for stop.Err() == nil {
				sku, ok := s.pick()
				if !ok {
					return
				}
				s.record(b.order(ctx, sku, s.count(), s.cfg.Browser, time.Now()))
			}
		}()
	}
	wg.Wait()
}

// openLoop starts orders at the configured rate. Latency counts from the
// moment an order was due, so a slow shop cannot hide its queueing
// (no coordinated omission). An order due when every buyer is busy is an
// error of kind "no_free_buyer".
func (s *state) openLoop(ctx, stop context.Context, buyers []*buyer) {
	free := make(chan *buyer, len(buyers))
	for _, b := range buyers {
		free <- b
	}
	interval := time.Duration(float64(time.Second) / s.cfg.Rate)
	start := time.Now()
	var wg sync.WaitGroup
	for n := 0; ; n++ {
		due := start.Add(time.Duration(n) * interval)
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-stop.Done():
			}
		}
		if stop.Err() != nil {
			break
		}
		sku, ok := s.pick()
		if !ok {
			break
		}
		select {
		case b := <-free:
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.record(b.order(ctx, sku, s.count(), s.cfg.Browser, due))
				free <- b
			}()
		default:
			s.record(outcome{kind: "no_free_buyer"})
		}
	}
	wg.Wait()
}

// count is the units of the next order: Count, or 1-3 for a browser.
func (s *state) count() int {
	if s.cfg.Browser {
		return 1 + rand.IntN(3)
	}
	return s.cfg.Count
}

// outcome is one order attempt.
type outcome struct {
	kind     string // ok, out_of_stock, or an error kind
	orderID  string
	sku      int64
	count    int
	answered bool
	latency  time.Duration
}

// order puts one line in the cart and commits it; on failure it takes the
// line out again so the next order starts from an empty selection. A
// browser adds the units (POST /carts/, as the SKU page's button does);
// otherwise the line is set (PUT).
func (b *buyer) order(ctx context.Context, sku int64, count int, browser bool, due time.Time) outcome {
	o := outcome{sku: sku, count: count}
	method := http.MethodPut
	if browser {
		method = http.MethodPost
	}
	r, _, err := b.call(ctx, method, "/carts/", map[string]any{"sku_id": sku, "count": count, "selected": true})
	if err != nil || r.Code != 0 {
		o.kind = "cart_" + errorKind(err, r)
		return o
	}
	r, _, err = b.call(ctx, http.MethodPost, "/orders/commit/", map[string]any{"address_id": b.addressID, "pay_method": 1})
	o.latency, o.answered = time.Since(due), err == nil || isHTTPError(err)
	switch {
	case err == nil && r.Code == 0:
		o.kind, o.orderID = "ok", r.OrderID
		return o
	case err == nil && r.Code == 400 && strings.Contains(r.Errmsg, "库存不足"):
		o.kind = "out_of_stock"
	default:
		o.kind = errorKind(err, r)
	}
	if ctx.Err() == nil {
		b.call(ctx, http.MethodDelete, "/carts/", map[string]any{"sku_id": sku})
	}
	return o
}

func isHTTPError(err error) bool {
	var he *httpError
	return errors.As(err, &he)
}

func errorKind(err error, r reply) string {
	var he *httpError
	switch {
	case err == nil:
		return fmt.Sprintf("code_%d", r.Code)
	case errors.As(err, &he) && he.Status >= 500:
		if he.Status == http.StatusServiceUnavailable {
			return "http_503"
		}
		return "http_5xx"
	case errors.As(err, &he):
		return fmt.Sprintf("http_%d", he.Status)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	default:
		return "network"
	}
}
