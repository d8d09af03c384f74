package loadtest

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

// Deps is what `shop bench` hands the load tool: what only the shop's
// command can build.
type Deps struct {
	// Strategy is the configured order-commit strategy, --strategy's default.
	Strategy order.Strategy
	// EmbeddedRedis is true when REDIS_URL is unset; --seckill refuses it.
	EmbeddedRedis bool
	// OpenStore opens the configured database, migrated, for --url.
	OpenStore func(ctx context.Context) (*models.Store, error)
	// Serve starts a shop in this process, wired as `shop runserver`
	// wires it, on the configured database and Redis with s applied.
	Serve func(ctx context.Context, s ShopSettings) (*Shop, error)
	Log   *slog.Logger
	Out   io.Writer // reports and tables
}

// ShopSettings is how the bench configures the shop it serves, over the
// configuration read from the environment.
type ShopSettings struct {
	Strategy        order.Strategy   // the order commit's
	SeckillStrategy seckill.Strategy // the flash sale's; empty keeps SHOP_SECKILL_STRATEGY
	Demo            bool             // false: SHOP_DEMO=off
	RegisterPerHour int              // SHOP_REGISTER_PER_HOUR
	UnpaidExpiry    time.Duration    // SHOP_UNPAID_EXPIRY
	SeckillUserRate int              // SHOP_SECKILL_USER_RATE
	SeckillIPRate   int              // SHOP_SECKILL_IP_RATE
}

// Shop is a shop served in this process.
type Shop struct {
	URL     string // e.g. http://127.0.0.1:41234
	Store   *models.Store
	Seckill *seckill.Engine
	Stop    func() // shuts it down gracefully and closes its connections
}

// shopSettings are the bench's overrides, whatever it measures.
func shopSettings(s order.Strategy, flash seckill.Strategy) ShopSettings {
	return ShopSettings{
		Strategy:        s,
		SeckillStrategy: flash,
		// Every buyer signs up, and buys, from this one address, and
		// the limits would measure the limiter, not the shop.
		RegisterPerHour: 1 << 30,
		SeckillUserRate: 1 << 20,
		SeckillIPRate:   1 << 30,
		// Earlier runs' unpaid orders are not canceled in the middle of
		// this one: that work would be measured with it.
		UnpaidExpiry: 720 * time.Hour,
	}
}

// options are the flags of `shop bench`.
type options struct {
	url       string
	strategy  order.Strategy
	seckills  []seckill.Strategy
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
	// --seckill --burst: a cold burst of logged-in browsers.
	burst       bool
	clicks      int
	concurrency int
	quiet       time.Duration
	// --browser: the order commit as browsers drive it.
	browser bool
}

// Bench is `shop bench`: it drives a shop over HTTP, then checks the
// invariants with SQL. Without --url it serves the shop itself, in this
// process, through d.Serve.
func Bench(ctx context.Context, args []string, d Deps) error {
	o, err := parseFlags(args, d)
	if err != nil {
		return err
	}
	if o.seckill {
		return benchSeckill(ctx, d, o)
	}
	if o.matrix {
		return benchMatrix(ctx, d, o)
	}
	row, err := benchOnce(ctx, d, o)
	if err != nil {
		return err
	}
	fmt.Fprint(d.Out, row.res.Summary())
	if len(row.violations) > 0 {
		for _, v := range row.violations {
			fmt.Fprintln(d.Out, "INVARIANT BROKEN:", v)
		}
		return fmt.Errorf("%d invariants broken", len(row.violations))
	}
	fmt.Fprintln(d.Out, "invariants: all hold")
	if n := row.res.ErrorCount(); n > o.maxErrors {
		return fmt.Errorf("%d errors (more than --max-errors %d)", n, o.maxErrors)
	}
	return nil
}

