// Command shop is the meiduo shop: a server-rendered shop whose order
// commit never oversells. `shop help` lists its subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/meiduo/shop/web"
)

// gcPercent is the garbage collector's target unless GOGC says otherwise.
// The shop's live heap is small (tens of MB) and its garbage comes from
// requests; at Go's default of 100 the collector ran so often that it
// took a good share of the two CPUs in the flash-sale benchmark and
// stretched its latency tail (README, Benchmarks). 400 trades some memory
// for that CPU.
const gcPercent = 400

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

// run dispatches a subcommand, like Django's manage.py.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cmd := "runserver"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		printHelp(stdout)
		return nil
	}
	c, ok := commands[cmd]
	if !ok {
		printHelp(stderr)
		return fmt.Errorf("unknown subcommand %q", cmd)
	}
	cfg, err := loadConfig(getenv, stderr)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	return c.run(ctx, cfg, args, log, stdout)
}

// runserver serves the shop until ctx ends, then shuts down gracefully.
func runserver(ctx context.Context, cfg config, args []string, log *slog.Logger, stdout io.Writer) error {
	if len(args) > 1 {
		return errors.New("usage: shop runserver [ADDR]")
	}
	if len(args) == 1 {
		cfg.Addr = args[0]
	}
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.prepare(ctx, cfg, stdout); err != nil {
		return err
	}
	h, err := a.handlers(cfg)
	if err != nil {
		return err
	}
	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	a.startWorkers(workers)

	srv := &http.Server{
		Addr:              cfg.Addr,
		Handler:           web.New(h, web.Config{CSRFKey: cfg.subkey("csrf"), SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.Proxies, Log: log}),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	fmt.Fprintf(stdout, "Shop running at http://%s/ (database %s, redis %s, strategy %s). Quit with CTRL-C.\n",
		cfg.Addr, a.Store.Dialect(), a.redisName, cfg.Strategy)

	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", cfg.Addr, err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdownCtx)
	stopWorkers()
	a.waitWorkers()
	return err
}
