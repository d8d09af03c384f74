package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"runtime/debug"
	"slices"
	"sort"
	"strings"

	"github.com/meiduo/shop/internal/loadtest"
	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
)

// command is a subcommand. run reads its arguments first and loads the
// configuration (cli.load) only then, so that -h and bad arguments never
// need the environment.
type command struct {
	usage string
	help  string
	run   func(ctx context.Context, c *cli, args []string) error
}

// cli is what a subcommand gets from runInput.
type cli struct {
	// load reads and checks the configuration and builds the logger.
	load           func() (config, *slog.Logger, error)
	stdin          io.Reader
	stdout, stderr io.Writer
	password       string // SHOP_SUPERUSER_PASSWORD
}

// commands lists the subcommands, like Django's manage.py.
var commands = map[string]command{
	"runserver":       {"runserver [ADDR]", "serve the shop (the default; ADDR defaults to SHOP_ADDR or 127.0.0.1:8000)", runserver},
	"migrate":         {"migrate [--to VERSION]", "apply pending database migrations; --to: migrate up or down to VERSION (0: none)", migrate},
	"showmigrations":  {"showmigrations", "list the migrations, applied [X] or not [ ]", showMigrations},
	"createsuperuser": {"createsuperuser --username U [--email E] [--mobile M]", "create a staff user with every right; the password comes from SHOP_SUPERUSER_PASSWORD or standard input", createSuperuser},
	"changepassword":  {"changepassword USERNAME", "set a user's password (from SHOP_SUPERUSER_PASSWORD or standard input) and end all their sessions", changePassword},
	"loaddemo":        {"loaddemo", "load the demo catalog into an empty database", loadDemo},
	"seckill":         {"seckill open|close|reconcile|status ...", "run flash sales: open one, close one, reconcile Redis with the database (seckill -h)", seckillCmd},
	"check":           {"check [--deploy]", "check the configuration; --deploy: list every setting unsafe for production and exit non-zero if any", check},
	"bench":           {"bench [--strategy S] [--buyers N] [--skus N] [--matrix | --seckill] ...", "load-test the order commit (or a flash sale) over HTTP and check the invariants (bench -h)", bench},
	"version":         {"version", "print the shop's module version, VCS revision and Go version", version},
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

func migrate(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("migrate", "[--to VERSION]", c.stdout)
	to := fs.Int64("to", -1, "migrate up or down to this version (0 rolls back every migration; see showmigrations)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, _, err := c.load()
	if err != nil {
		return err
	}
	if *to < 0 {
		st, applied, err := openMigrated(ctx, cfg, 2)
		if err != nil {
			return err
		}
		defer st.Close()
		if len(applied) == 0 {
			fmt.Fprintln(c.stdout, "No migrations to apply.")
		}
		for _, m := range applied {
			fmt.Fprintf(c.stdout, "  Applied migration %d %s\n", m.Version, m.Name)
		}
		return nil
	}
	st, err := models.Open(ctx, cfg.DatabaseURL, models.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer st.Close()
	done, err := st.MigrateTo(ctx, *to)
	for _, m := range done {
		what := "Applied"
		if m.Down {
			what = "Rolled back"
		}
		fmt.Fprintf(c.stdout, "  %s migration %d %s\n", what, m.Version, m.Name)
	}
	if err == nil && len(done) == 0 {
		fmt.Fprintf(c.stdout, "Already at migration %d.\n", *to)
	}
	return err
}

func showMigrations(ctx context.Context, c *cli, args []string) error {
	if err := parse(newFlags("showmigrations", "", c.stdout), args, 0); err != nil {
		return err
	}
	cfg, _, err := c.load()
	if err != nil {
		return err
	}
	st, err := models.Open(ctx, cfg.DatabaseURL, models.Options{MaxOpenConns: 2})
	if err != nil {
		return err
	}
	defer st.Close()
	list, err := st.Migrations(ctx)
	if err != nil {
		return err
	}
	for _, m := range list {
		mark := " "
		if m.Applied {
			mark = "X"
		}
		fmt.Fprintf(c.stdout, " [%s] %05d %s\n", mark, m.Version, m.Name)
	}
	return nil
}

func createSuperuser(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("createsuperuser", "--username U [--email E] [--mobile M]", c.stdout)
	username := fs.String("username", "", "login name (required)")
	password := fs.String("password", "", "deprecated: it shows in ps and the shell's history; use SHOP_SUPERUSER_PASSWORD or standard input")
	email := fs.String("email", "", "e-mail address")
	mobile := fs.String("mobile", "", "mobile number; default: a placeholder that no shopper's number can take")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("usage: shop createsuperuser --username U [--email E] [--mobile M]: --username is required")
	}
	pw := *password
	if pw != "" {
		fmt.Fprintln(c.stderr, "warning: --password is deprecated (it shows in ps and the shell history); set SHOP_SUPERUSER_PASSWORD or pipe the password on standard input")
	} else {
		var err error
		if pw, err = readPassword(c); err != nil {
			return fmt.Errorf("createsuperuser: %w", err)
		}
	}
	if bad := models.CheckPassword(pw, *username, *email, *mobile); len(bad) > 0 {
		return fmt.Errorf("createsuperuser: the password breaks these rules: %s", models.PasswordRulesText(bad))
	}
	cfg, _, err := c.load()
	if err != nil {
		return err
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
	u, err := st.Accounts.CreateUser(ctx, models.NewUser{Username: *username, Password: pw, Email: *email, Mobile: m, IsStaff: true, IsSuperuser: true})
	if err != nil {
		if errors.Is(err, models.ErrDuplicate) {
			return fmt.Errorf("createsuperuser: the username %q or that mobile is taken", *username)
		}
		return err
	}
	fmt.Fprintf(c.stdout, "Superuser %q created (id %d).\n", u.Username, u.ID)
	return nil
}

// changePassword sets a user's password, checked against the password
// rules, and ends every session of the user on every device and
// instance (the session generation moves on), as Django's does.
func changePassword(ctx context.Context, c *cli, args []string) error {
	fs := newFlags("changepassword", "USERNAME", c.stdout)
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	username := fs.Arg(0)
	pw, err := readPassword(c)
	if err != nil {
		return fmt.Errorf("changepassword: %w", err)
	}
	cfg, _, err := c.load()
	if err != nil {
		return err
	}
	st, _, err := openMigrated(ctx, cfg, 2)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.Accounts.UserByUsername(ctx, username)
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("changepassword: no user %q", username)
	}
	if err != nil {
		return err
	}
	if bad := models.CheckPassword(pw, u.Username, u.Email, u.Mobile); len(bad) > 0 {
		return fmt.Errorf("changepassword: the password breaks these rules: %s", models.PasswordRulesText(bad))
	}
	if err := st.Accounts.SetPassword(ctx, u.ID, pw); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "Password changed for user %q; their sessions have ended.\n", u.Username)
	return nil
}

// readPassword is SHOP_SUPERUSER_PASSWORD, or else the first line of
// standard input: never an argument, which ps and the shell's history
// would show.
func readPassword(c *cli) (string, error) {
	if c.password != "" {
		return c.password, nil
	}
	line, err := bufio.NewReader(io.LimitReader(c.stdin, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("no password: set SHOP_SUPERUSER_PASSWORD or write it on standard input (echo \"$PW\" | shop ...)")
	}
	return line, nil
}

// version prints what debug.ReadBuildInfo knows: the module's version
// (set by go install pkg@version; "(devel)" in a checkout), the VCS
// revision, its time and whether the tree had changes, and Go's version.
func version(_ context.Context, c *cli, args []string) error {
	if err := parse(newFlags("version", "", c.stdout), args, 0); err != nil {
		return err
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return errors.New("version: no build information in this binary")
	}
	fmt.Fprintf(c.stdout, "shop %s %s\n", bi.Main.Path, bi.Main.Version)
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		fmt.Fprintf(c.stdout, "revision %s", rev)
		if t := settings["vcs.time"]; t != "" {
			fmt.Fprintf(c.stdout, " (%s)", t)
		}
		if settings["vcs.modified"] == "true" {
			fmt.Fprint(c.stdout, ", with uncommitted changes")
		}
		fmt.Fprintln(c.stdout)
	}
	fmt.Fprintf(c.stdout, "built with %s\n", bi.GoVersion)
	return nil
}

// newFlags is a flag set whose usage names the subcommand and prints to
// out; -h then exits 0 (flag.ErrHelp).
func newFlags(name, usage string, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: shop %s %s\n", name, usage)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and wants exactly n arguments after the flags.
func parse(fs *flag.FlagSet, args []string, n int) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != n {
		fs.Usage()
		return fmt.Errorf("%s: want %d argument(s) after the flags, got %q", fs.Name(), n, fs.Args())
	}
	return nil
}

func loadDemo(ctx context.Context, c *cli, args []string) error {
	if err := parse(newFlags("loaddemo", "", c.stdout), args, 0); err != nil {
		return err
	}
	cfg, _, err := c.load()
	if err != nil {
		return err
	}
	out := c.stdout
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
func bench(ctx context.Context, c *cli, args []string) error {
	if slices.ContainsFunc(args, func(a string) bool { return a == "-h" || a == "-help" || a == "--help" }) {
		// Its flags are the load tool's: let it print them, unconfigured.
		return loadtest.Bench(ctx, args, loadtest.Deps{Out: c.stdout})
	}
	cfg, log, err := c.load()
	if err != nil {
		return err
	}
	out := c.stdout
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