func parseFlags(args []string, d Deps) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(d.Out)
	var o options
	strategy := fs.String("strategy", string(d.Strategy), "order-commit strategy of the in-process shop: optimistic, conditional, pessimistic or queue")
	flash := fs.String("seckill-strategy", "all", "--seckill: flash-sale strategy to run, lua, watch or lock; all runs the three one after another")
	fs.StringVar(&o.url, "url", "", "a running shop on the same DATABASE_URL; empty: serve one in this process")
	fs.IntVar(&o.buyers, "buyers", 200, "concurrent buyers (closed loop) or the buyer pool (open loop)")
	fs.Float64Var(&o.rate, "rate", 0, "orders started per second (open loop); 0: closed loop")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "stop after this long at the latest")
	fs.IntVar(&o.skus, "skus", 1, "SKUs to buy from: 1 is one hot SKU, 100 a catalog")
	fs.IntVar(&o.stock, "stock", 0, "starting stock of each SKU (0: 50000 for one SKU, 300 each otherwise)")
	fs.IntVar(&o.count, "count", 1, "units per order")
	fs.IntVar(&o.maxOrders, "max-orders", 0, "stop after this many attempts (0: no limit)")
	fs.IntVar(&o.maxErrors, "max-errors", 0, "exit non-zero when more attempts than this fail for a reason other than stock")
	fs.BoolVar(&o.matrix, "matrix", false, "run every order-commit strategy at 50 and 200 buyers on one hot SKU and on 100 SKUs, and print the README table")
	fs.BoolVar(&o.seckill, "seckill", false, "load-test a flash sale instead (see --seckill-strategy), one sale; needs REDIS_URL")
	fs.IntVar(&o.saleStock, "sale-stock", 10000, "--seckill: units in the sale")
	fs.IntVar(&o.perUser, "per-user", 100, "--seckill: units one buyer may buy")
	fs.BoolVar(&o.burst, "burst", false, "--seckill: a cold burst instead of a closed loop: --buyers logged in beforehand, away for --quiet, then each fires --clicks buys at once, --concurrency buyers at a time, on fresh connections of its own")
	fs.IntVar(&o.clicks, "clicks", 3, "--burst: buys each buyer fires at once")
	fs.IntVar(&o.concurrency, "concurrency", 500, "--burst: buyers clicking at the same time")
	fs.DurationVar(&o.quiet, "quiet", 3*time.Second, "--burst: how long the buyers stay away after logging in (longer than the shop's 2 s caches)")
	fs.BoolVar(&o.browser, "browser", false, "order commit as browsers drive it: each buyer its own connections, and per order POST /carts/ adding 1-3 units, then POST /orders/commit/")
	fs.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of this process (shop and load together) to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("bench takes flags only, not %q (bench -h lists them)", fs.Arg(0))
	}
	var err error
	if o.strategy, err = order.ParseStrategy(*strategy); err != nil {
		if _, flashErr := seckill.ParseStrategy(*strategy); flashErr == nil && *strategy != "" {
			return o, fmt.Errorf("--strategy %q is a flash-sale strategy: --strategy picks the order commit's (optimistic, conditional, pessimistic or queue); for the flash sale use --seckill --seckill-strategy %s", *strategy, *strategy)
		}
		return o, fmt.Errorf("--strategy: %w", err)
	}
	switch *flash {
	case "all":
		o.seckills = []seckill.Strategy{seckill.StrategyLua, seckill.StrategyWatch, seckill.StrategyLock}
	default:
		s, err := seckill.ParseStrategy(*flash)
		if err != nil || *flash == "" {
			return o, fmt.Errorf("--seckill-strategy %q: want lua, watch, lock or all", *flash)
		}
		o.seckills = []seckill.Strategy{s}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["seckill-strategy"] && !o.seckill {
		return o, errors.New("--seckill-strategy applies to --seckill only; the order commit's strategy is --strategy")
	}
	if o.burst && !o.seckill {
		return o, errors.New("--burst applies to --seckill only")
	}
	for _, f := range []string{"clicks", "concurrency", "quiet"} {
		if set[f] && !o.burst {
			return o, fmt.Errorf("--%s applies to --seckill --burst only", f)
		}
	}
	if o.burst && (o.clicks < 1 || o.concurrency < 1 || o.quiet < 0) {
		return o, errors.New("--burst needs --clicks >= 1, --concurrency >= 1 and --quiet >= 0")
	}
	if o.browser && (o.seckill || o.rate > 0 || set["count"]) {
		return o, errors.New("--browser is the closed-loop order commit with 1-3 units per order: not with --seckill, --rate or --count")
	}
	return o, nil
}

type benchRow struct {
	opts       options
	res        *Result
	violations []testkit.Violation
}

