package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"sort"

	"github.com/meiduo/shop/internal/loadtest"
	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
)

type command struct {
	usage string
	help  string
	run   func(ctx context.Context, cfg config, args []string, log *slog.Logger, stdout io.Writer) error
}

// commands lists the subcommands, like Django's manage.py.
var commands = map[string]command{
	"runserver":       {"runserver [ADDR]", "serve the shop (the default; ADDR defaults to SHOP_ADDR or 127.0.0.1:8000)", runserver},
	"migrate":         {"migrate", "apply pending database migrations", migrate},
	"createsuperuser": {"createsuperuser --username U --password P [--email E] [--mobile M]", "create a staff user with every right", createSuperuser},
	"loaddemo":        {"loaddemo", "load the demo catalog into an empty database", loadDemo},
	"seckill":         {"seckill open|close|reconcile|status ...", "run flash sales: open one, close one, reconcile Redis with the database (seckill -h)", seckillCmd},
	"check":           {"check [--deploy]", "check the configuration; --deploy: list every setting unsafe for production and exit non-zero if any", check},
	"bench":           {"bench [--strategy S] [--buyers N] [--skus N] [--matrix | --seckill] ...", "load-test the order commit (or a flash sale) over HTTP and check the invariants (bench -h)", bench},
}

func printHelp(w io.Writer) {
	fmt.Fprintln(w, "Usage: shop <subcommand> [arguments]   (no subcommand: runserver)")
	fmt.Fprintln(w, "\nSubcommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-70s %s\n", commands[n].usage, commands[n].help)
	}
	fmt.Fprintf(w, "  %-70s %s\n", "help", "show this help")
	fmt.Fprintln(w, "\nEnvironment:")
	for _, v := range envVars {
		fmt.Fprintf(w, "  %-20s %s\n", v[0], v[1])
	}
}

func migrate(ctx context.Context, cfg config, args []string, _ *slog.Logger, out io.Writer) error {
	if len(args) > 0 {
		return errors.New("usage: shop migrate")
	}
	st, applied, err := openMigrated(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer st.Close()
	if len(applied) == 0 {
		fmt.Fprintln(out, "No migrations to apply.")
	}
	for _, m := range applied {
		fmt.Fprintf(out, "  Applied migration %d %s\n", m.Version, m.Name)
	}
	return nil
}

func createSuperuser(ctx context.Context, cfg config, args []string, _ *slog.Logger, out io.Writer) error {
	fs := flag.NewFlagSet("createsuperuser", flag.ContinueOnError)
	fs.SetOutput(out)
	username := fs.String("username", "", "login name (required)")
	password := fs.String("password", "", "password, 8 to 128 characters (required)")
	email := fs.String("email", "", "e-mail address")
	mobile := fs.String("mobile", "", "mobile number; default: a placeholder that no shopper's number can take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *username == "" || *password == "" {
		return errors.New("usage: shop createsuperuser --username U --password P [--email E] [--mobile M]")
	}
	if bad := models.CheckPassword(*password, *username, *email, *mobile); len(bad) > 0 {
		return fmt.Errorf("createsuperuser: the password breaks these rules: %s", models.PasswordRulesText(bad))
	}
	st, _, err := openMigrated(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer st.Close()
	m := *mobile
	if m == "" {
		// Shoppers' numbers start with 1; 0 plus ten random digits never clashes with one.
		n, _ := rand.Int(rand.Reader, big.NewInt(1e10))
		m = fmt.Sprintf("0%010d", n)
	}
	u, err := st.Accounts.CreateUser(ctx, models.NewUser{Username: *username, Password: *password, Email: *email, Mobile: m, IsStaff: true, IsSuperuser: true})
	if err != nil {
		if errors.Is(err, models.ErrDuplicate) {
			return fmt.Errorf("createsuperuser: the username %q or that mobile is taken", *username)
		}
		return err
	}
	fmt.Fprintf(out, "Superuser %q created (id %d).\n", u.Username, u.ID)
	return nil
}

func loadDemo(ctx context.Context, cfg config, args []string, _ *slog.Logger, out io.Writer) error {
	if len(args) > 0 {
		return errors.New("usage: shop loaddemo")
	}
	st, _, err := openMigrated(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer st.Close()
	loaded, err := st.Catalog.LoadDemo(ctx)
	if err != nil {
		return err
	}
	if !loaded {
		fmt.Fprintln(out, "The database already has a catalog; nothing loaded.")
		return nil
	}
	fmt.Fprintln(out, "Demo catalog loaded.")
	return nil
}

// bench is the load tool, internal/loadtest. The shop it loads, unless
// --url names one, is started here by startShop, as runserver starts it.
func bench(ctx context.Context, cfg config, args []string, log *slog.Logger, out io.Writer) error {
	serve := func(ctx context.Context, s loadtest.ShopSettings) (*loadtest.Shop, error) {
		c := cfg
		// On a free loopback port, over plain HTTP.
		c.Addr, c.SecureCookies = "127.0.0.1:0", false
		c.Strategy, c.Demo = s.Strategy, "off"
		if s.Demo {
			c.Demo = "on"
		}
		if s.SeckillStrategy != "" {
			c.SeckillStrategy = s.SeckillStrategy
		}
		c.RegisterRate, c.UnpaidExpiry = s.RegisterPerHour, s.UnpaidExpiry
		c.SeckillUserRate, c.SeckillIPRate = s.SeckillUserRate, s.SeckillIPRate
		sh, err := startShop(ctx, c, log, io.Discard)
		if err != nil {
			return nil, err
		}
		return &loadtest.Shop{URL: "http://" + sh.addr, Store: sh.Store, Seckill: sh.Seckill, Stop: func() { sh.shutdown(0) }}, nil
	}
	return loadtest.Bench(ctx, args, loadtest.Deps{
		Strategy:      cfg.Strategy,
		EmbeddedRedis: cfg.RedisURL == "",
		OpenStore: func(ctx context.Context) (*models.Store, error) {
			st, _, err := openMigrated(ctx, cfg, 4)
			return st, err
		},
		Serve: serve,
		Log:   log,
		Out:   out,
	})
}

// openMigrated opens the configured database with a pool of conns and
// applies pending migrations, returning what it applied.
func openMigrated(ctx context.Context, cfg config, conns int) (*models.Store, []migrations.Result, error) {
	st, err := models.Open(ctx, cfg.DatabaseURL, models.Options{MaxOpenConns: conns})
	if err != nil {
		return nil, nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, applied, nil
}
