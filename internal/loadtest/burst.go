package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/meiduo/shop/models/testkit"
)

// BurstConfig describes a cold burst on a flash sale, the way a sale
// starts: buyers who logged in earlier, each in a browser of its own (own
// cookies, own connections), all click at one instant, some several
// times.
type BurstConfig struct {
	URL         string
	Buyers      []testkit.Buyer // made beforehand, with the password below
	Password    string
	Clicks      int // buys each buyer fires at once (a double or triple click)
	Concurrency int // buyers clicking at the same time; the next buyer starts when one is answered
	SKU         int64
	// Quiet is how long the buyers stay away between logging in and the
	// burst: longer than every cache of the shop, so the burst finds no
	// buyer's session, user or address cached.
	Quiet time.Duration
	Log   io.Writer
	// Timed, if set, is called with true when the burst starts and false
	// when it ends (to profile just that).
	Timed func(running bool)
}

// BurstResult is what a cold burst saw. Latency is one buy request,
// from its send to its answer.
type BurstResult struct {
	SeckillResult
	// SoldOutAt is when the last successful buy was answered, counted
	// from the start gate: the time the sale took to sell out (zero if
	// nothing was sold).
	SoldOutAt time.Duration
	// Refusals holds the latencies of the business refusals alone
	// (sold out, already bought), sorted.
	Refusals []time.Duration
	Connect  time.Duration // median time to open a connection in the burst
}

// RunBurst logs every buyer in over HTTP (each its own client and
// connections; then it loads the sale's page, as a browser waiting for
// the start would), closes their connections, waits cfg.Quiet, then
// opens the gate: cfg.Concurrency buyers at a time each fire cfg.Clicks
// buys together on fresh connections.
func RunBurst(ctx context.Context, cfg BurstConfig) (*BurstResult, error) {
	if len(cfg.Buyers) == 0 || cfg.Clicks < 1 || cfg.Concurrency < 1 || cfg.SKU < 1 {
		return nil, errors.New("loadtest: a burst needs buyers, clicks >= 1, concurrency >= 1 and a SKU")
	}
	logw := cfg.Log
	if logw == nil {
		logw = io.Discard
	}
	page := fmt.Sprintf("/seckill/%d/", cfg.SKU)
	fmt.Fprintf(logw, "logging in %d buyers...\n", len(cfg.Buyers))
	buyers := make([]*buyer, len(cfg.Buyers))
	conns := make([]*connTimer, len(cfg.Buyers))
	errs := make(chan error, len(cfg.Buyers))
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	for i, tb := range cfg.Buyers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			conns[i] = &connTimer{}
			b := newBuyer(cfg.URL, conns[i].transport(cfg.Clicks))
			b.addressID = tb.AddressID
			if err := b.logIn(ctx, tb.Username, cfg.Password, page); err != nil {
				errs <- fmt.Errorf("log in %s: %w", tb.Username, err)
				return
			}
			b.http.Transport.(*http.Transport).CloseIdleConnections()
			conns[i].reset()
			buyers[i] = b
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	fmt.Fprintf(logw, "buyers away for %s, then %d buyers x %d clicks, %d buyers at a time...\n",
		cfg.Quiet, len(buyers), cfg.Clicks, cfg.Concurrency)
	select {
	case <-time.After(cfg.Quiet):
	case <-ctx.Done():
		return nil, ctx.Err()
	}

	res := &BurstResult{SeckillResult: SeckillResult{Result: Result{Errors: map[string]int{}}, Refused: map[string]int{}}}
	var mu sync.Mutex
	next := make(chan *buyer, len(buyers))
	for _, b := range buyers {
		next <- b
	}
	close(next)
	gate := make(chan struct{})
	var start time.Time
	click := func(b *buyer) {
		t0 := time.Now()
		r, _, err := b.call(ctx, http.MethodPost, page, map[string]any{"address_id": b.addressID})
		done := time.Now()
		took := done.Sub(t0)
		mu.Lock()
		defer mu.Unlock()
		res.Attempts++
		if err == nil || isHTTPError(err) {
			res.Latencies = append(res.Latencies, took)
		}
		switch {
		case err == nil && r.Code == 0:
			res.Successes++
			res.OrderIDs = append(res.OrderIDs, r.OrderID)
			res.Won = append(res.Won, took)
			res.SoldOutAt = max(res.SoldOutAt, done.Sub(start))
		case err == nil && r.Code == 400:
			res.Refused[r.Errmsg]++
			res.Refusals = append(res.Refusals, took)
		default:
			res.Errors[errorKind(err, r)]++
		}
	}
	// Browsers keep their connections open after the answer, and so do
	// these buyers until the burst is over, which holds two descriptors
	// per click (the load tool's and the shop's, in this process). If the
	// process may not open that many, each buyer closes its connections
	// once answered instead, which adds the closing to the burst.
	closeEach := !fdsFor(2*len(buyers)*cfg.Clicks + 1000)
	if closeEach {
		fmt.Fprintf(logw, "too few file descriptors for every connection at once: each buyer closes its connections once answered\n")
	}
	defer func() {
		for _, b := range buyers {
			b.http.Transport.(*http.Transport).CloseIdleConnections()
		}
	}()
	var workers sync.WaitGroup
	for range min(cfg.Concurrency, len(buyers)) {
		workers.Add(1)
		go func() {
			defer workers.Done()
			<-gate
			for b := range next {
				var clicks sync.WaitGroup
				for range cfg.Clicks {
					clicks.Add(1)
					go func() {
						defer clicks.Done()
						click(b)
					}()
				}
				clicks.Wait()
				if closeEach {
					b.http.Transport.(*http.Transport).CloseIdleConnections()
				}
			}
		}()
	}
	if cfg.Timed != nil {
		cfg.Timed(true)
	}
	start = time.Now()
	close(gate)
	workers.Wait()
	res.Elapsed = time.Since(start)
	if cfg.Timed != nil {
		cfg.Timed(false)
	}
	var dials []time.Duration
	for _, c := range conns {
		dials = append(dials, c.dials()...)
	}
	sort.Slice(dials, func(i, j int) bool { return dials[i] < dials[j] })
	if len(dials) > 0 {
		res.Connect = dials[len(dials)/2]
	}
	for _, s := range [][]time.Duration{res.Latencies, res.Won, res.Refusals} {
		sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	}
	return res, nil
}

