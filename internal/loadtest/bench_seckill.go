package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// seckillRow is one strategy's flash-sale run.
type seckillRow struct {
	strategy seckill.Strategy
	res      *SeckillResult
	burst    *BurstResult     // --burst only
	lag      [4]time.Duration // persistence lag p50, p95, p99, max
	broken   []string
}

// benchSeckill load-tests the flash sale over HTTP, once per strategy of
// --seckill-strategy, each on a fresh SKU and sale served in this
// process, then verifies: database orders = units Redis sold = successes,
// no buyer above the limit, stock never negative, and the unsold units
// back at close, exactly.
func benchSeckill(ctx context.Context, d Deps, o options) error {
	if d.EmbeddedRedis || o.url != "" {
		return errors.New("bench --seckill needs REDIS_URL (a real Redis) and serves the shop itself (no --url)")
	}
	out := d.Out
	var rows []*seckillRow
	for _, s := range o.seckills {
		row, err := benchSeckillOnce(ctx, d, o, s)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		if row.burst != nil {
			fmt.Fprint(out, row.burst.Summary())
		} else {
			fmt.Fprint(out, row.res.Summary())
		}
		fmt.Fprintf(out, "persistence lag p50 %s  p95 %s  p99 %s  max %s\n", cell(row.lag[0]), cell(row.lag[1]), cell(row.lag[2]), cell(row.lag[3]))
		rows = append(rows, row)
	}
	if o.burst {
		return seckillTable(out, rows, "| strategy | buyers x clicks | at once | attempts/s | successes | sold out after | p50 | p95 | p99 | max | refusals p99 | lag p99 |",
			func(r *seckillRow) string {
				b, refusals := r.burst, Result{Latencies: r.burst.Refusals}
				return fmt.Sprintf("%s | %d x %d | %d | %.0f | %d | %s | %s | %s | %s | %s | %s | %s", r.strategy, o.buyers, o.clicks,
					o.concurrency, b.AttemptsPerSecond(), b.Successes, cell(b.SoldOutAt), cell(b.Percentile(50)), cell(b.Percentile(95)),
					cell(b.Percentile(99)), cell(b.Percentile(100)), cell(refusals.Percentile(99)), cell(r.lag[2]))
			})
	}
	return seckillTable(out, rows, "| strategy | buyers | attempts/s | successes | p50 | p95 | p99 | max | lag p50 | lag p99 |",
		func(r *seckillRow) string {
			return fmt.Sprintf("%s | %d | %.0f | %d | %s | %s | %s | %s | %s | %s", r.strategy, o.buyers,
				r.res.AttemptsPerSecond(), r.res.Successes, cell(r.res.Percentile(50)), cell(r.res.Percentile(95)),
				cell(r.res.Percentile(99)), cell(r.res.Percentile(100)), cell(r.lag[0]), cell(r.lag[2]))
		})
}

// seckillTable prints one table row a run: the cells cells gives, then
// its errors and whether its invariants held, then every broken one.
func seckillTable(out io.Writer, rows []*seckillRow, header string, cells func(*seckillRow) string) error {
	header += " errors | invariants |"
	fmt.Fprintln(out, "\n"+header)
	fmt.Fprintln(out, strings.Repeat("|---", strings.Count(header, "|")-1)+"|")
	broken := 0
	for _, r := range rows {
		fmt.Fprintf(out, "| %s | %d | %s |\n", cells(r), r.res.ErrorCount(), invariantsCell(len(r.broken)))
		for _, b := range r.broken {
			fmt.Fprintf(out, "INVARIANT BROKEN (%s): %s\n", r.strategy, b)
		}
		broken += len(r.broken)
	}
	if broken > 0 {
		return fmt.Errorf("%d invariants broken", broken)
	}
	return nil
}

