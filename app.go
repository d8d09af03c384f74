package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/meiduo/shop/carts"
	"github.com/meiduo/shop/handlers"
	"github.com/meiduo/shop/internal/alipay"
	"github.com/meiduo/shop/internal/metrics"
	"github.com/meiduo/shop/internal/seckill"
	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/web"
)

// app holds the open connections of one process.
type app struct {
	Store     *models.Store
	Redis     *redis.Client
	Orders    *order.Orders
	Seckill   *seckill.Engine
	log       *slog.Logger
	redisName string
	embedded  *miniredis.Miniredis
	stopClock chan struct{}
	workers   sync.WaitGroup
	// unpaidExpiry is SHOP_UNPAID_EXPIRY, for the expiry worker.
	unpaidExpiry time.Duration
	// metrics is nil unless SHOP_METRICS_ADDR is set.
	metrics *metrics.Metrics
	// draining is set once the process shuts down: /readyz answers 503.
	draining atomic.Bool
}

// openApp connects to the database and to Redis (or starts the embedded one).
func openApp(ctx context.Context, cfg config, log *slog.Logger) (*app, error) {
	st, err := models.Open(ctx, cfg.DatabaseURL, models.Options{MaxOpenConns: cfg.DBMaxConns})
	if err != nil {
		return nil, err
	}
	a := &app{Store: st, log: log, unpaidExpiry: cfg.UnpaidExpiry}
	var orderObs order.Observer
	var saleObs seckill.Observer
	if cfg.MetricsAddr != "" {
		a.metrics = metrics.New()
		orderObs = a.metrics.Orders(string(cfg.Strategy), func() int { return a.Orders.Waiting() }, func() int { return a.Orders.Committing() })
		saleObs = a.metrics.Seckill()
	}
	if cfg.RedisURL == "" {
		if err := a.startEmbeddedRedis(); err != nil {
			a.Close()
			return nil, err
		}
	} else {
		opt, err := carts.ClientOptions(cfg.RedisURL)
		if err != nil {
			a.Close()
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		a.Redis, a.redisName = redis.NewClient(opt), opt.Addr
	}
	pingCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.Redis.Ping(pingCtx).Err(); err != nil {
		a.Close()
		return nil, fmt.Errorf("connect to Redis at %s: %w", a.redisName, err)
	}
	a.Orders = order.New(st, order.Config{Strategy: cfg.Strategy, Concurrency: cfg.CommitSlots, Observer: orderObs})
	if a.Seckill, err = seckill.New(seckill.Config{Redis: a.Redis, DB: st.Sales, Strategy: cfg.SeckillStrategy, Log: log, Observer: saleObs}); err != nil {
		a.Close()
		return nil, err
	}
	if a.metrics != nil {
		sqlDB, err := st.SQL()
		if err != nil {
			a.Close()
			return nil, err
		}
		a.metrics.WatchDB(string(st.Dialect()), sqlDB)
		a.metrics.WatchRedis(a.Redis)
		a.metrics.WatchSeckill(a.Seckill)
	}
	return a, nil
}

// startEmbeddedRedis serves an in-process Redis-compatible server on
// loopback, so the same go-redis code runs in development and production.
// miniredis only expires keys when told that time has passed, so a ticker
// moves its clock along with the wall clock.
func (a *app) startEmbeddedRedis() error {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr("127.0.0.1:0"); err != nil {
		return fmt.Errorf("start the embedded Redis: %w", err)
	}
	a.embedded, a.stopClock = m, make(chan struct{})
	a.Redis, a.redisName = redis.NewClient(&redis.Options{Addr: m.Addr(), ContextTimeoutEnabled: true}), "embedded"
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case now := <-t.C:
				m.FastForward(now.Sub(last))
				last = now
			case <-a.stopClock:
				return
			}
		}
	}()
	return nil
}

// prepare migrates and, on an empty embedded database, loads the demo catalog.
func (a *app) prepare(ctx context.Context, cfg config, out io.Writer) error {
	applied, err := a.Store.Migrate(ctx)
	if err != nil {
		return err
	}
	for _, m := range applied {
		fmt.Fprintf(out, "  Applied migration %d %s\n", m.Version, m.Name)
	}
	if cfg.Demo == "off" || (cfg.Demo == "auto" && a.Store.Dialect() != migrations.SQLite) {
		return nil
	}
	loaded, err := a.Store.Catalog.LoadDemo(ctx)
	if err != nil {
		return fmt.Errorf("load the demo catalog: %w", err)
	}
	if loaded {
		fmt.Fprintln(out, "  Loaded the demo catalog into the empty database.")
	}
	return nil
}

