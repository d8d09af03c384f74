package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/loadtest"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/models"
)

// seckillRow is one strategy's flash-sale run.
type seckillRow struct {
	strategy seckill.Strategy
	res      *loadtest.SeckillResult
	lag      [4]time.Duration // persistence lag p50, p95, p99, max
	sold     int
	broken   []string
}

// benchSeckill load-tests the flash sale over HTTP, once per strategy (or
// the one --strategy names), each on a fresh SKU and sale served in this
// process, then verifies: database orders = units Redis sold = successes,
// no buyer above the limit, stock never negative, and the unsold units
// back at close, exactly.
func benchSeckill(ctx context.Context, cfg config, o benchOptions, log *slog.Logger, out io.Writer) error {
	if cfg.RedisURL == "" || o.url != "" {
		return errors.New("bench --seckill needs REDIS_URL (a real Redis) and serves the shop itself (no --url)")
	}
	strategies := []seckill.Strategy{seckill.StrategyLua, seckill.StrategyWatch, seckill.StrategyLock}
	if s, err := seckill.ParseStrategy(o.strategy); err == nil && o.strategy != "" {
		strategies = []seckill.Strategy{s}
	}
	var rows []*seckillRow
	for _, s := range strategies {
		row, err := benchSeckillOnce(ctx, cfg, o, s, log, out)
		if err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
		fmt.Fprint(out, row.res.Summary())
		fmt.Fprintf(out, "persistence lag p50 %s  p95 %s  p99 %s  max %s\n", ms(row.lag[0]), ms(row.lag[1]), ms(row.lag[2]), ms(row.lag[3]))
		rows = append(rows, row)
	}
	fmt.Fprintln(out, "\n| strategy | buyers | attempts/s | successes | p50 | p95 | p99 | max | lag p50 | lag p99 | errors | invariants |")
	fmt.Fprintln(out, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	broken := 0
	for _, r := range rows {
		inv := "exact"
		if len(r.broken) > 0 {
			inv, broken = fmt.Sprintf("%d BROKEN", len(r.broken)), broken+len(r.broken)
		}
		fmt.Fprintf(out, "| %s | %d | %.0f | %d | %s | %s | %s | %s | %s | %s | %d | %s |\n", r.strategy, o.buyers,
			r.res.AttemptsPerSecond(), r.res.Successes, ms(r.res.Percentile(50)), ms(r.res.Percentile(95)),
			ms(r.res.Percentile(99)), ms(r.res.Percentile(100)), ms(r.lag[0]), ms(r.lag[2]), r.res.ErrorCount(), inv)
		for _, b := range r.broken {
			fmt.Fprintf(out, "INVARIANT BROKEN (%s): %s\n", r.strategy, b)
		}
	}
	if broken > 0 {
		return fmt.Errorf("%d invariants broken", broken)
	}
	return nil
}

func benchSeckillOnce(ctx context.Context, cfg config, o benchOptions, s seckill.Strategy, log *slog.Logger, out io.Writer) (*seckillRow, error) {
	cfg.SeckillStrategy = s
	// Every buyer comes from this one address, and the limits would
	// measure the limiter, not the sale.
	cfg.SeckillUserRate, cfg.SeckillIPRate = 1<<20, 1<<30
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	if _, err := a.Store.Migrate(ctx); err != nil {
		return nil, err
	}
	url, stop, err := serveInProcess(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	defer stop()
	runID := strconv.FormatInt(time.Now().UnixNano()%1e12, 36)
	skuStock := o.saleStock + 1000
	skus, err := a.Store.CreateBenchSKUs(ctx, runID, 1, skuStock, decimal.RequireFromString("99.00"))
	if err != nil {
		return nil, err
	}
	if err := a.Store.Analyze(ctx); err != nil {
		return nil, err
	}
	before, err := a.Store.TakeSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	sale, err := a.Seckill.Open(ctx, models.SaleInput{SKUID: skus[0], Stock: o.saleStock, Price: decimal.RequireFromString("9.90"),
		PerUser: o.perUser, Start: now, End: now.Add(time.Hour)})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "\nbench %s: flash sale %d, strategy %s, %d buyers, %d units, %d per buyer, database %s\n",
		runID, sale.ID, s, o.buyers, o.saleStock, o.perUser, a.Store.Dialect())
	res, err := loadtest.RunSeckill(ctx, loadtest.SeckillConfig{URL: url, Buyers: o.buyers, Duration: o.duration,
		SKU: skus[0], RunID: runID, Log: out, Timed: profiler(o.profile, log)})
	if err != nil {
		return nil, err
	}
	row := &seckillRow{strategy: s, res: res}
	bad := func(format string, args ...any) { row.broken = append(row.broken, fmt.Sprintf(format, args...)) }
	// Wait for the shop's consumers, so the lag is theirs, not the
	// closer's.
	for wait := time.Now().Add(30 * time.Second); time.Now().Before(wait); time.Sleep(50 * time.Millisecond) {
		st, err := a.Seckill.Status(ctx)
		if err != nil {
			return nil, err
		}
		if len(st) == 1 && st[0].Queued == 0 {
			if st[0].Redis.Stock < 0 {
				bad("Redis stock is %d", st[0].Redis.Stock)
			}
			break
		}
	}
	rep, err := a.Seckill.Close(ctx, sale.ID)
	if err != nil {
		return nil, err
	}
	row.sold = rep.Sale.Sold
	if rep.Sale.Sold != rep.RedisSold || rep.Sale.Sold != res.Successes {
		bad("database orders %d, units Redis sold %d, successes %d", rep.Sale.Sold, rep.RedisSold, res.Successes)
	}
	if rep.Returned != o.saleStock-rep.Sale.Sold {
		bad("returned %d units at close, want %d", rep.Returned, o.saleStock-rep.Sale.Sold)
	}
	orders, err := a.Store.SaleOrders(ctx, sale.ID)
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
	violations, err := a.Store.CheckInvariants(ctx, before, models.Outcome{Placed: res.OrderIDs})
	if err != nil {
		return nil, err
	}
	for _, v := range violations {
		bad("%s", v)
	}
	k, err := a.Store.SKUByID(ctx, skus[0])
	if err != nil {
		return nil, err
	}
	if k.Stock != skuStock-rep.Sale.Sold || k.Stock < 0 {
		bad("sku stock %d after close, want %d", k.Stock, skuStock-rep.Sale.Sold)
	}
	return row, nil
}