// benchOnce sets up SKUs, runs the load and checks the invariants.
func benchOnce(ctx context.Context, d Deps, o options) (*benchRow, error) {
	if o.stock == 0 {
		o.stock = 300
		if o.skus == 1 {
			o.stock = 50000
		}
	}
	var st *models.Store
	url := o.url
	if url == "" {
		shop, err := d.Serve(ctx, shopSettings(o.strategy, ""))
		if err != nil {
			return nil, err
		}
		defer shop.Stop()
		st, url = shop.Store, shop.URL
	} else {
		var err error
		if st, err = d.OpenStore(ctx); err != nil {
			return nil, err
		}
		defer st.Close()
	}
	runID := strconv.FormatInt(time.Now().UnixNano()%1e12, 36)
	skus, err := testkit.CreateBenchSKUs(ctx, st, runID, o.skus, o.stock, decimal.RequireFromString("9.90"))
	if err != nil {
		return nil, err
	}
	if err := testkit.Analyze(ctx, st); err != nil {
		return nil, err
	}
	before, err := testkit.TakeSnapshot(ctx, st)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(d.Out, "bench %s: strategy %s, %d buyers%s, %s, %d SKU(s) of stock %d, database %s\n",
		runID, o.strategy, o.buyers, map[bool]string{true: " as browsers (own connections, POST /carts/ 1-3 units)"}[o.browser],
		loopName(o.rate), o.skus, o.stock, st.Dialect())
	res, err := Run(ctx, Config{
		URL: url, Buyers: o.buyers, Rate: o.rate, Duration: o.duration, MaxOrders: o.maxOrders,
		SKUs: skus, Count: o.count, Browser: o.browser, RunID: runID, Log: d.Out, Timed: profiler(o.profile, d.Log),
	})
	if err != nil {
		return nil, err
	}
	seen := testkit.Outcome{Placed: res.OrderIDs}
	for _, r := range res.Rejections {
		seen.Short = append(seen.Short, map[int64]int{r.SKUID: r.Count})
	}
	violations, err := testkit.CheckInvariants(ctx, st, before, seen)
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

// benchMatrix runs the README's benchmark table.
func benchMatrix(ctx context.Context, d Deps, o options) error {
	if o.url != "" {
		return errors.New("--matrix serves the shop itself; drop --url")
	}
	var rows []*benchRow
	for _, strategy := range []order.Strategy{order.StrategyOptimistic, order.StrategyConditional, order.StrategyPessimistic, order.StrategyQueue} {
		for _, skus := range []int{1, 100} {
			for _, buyers := range []int{50, 200} {
				ro := o
				ro.strategy, ro.skus, ro.buyers, ro.stock = strategy, skus, buyers, 0
				row, err := benchOnce(ctx, d, ro)
				if err != nil {
					return fmt.Errorf("%s, %d SKUs, %d buyers: %w", strategy, skus, buyers, err)
				}
				fmt.Fprint(d.Out, row.res.Summary())
				rows = append(rows, row)
			}
		}
	}
	out := d.Out
	fmt.Fprintln(out, "\n| strategy | SKUs | buyers | orders/s | attempts/s | p50 | p95 | p99 | max | errors | invariants | command |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	broken := 0
	for _, r := range rows {
		broken += len(r.violations)
		fmt.Fprintf(out, "| %s | %d | %d | %.0f | %.0f | %s | %s | %s | %s | %d | %s | `shop bench --strategy %s --skus %d --buyers %d --duration %s` |\n",
			r.opts.strategy, r.opts.skus, r.opts.buyers, r.res.OrdersPerSecond(), r.res.AttemptsPerSecond(),
			cell(r.res.Percentile(50)), cell(r.res.Percentile(95)), cell(r.res.Percentile(99)), cell(r.res.Percentile(100)),
			r.res.ErrorCount(), invariantsCell(len(r.violations)), r.opts.strategy, r.opts.skus, r.opts.buyers, r.opts.duration)
	}
	if broken > 0 {
		return fmt.Errorf("%d invariants broken", broken)
	}
	return nil
}

// invariantsCell says in a table cell whether a run's invariants held.
func invariantsCell(broken int) string {
	if broken > 0 {
		return fmt.Sprintf("%d BROKEN", broken)
	}
	return "exact"
}

// cell is a duration in a table cell: "12.5 ms", "128 ms".
func cell(d time.Duration) string {
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