// handlers builds the HTTP handlers with their dependencies; base is
// where Alipay and browsers reach the shop.
func (a *app) handlers(cfg config, base string) (*handlers.Handlers, error) {
	cs := handlers.NewSessionStore(cfg.subkey("session hash"), cfg.subkey("session block"), 14*24*3600)
	pay, gateway, err := a.payment(cfg, base)
	if err != nil {
		return nil, err
	}
	return handlers.New(handlers.Deps{
		Alipay:       pay,
		DevGateway:   gateway,
		UnpaidExpiry: cfg.UnpaidExpiry,
		Store:        a.Store,
		Carts:        carts.New(a.Redis),
		Orders:       a.Orders,
		Sessions:     cs,
		Limiter:      redis_rate.NewLimiter(a.Redis),
		Limits:       handlers.Limits{RegisterPerIP: redis_rate.PerHour(cfg.RegisterRate)},
		Seckill:      a.Seckill,
		SeckillLimits: handlers.SeckillLimits{
			PerUser: cfg.SeckillUserRate,
			PerIP:   cfg.SeckillIPRate,
		},
		Log:           a.log,
		CookieKey:     cfg.subkey("cookie cart"),
		SecureCookies: cfg.SecureCookies,
		MediaDir:      filepath.Join(cfg.DataDir, "media"),
		Draining:      a.draining.Load,
	})
}

// payment is Alipay's client: the configured app, or, without one, the
// development gateway's (on SQLite, or anywhere with SHOP_DEV_PAYMENT=on)
// with the gateway itself. Neither: online payment is off.
func (a *app) payment(cfg config, base string) (*alipay.Client, *alipay.DevGateway, error) {
	c := &alipay.Client{NotifyURL: base + web.PaymentNotifyPath, ReturnURL: base + "/payment/status/"}
	if app := cfg.Alipay; app != nil {
		c.AppID, c.PrivateKey, c.AlipayPublicKey, c.Gateway = app.AppID, app.PrivateKey, app.PublicKey, app.Gateway
		return c, nil, nil
	}
	if cfg.DevPayment == "off" || (cfg.DevPayment == "auto" && a.Store.Dialect() != migrations.SQLite) {
		return nil, nil, nil
	}
	keys, err := alipay.LoadOrCreateDevKeys(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	const devApp = "dev"
	c.AppID, c.PrivateKey, c.AlipayPublicKey, c.Gateway = devApp, keys.App, &keys.Gateway.PublicKey, base+"/dev/alipay/gateway.do"
	return c, &alipay.DevGateway{AppID: devApp, AppPublicKey: &keys.App.PublicKey, PrivateKey: keys.Gateway}, nil
}

// startWorkers runs background workers until ctx ends.
func (a *app) startWorkers(ctx context.Context) {
	a.workers.Add(1)
	go func() {
		defer a.workers.Done()
		if err := a.Orders.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("order worker stopped", "err", err)
		}
	}()
	a.startSeckill(ctx)
	a.workers.Go(func() { a.expireUnpaid(ctx) })
}

// expireUnpaid cancels the unpaid online orders older than
// SHOP_UNPAID_EXPIRY, returning their stock, once a minute until ctx ends.
func (a *app) expireUnpaid(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		n, err := a.Orders.ExpireUnpaid(ctx, a.unpaidExpiry)
		switch {
		case err != nil && ctx.Err() == nil:
			a.log.Error("expire unpaid orders", "err", err)
		case n > 0:
			a.log.Info("expired unpaid orders", "canceled", n)
			if a.metrics != nil {
				a.metrics.Expired(n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startSeckill runs the flash sale's consumers and closer until ctx ends.
func (a *app) startSeckill(ctx context.Context) {
	a.workers.Add(1)
	go func() {
		defer a.workers.Done()
		if err := a.Seckill.Run(ctx); err != nil {
			a.log.Error("flash-sale worker stopped", "err", err)
		}
	}()
}

func (a *app) waitWorkers() { a.workers.Wait() }

// Close releases every connection.
func (a *app) Close() {
	if a.Redis != nil {
		a.Redis.Close()
	}
	if a.embedded != nil {
		close(a.stopClock)
		a.embedded.Close()
	}
	a.Store.Close()
}
