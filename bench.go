package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/loadtest"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/web"
)

// benchOptions are the flags of `shop bench`.
type benchOptions struct {
	url       string
	strategy  string
	buyers    int
	rate      float64
	duration  time.Duration
	skus      int
	stock     int
	count     int
	maxOrders int
	maxErrors int
	matrix    bool
	profile   string
	seckill   bool
	saleStock int
	perUser   int
}

// benchUnpaidExpiry is the in-process shop's SHOP_UNPAID_EXPIRY: the
// longest allowed.
const benchUnpaidExpiry = 720 * time.Hour

// bench drives a shop over HTTP, then checks the invariants with SQL.
// Without --url it serves the shop itself, in this process, on the
// configured database and Redis with the chosen strategy.
func bench(ctx context.Context, cfg config, args []string, log *slog.Logger, out io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(out)
	var o benchOptions
	fs.StringVar(&o.url, "url", "", "a running shop on the same DATABASE_URL; empty: serve one in this process")
	fs.StringVar(&o.strategy, "strategy", string(cfg.Strategy), "stock strategy of the in-process shop")
	fs.IntVar(&o.buyers, "buyers", 200, "concurrent buyers (closed loop) or the buyer pool (open loop)")
	fs.Float64Var(&o.rate, "rate", 0, "orders started per second (open loop); 0: closed loop")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "stop after this long at the latest")
	fs.IntVar(&o.skus, "skus", 1, "SKUs to buy from: 1 is one hot SKU, 100 a catalog")
	fs.IntVar(&o.stock, "stock", 0, "starting stock of each SKU (0: 50000 for one SKU, 300 each otherwise)")
	fs.IntVar(&o.count, "count", 1, "units per order")
	fs.IntVar(&o.maxOrders, "max-orders", 0, "stop after this many attempts (0: no limit)")
	fs.IntVar(&o.maxErrors, "max-errors", 0, "exit non-zero when more attempts than this fail for a reason other than stock")
	fs.BoolVar(&o.matrix, "matrix", false, "run every strategy at 50 and 200 buyers on one hot SKU and on 100 SKUs, and print the README table")
	fs.BoolVar(&o.seckill, "seckill", false, "load-test a flash sale instead: every seckill strategy (or --strategy lua|watch|lock), one sale; needs REDIS_URL")
	fs.IntVar(&o.saleStock, "sale-stock", 10000, "--seckill: units in the sale")
	fs.IntVar(&o.perUser, "per-user", 100, "--seckill: units one buyer may buy")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of this process (shop and load together) to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.seckill {
		return benchSeckill(ctx, cfg, o, log, out)
	}
	if o.matrix {
		return benchMatrix(ctx, cfg, o, log, out)
	}
	row, err := benchOnce(ctx, cfg, o, log, out)
	if err != nil {
		return err
	}
	fmt.Fprint(out, row.res.Summary())
	if len(row.violations) > 0 {
		for _, v := range row.violations {
			fmt.Fprintln(out, "INVARIANT BROKEN:", v)
		}
		return fmt.Errorf("%d invariants broken", len(row.violations))
	}
	fmt.Fprintln(out, "invariants: all hold")
	if n := row.res.ErrorCount(); n > o.maxErrors {
		return fmt.Errorf("%d errors (more than --max-errors %d)", n, o.maxErrors)
	}
	return nil
}

type benchRow struct {
	opts       benchOptions
	res        *loadtest.Result
	violations []models.Violation
}

// benchOnce sets up SKUs, runs the load and checks the invariants.
func benchOnce(ctx context.Context, cfg config, o benchOptions, log *slog.Logger, out io.Writer) (*benchRow, error) {
	if o.stock == 0 {
		o.stock = 300
		if o.skus == 1 {
			o.stock = 50000
		}
	}
	st, _, err := openMigrated(ctx, cfg, 4)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	url := o.url
	if url == "" {
		strategy, err := models.ParseStrategy(o.strategy)
		if err != nil {
			return nil, fmt.Errorf("--strategy: %w", err)
		}
		cfg.Strategy = strategy
		var stop func()
		if url, stop, err = serveInProcess(ctx, cfg, log); err != nil {
			return nil, err
		}
		defer stop()
	}
	runID := strconv.FormatInt(time.Now().UnixNano()%1e12, 36)
	skus, err := st.CreateBenchSKUs(ctx, runID, o.skus, o.stock, decimal.RequireFromString("9.90"))
	if err != nil {
		return nil, err
	}
	if err := st.Analyze(ctx); err != nil {
		return nil, err
	}
	before, err := st.TakeSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "bench %s: strategy %s, %d buyers, %s, %d SKU(s) of stock %d, database %s\n",
		runID, o.strategy, o.buyers, loopName(o.rate), o.skus, o.stock, st.Dialect())
	res, err := loadtest.Run(ctx, loadtest.Config{
		URL: url, Buyers: o.buyers, Rate: o.rate, Duration: o.duration, MaxOrders: o.maxOrders,
		SKUs: skus, Count: o.count, RunID: runID, Log: out, Timed: profiler(o.profile, log),
	})
	if err != nil {
		return nil, err
	}
	seen := models.Outcome{Placed: res.OrderIDs}
	for _, r := range res.Rejections {
		seen.Short = append(seen.Short, map[int64]int{r.SKUID: r.Count})
	}
	violations, err := st.CheckInvariants(ctx, before, seen)
	if err != nil {
		return nil, fmt.Errorf("check invariants: %w", err)
	}
	return &benchRow{opts: o, res: res, violations: violations}, nil
}

