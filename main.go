// Command shop is the meiduo shop: a server-rendered shop whose order
// commit never oversells. `shop help` lists its subcommands.
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
	"os/signal"
	"runtime/debug"
	"strings"
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
	ctx, stop := signals()
	err := runInput(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "shop:", err)
		os.Exit(1)
	}
}

// errTerminated is the cause of run's context ending on SIGTERM, which
// orchestrators and systemd send: runserver then drains for
// SHOP_DRAIN_DELAY before it stops. Ctrl-C (SIGINT) stops at once.
var errTerminated = errors.New("SIGTERM received")

// signals returns a context that ends on SIGINT or SIGTERM, the latter
// with the cause errTerminated. After the first signal the next one has
// its default effect, so a second Ctrl-C ends a shutdown that takes too
// long.
func signals() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-ch:
			signal.Stop(ch)
			if s == syscall.SIGTERM {
				cancel(errTerminated)
			}
			cancel(nil)
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(ch); cancel(nil) }
}

// run dispatches a subcommand, like Django's manage.py. Tests call it;
// main calls runInput, which also passes standard input.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runInput(ctx, args, getenv, strings.NewReader(""), stdout, stderr)
}

// runInput is run with standard input (createsuperuser and changepassword
// read a password from it). The subcommand reads its arguments first, then
// loads the configuration, so that `shop CMD -h` and bad arguments answer
// without any environment and without writing the development key.
func runInput(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
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
	cl := &cli{stdin: stdin, stdout: stdout, stderr: stderr, password: superuserPassword(getenv)}
	cl.load = func() (config, *slog.Logger, error) {
		cfg, err := loadConfig(getenv, stderr)
		if err != nil {
			return cfg, nil, fmt.Errorf("invalid configuration:\n%w", err)
		}
		return cfg, newLogger(cfg, stderr), nil
	}
	err := c.run(ctx, cl, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil // the flag package printed the usage
	}
	return err
}

// newLogger is the process's logger: SHOP_LOG_FORMAT's handler at
// SHOP_LOG_LEVEL, adding the request id to lines logged for a request.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	return slog.New(web.LogHandler(h))
}

// runserver serves the shop until ctx ends, then shuts down gracefully.
func runserver(ctx context.Context, c *cli, args []string) error {
	if len(args) > 1 || (len(args) == 1 && strings.HasPrefix(args[0], "-")) {
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			fmt.Fprintln(c.stdout, "usage: shop runserver [ADDR]\n\nServe the shop on ADDR (default: SHOP_ADDR, or 127.0.0.1:8000) until SIGTERM or Ctrl-C.")
			return nil
		}
		return errors.New("usage: shop runserver [ADDR]")
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	stdout := c.stdout
	if len(args) == 1 {
		cfg.Addr = args[0]
	}
	if problems := cfg.unsafe(); len(problems) > 0 {
		return fmt.Errorf("refusing to serve:\n  %s", strings.Join(problems, "\n  "))
	}
	s, err := startShop(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Shop running at http://%s/ (database %s, redis %s, strategy %s). Quit with CTRL-C.\n",
		cfg.Addr, s.Store.Dialect(), s.redisName, cfg.Strategy)
	select {
	case err := <-s.served:
		s.shutdown(0)
		return fmt.Errorf("serve %s: %w", cfg.Addr, err)
	case <-ctx.Done():
	}
	var delay time.Duration
	if errors.Is(context.Cause(ctx), errTerminated) {
		delay = cfg.DrainDelay
	}
	log.Info("shutting down: /readyz answers 503", "drain_delay", delay)
	return s.shutdown(delay)
}

// shop is the shop serving HTTP in this process.
type shop struct {
	*app
	addr        string     // where it listens
	served      chan error // what Serve returned, if it stopped by itself
	srv         *http.Server
	metrics     *http.Server // nil without SHOP_METRICS_ADDR
	stopWorkers context.CancelFunc
}

// startShop opens the database and Redis, migrates, builds the handlers
// and the router, starts the workers and serves on cfg.Addr. runserver
// and the load tool's in-process shop (shop bench) both start here.
func startShop(ctx context.Context, cfg config, log *slog.Logger, out io.Writer) (*shop, error) {
	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	if err := a.prepare(ctx, cfg, out); err != nil {
		a.Close()
		return nil, err
	}
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("serve %s: %w", cfg.Addr, err)
	}
	h, err := a.handlers(cfg, cfg.baseURL(l.Addr().String()))
	if err != nil {
		l.Close()
		a.Close()
		return nil, err
	}
	wc := web.Config{CSRFKey: cfg.subkey("csrf"), SecureCookies: cfg.SecureCookies, TrustedProxies: cfg.Proxies, Log: log}
	var metricsSrv *http.Server
	if a.metrics != nil {
		wc.Observe = a.metrics.Gin()
		if metricsSrv, err = serveMetrics(cfg.MetricsAddr, a.metrics.Handler(), log); err != nil {
			l.Close()
			a.Close()
			return nil, err
		}
	}
	srv := &http.Server{
		Handler:           web.New(h, wc),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	a.startWorkers(workers)
	s := &shop{app: a, addr: l.Addr().String(), served: make(chan error, 1), srv: srv, metrics: metricsSrv, stopWorkers: stopWorkers}
	go func() { s.served <- s.srv.Serve(l) }()
	return s, nil
}

// requestsGrace is how long the requests under way may take to finish at
// shutdown. deploy/shop.service's TimeoutStopSec allows for it.
const requestsGrace = 10 * time.Second

// shutdown turns /readyz to 503 and keeps serving for delay, so that load
// balancers stop sending requests; then it lets the requests under way
// finish (for up to 10 seconds), stops the workers (the flash sale's
// consumers write and acknowledge the batch they hold first) and closes
// the connections.
func (s *shop) shutdown(delay time.Duration) error {
	s.draining.Store(true)
	time.Sleep(delay)
	ctx, cancel := context.WithTimeout(context.Background(), requestsGrace)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	s.stopWorkers()
	s.waitWorkers()
	if s.metrics != nil {
		s.metrics.Close()
	}
	s.Close()
	return err
}

// serveMetrics serves /metrics, and nothing else, on addr: a listener of
// its own, so that the public address never exposes it.
func serveMetrics(addr string, h http.Handler, log *slog.Logger) (*http.Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("serve metrics on %s (SHOP_METRICS_ADDR): %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener stopped", "addr", addr, "err", err)
		}
	}()
	log.Info("metrics served", "url", "http://"+l.Addr().String()+"/metrics")
	return srv, nil
}