func benchSeckillOnce(ctx context.Context, d Deps, o options, s seckill.Strategy) (*seckillRow, error) {
	shop, err := d.Serve(ctx, shopSettings(o.strategy, s))
	if err != nil {
		return nil, err
	}
	defer shop.Stop()
	st, engine := shop.Store, shop.Seckill
	runID := strconv.FormatInt(time.Now().UnixNano()%1e12, 36)
	skuStock := o.saleStock + 1000
	skus, err := testkit.CreateBenchSKUs(ctx, st, runID, 1, skuStock, decimal.RequireFromString("99.00"))
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
	now := time.Now()
	sale, err := engine.Open(ctx, models.SaleInput{SKUID: skus[0], Stock: o.saleStock, Price: decimal.RequireFromString("9.90"),
		PerUser: o.perUser, Start: now, End: now.Add(time.Hour)})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(d.Out, "\nbench %s: flash sale %d, strategy %s, %d buyers, %d units, %d per buyer, database %s\n",
		runID, sale.ID, s, o.buyers, o.saleStock, o.perUser, st.Dialect())
	row := &seckillRow{strategy: s}
	if o.burst {
		const password = "burst-pass-123"
		crowd, err := testkit.CreateBuyers(ctx, st, "k"+runID, password, o.buyers)
		if err != nil {
			return nil, err
		}
		row.burst, err = RunBurst(ctx, BurstConfig{URL: shop.URL, Buyers: crowd, Password: password, Clicks: o.clicks,
			Concurrency: o.concurrency, SKU: skus[0], Quiet: o.quiet, Log: d.Out, Timed: profiler(o.profile, d.Log)})
		if err != nil {
			return nil, err
		}
		row.res = &row.burst.SeckillResult
	} else {
		row.res, err = RunSeckill(ctx, SeckillConfig{URL: shop.URL, Buyers: o.buyers, Duration: o.duration,
			SKU: skus[0], RunID: runID, Log: d.Out, Timed: profiler(o.profile, d.Log)})
		if err != nil {
			return nil, err
		}
	}
	res := row.res
	bad := func(format string, args ...any) { row.broken = append(row.broken, fmt.Sprintf(format, args...)) }
	// Wait for the shop's consumers, so the lag is theirs, not the
	// closer's.
	for wait := time.Now().Add(30 * time.Second); time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
		status, err := engine.Status(ctx)
		if err != nil {
			return nil, err
		}
		if len(status) == 1 && status[0].Queued == 0 {
			if status[0].Redis.Stock < 0 {
				bad("Redis stock is %d", status[0].Redis.Stock)
			}
			break
		}
	}
	rep, err := engine.Close(ctx, sale.ID)
	if err != nil {
		return nil, err
	}
	if rep.Sale.Sold != rep.RedisSold || rep.Sale.Sold != res.Successes {
		bad("database orders %d, units Redis sold %d, successes %d", rep.Sale.Sold, rep.RedisSold, res.Successes)
	}
	if rep.Returned != o.saleStock-rep.Sale.Sold {
		bad("returned %d units at close, want %d", rep.Returned, o.saleStock-rep.Sale.Sold)
	}
	orders, err := st.Sales.SaleOrders(ctx, sale.ID)
	if err != nil {
		return nil, err
	}
	perUser := map[int64]int{}
	lags := make([]time.Duration, len(orders))
	for i, r := range orders {
		perUser[r.UserID]++
		lags[i] = r.CreateTime.Sub(r.DecidedTime)
	}
	for uid, n := range perUser {
		if n > o.perUser {
			bad("user %d has %d orders, the limit is %d", uid, n, o.perUser)
		}
	}
	slices.Sort(lags)
	for i, p := range []float64{50, 95, 99, 100} {
		row.lag[i] = seckill.Percentile(lags, p)
	}
	violations, err := testkit.CheckInvariants(ctx, st, before, testkit.Outcome{Placed: res.OrderIDs})
	if err != nil {
		return nil, err
	}
	for _, v := range violations {
		bad("%s", v)
	}
	k, err := st.Catalog.SKUByID(ctx, skus[0])
	if err != nil {
		return nil, err
	}
	if k.Stock != skuStock-rep.Sale.Sold || k.Stock < 0 {
		bad("sku stock %d after close, want %d", k.Stock, skuStock-rep.Sale.Sold)
	}
	return row, nil
}