func loopName(rate float64) string {
	if rate > 0 {
		return fmt.Sprintf("open loop at %.0f orders/s", rate)
	}
	return "closed loop"
}

// serveInProcess starts the shop on a free loopback port.
func serveInProcess(ctx context.Context, cfg config, log *slog.Logger) (string, func(), error) {
	cfg.Demo = "off"
	// Every buyer signs up from this one address.
	cfg.RegisterRate = 1 << 30
	// Earlier runs' unpaid orders are not canceled in the middle of this
	// one: that work would be measured with it.
	cfg.UnpaidExpiry = benchUnpaidExpiry
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return "", nil, err
	}
	if err := a.prepare(ctx, cfg, io.Discard); err != nil {
		a.Close()
		return "", nil, err
	}
	h, err := a.handlers(cfg)
	if err != nil {
		a.Close()
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.Close()
		return "", nil, err
	}
	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	a.startWorkers(workers)
	srv := &http.Server{
		Handler:           web.New(h, web.Config{CSRFKey: cfg.subkey("csrf"), Log: log}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	go srv.Serve(l)
	stop := func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdownCtx)
		stopWorkers()
		a.waitWorkers()
		a.Close()
	}
	return "http://" + l.Addr().String(), stop, nil
}

// benchMatrix runs the README's benchmark table.
func benchMatrix(ctx context.Context, cfg config, o benchOptions, log *slog.Logger, out io.Writer) error {
	if o.url != "" {
		return errors.New("--matrix serves the shop itself; drop --url")
	}
	var rows []*benchRow
	for _, strategy := range []string{"optimistic", "conditional", "pessimistic", "queue"} {
		for _, skus := range []int{1, 100} {
			for _, buyers := range []int{50, 200} {
				ro := o
				ro.strategy, ro.skus, ro.buyers, ro.stock = strategy, skus, buyers, 0
				row, err := benchOnce(ctx, cfg, ro, log, out)
				if err != nil {
					return fmt.Errorf("%s, %d SKUs, %d buyers: %w", strategy, skus, buyers, err)
				}
				fmt.Fprint(out, row.res.Summary())
				rows = append(rows, row)
			}
		}
	}
	fmt.Fprintln(out, "\n| strategy | SKUs | buyers | orders/s | attempts/s | p50 | p95 | p99 | max | errors | invariants | command |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	broken := 0
	for _, r := range rows {
		inv := "exact"
		if len(r.violations) > 0 {
			inv, broken = fmt.Sprintf("%d BROKEN", len(r.violations)), broken+len(r.violations)
		}
		fmt.Fprintf(out, "| %s | %d | %d | %.0f | %.0f | %s | %s | %s | %s | %d | %s | `shop bench --strategy %s --skus %d --buyers %d --duration %s` |\n",
			r.opts.strategy, r.opts.skus, r.opts.buyers, r.res.OrdersPerSecond(), r.res.AttemptsPerSecond(),
			ms(r.res.Percentile(50)), ms(r.res.Percentile(95)), ms(r.res.Percentile(99)), ms(r.res.Percentile(100)),
			r.res.ErrorCount(), inv, r.opts.strategy, r.opts.skus, r.opts.buyers, r.opts.duration)
	}
	if broken > 0 {
		return fmt.Errorf("%d invariants broken", broken)
	}
	return nil
}

func ms(d time.Duration) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(d.Microseconds())/1000), ".0") + " ms"
}

// profiler returns a Timed hook that profiles the timed phase into path.
func profiler(path string, log *slog.Logger) func(bool) {
	if path == "" {
		return nil
	}
	var f *os.File
	return func(running bool) {
		if !running {
			pprof.StopCPUProfile()
			f.Close()
			return
		}
		var err error
		if f, err = os.Create(path); err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			log.Error("cpu profile", "err", err)
		}
	}
}