// Summary is a human-readable report.
func (r *BurstResult) Summary() string {
	var b strings.Builder
	b.WriteString(r.SeckillResult.Summary())
	ref := Result{Latencies: r.Refusals}
	fmt.Fprintf(&b, "  of the %d refusals: p50 %s  p99 %s  max %s\n",
		len(r.Refusals), ms(ref.Percentile(50)), ms(ref.Percentile(99)), ms(ref.Percentile(100)))
	fmt.Fprintf(&b, "sold out %s after the gate; median connect %s\n", ms(r.SoldOutAt), ms(r.Connect))
	return b.String()
}

// logIn logs the buyer in through the login form, as a browser does, then
// loads page (for its CSRF token, as the browser would show it).
func (b *buyer) logIn(ctx context.Context, username, password, page string) error {
	if err := b.page(ctx, "/login/"); err != nil {
		return fmt.Errorf("login page: %w", err)
	}
	if err := b.form(ctx, "/login/", url.Values{"username": {username}, "password": {password}}); err != nil {
		return err
	}
	return b.page(ctx, page)
}

// connTimer is one browser's transport that times the connections it
// opens.
type connTimer struct {
	mu    sync.Mutex
	times []time.Duration
}

func (ct *connTimer) transport(conns int) *http.Transport {
	t := newTransport(conns)
	dial := t.DialContext
	t.DialContext = func(ctx context.Context, network, addr string) (c net.Conn, err error) {
		t0 := time.Now()
		c, err = dial(ctx, network, addr)
		ct.mu.Lock()
		ct.times = append(ct.times, time.Since(t0))
		ct.mu.Unlock()
		return c, err
	}
	return t
}

func (ct *connTimer) reset() {
	ct.mu.Lock()
	ct.times = nil
	ct.mu.Unlock()
}

func (ct *connTimer) dials() []time.Duration {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.times
}

// fdsFor reports whether this process may hold n open descriptors.
func fdsFor(n int) bool {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return false
	}
	return lim.Cur >= uint64(n)
}
