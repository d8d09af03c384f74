package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/models"
)

const seckillUsage = `usage:
  shop seckill open --sku ID --stock N [--price P] [--per-user 1] [--start T] [--end T]
  shop seckill close --sale ID
  shop seckill reconcile [--repair]
  shop seckill status
T is RFC 3339 (2026-05-01T20:00:00+08:00) or 2026-05-01T20:00 in UTC+8; --start
defaults to now, --end to an hour after the start, --price to the SKU's price.`

// seckillCmd runs the flash sale's operator commands on the configured
// database and Redis (REDIS_URL is required: an in-process Redis would hold
// nothing of the running shop's).
func seckillCmd(ctx context.Context, c *cli, args []string) error {
	out := c.stdout
	usage := func() error {
		fmt.Fprintln(c.stderr, seckillUsage)
		return errors.New("usage: shop seckill open|close|reconcile|status ... (shop seckill -h)")
	}
	if len(args) == 0 {
		return usage()
	}
	if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprintln(out, seckillUsage)
		return nil
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("seckill "+sub, flag.ContinueOnError)
	fs.SetOutput(out)
	var run func(a *app) error
	switch sub {
	case "open":
		sku := fs.Int64("sku", 0, "the SKU id (required)")
		stock := fs.Int("stock", 0, "units moved from the SKU's stock into the sale (required)")
		price := fs.String("price", "", "the sale price; default: the SKU's price")
		perUser := fs.Int("per-user", 1, "units one user may buy")
		start := fs.String("start", "", "when the sale starts; default now")
		end := fs.String("end", "", "when it ends; default an hour after the start")
		run = func(a *app) error {
			in := models.SaleInput{SKUID: *sku, Stock: *stock, PerUser: *perUser, Start: time.Now()}
			var err error
			if *start != "" {
				if in.Start, err = parseSaleTime(*start); err != nil {
					return fmt.Errorf("--start: %w", err)
				}
			}
			in.End = in.Start.Add(time.Hour)
			if *end != "" {
				if in.End, err = parseSaleTime(*end); err != nil {
					return fmt.Errorf("--end: %w", err)
				}
			}
			if *price == "" {
				k, err := a.Store.Catalog.SKUByID(ctx, *sku)
				if err != nil {
					return err
				}
				in.Price = k.Price
			} else if in.Price, err = decimal.NewFromString(*price); err != nil {
				return fmt.Errorf("--price: %w", err)
			}
			s, err := a.Seckill.Open(ctx, in)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "Flash sale %d open: sku %d, %d units at %s, %d per user, %s to %s.\n",
				s.ID, s.SKUID, s.Stock, s.Price.StringFixed(2), s.PerUser, s.StartTime.Format(time.RFC3339), s.EndTime.Format(time.RFC3339))
			return nil
		}
	case "close":
		sale := fs.Int64("sale", 0, "the sale id (required)")
		run = func(a *app) error {
			rep, err := a.Seckill.Close(ctx, *sale)
			if err != nil {
				return err
			}
			if !rep.ClosedNow {
				fmt.Fprintf(out, "Flash sale %d was closed already: %d sold.\n", rep.Sale.ID, rep.Sale.Sold)
				return nil
			}
			fmt.Fprintf(out, "Flash sale %d closed: %d of %d sold, %d units back in sku %d's stock (Redis counted %d sold).\n",
				rep.Sale.ID, rep.Sale.Sold, rep.Sale.Stock, rep.Returned, rep.Sale.SKUID, rep.RedisSold)
			return nil
		}
	case "reconcile":
		repair := fs.Bool("repair", false, "make Redis agree with the database")
		run = func(a *app) error {
			rep, err := a.Seckill.Reconcile(ctx, *repair)
			if err != nil {
				return err
			}
			for _, d := range rep.Diffs {
				fmt.Fprintln(out, d)
			}
			switch {
			case len(rep.Diffs) == 0:
				fmt.Fprintf(out, "%d open sale(s): Redis and the database agree.\n", rep.Sales)
			case rep.Repaired:
				fmt.Fprintf(out, "%d open sale(s): %d difference(s), repaired.\n", rep.Sales, len(rep.Diffs))
			default:
				return fmt.Errorf("%d difference(s); run with --repair to fix them", len(rep.Diffs))
			}
			return nil
		}
	case "status":
		run = func(a *app) error {
			sales, err := a.Seckill.Status(ctx)
			if err != nil {
				return err
			}
			if len(sales) == 0 {
				fmt.Fprintln(out, "No open flash sale.")
			}
			for _, s := range sales {
				// The database's counts are the truth; Redis's run ahead
				// by the orders still queued, and are rebuilt from the
				// database if Redis loses the sale.
				fmt.Fprintf(out, "sale %d sku %d: %s to %s, %d units, %d sold (database)", s.Sale.ID, s.Sale.SKUID,
					s.Sale.StartTime.Format(time.RFC3339), s.Sale.EndTime.Format(time.RFC3339), s.Sale.Stock, s.Sale.Sold)
				if s.Sale.RebuiltAt != nil {
					fmt.Fprintf(out, ", rebuilt in Redis at %s", s.Sale.RebuiltAt.Format(time.RFC3339))
				}
				if !s.InRedis {
					fmt.Fprintln(out, "; not in Redis: the shop loads it from the database")
					continue
				}
				fmt.Fprintf(out, "; Redis: %d sold, %d left, %s; %d orders to persist (oldest waiting %s)\n",
					s.Redis.Sold, s.Redis.Stock, s.Redis.Phase, s.Queued, s.Oldest.Round(time.Millisecond))
			}
			return nil
		}
	default:
		return usage()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usage()
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	if cfg.RedisURL == "" {
		return errors.New("shop seckill needs REDIS_URL: the sale lives in the shop's Redis")
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Store.Migrate(ctx); err != nil {
		return err
	}
	return run(a)
}

// parseSaleTime reads RFC 3339, or a datetime-local value in UTC+8.
func parseSaleTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.ParseInLocation("2006-01-02T15:04", s, time.FixedZone("CST", 8*3600))
}
