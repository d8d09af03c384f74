package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meiduo/shop/internal/alipay"
	"github.com/meiduo/shop/internal/faults"
)

// lockedBuffer is a bytes.Buffer safe to write from the server goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// The embedded default: SQLite and in-process Redis, migrated and loaded
// with the demo catalog on first run, serving pages and /healthz, and
// stopping cleanly.
func TestRunserverOnEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var out lockedBuffer
	getenv := env(map[string]string{
		"DATABASE_URL":   "sqlite:///" + filepath.Join(dir, "shop.db"),
		"SHOP_DATA_DIR":  dir,
		"SHOP_LOG_LEVEL": "warn",
	})
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"runserver", addr}, getenv, &out, &out) }()

	var res *http.Response
	for i := 0; i < 200; i++ {
		var err error
		if res, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if res == nil {
		cancel()
		t.Fatalf("server did not answer; output:\n%s", out.String())
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", res.StatusCode)
	}
	home, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(home.Body)
	home.Body.Close()
	if home.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="csrf-token"`) {
		t.Errorf("GET / = %d, want 200 with the csrf meta tag", home.StatusCode)
	}
	if !strings.Contains(string(body), `data-testid="sku-card"`) {
		t.Errorf("home page shows no demo products")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("runserver did not stop after its context ended")
	}
	if !strings.Contains(out.String(), "Loaded the demo catalog") {
		t.Errorf("first run did not load the demo catalog; output:\n%s", out.String())
	}
}

func TestInvalidConfigIsReportedAtStartup(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown strategy", map[string]string{"SHOP_STOCK_STRATEGY": "magic"}, "SHOP_STOCK_STRATEGY"},
		{"short secret", map[string]string{"SECRET_KEY": "short"}, "SECRET_KEY"},
		{"bad log level", map[string]string{"SHOP_LOG_LEVEL": "loud"}, "SHOP_LOG_LEVEL"},
		{"bad pool", map[string]string{"SHOP_DB_MAX_CONNS": "-3"}, "SHOP_DB_MAX_CONNS"},
		{"bad unpaid expiry", map[string]string{"SHOP_UNPAID_EXPIRY": "10s"}, "SHOP_UNPAID_EXPIRY"},
		{"bad database scheme", map[string]string{"DATABASE_URL": "oracle://x", "SECRET_KEY": strings.Repeat("k", 40)}, "unsupported scheme"},
		{"alipay app without keys", map[string]string{"ALIPAY_APP_ID": "2021000000000001"}, "ALIPAY_APP_PRIVATE_KEY: required"},
		{"alipay public key missing", map[string]string{"ALIPAY_APP_ID": "1", "ALIPAY_APP_PRIVATE_KEY": testKey("app_pkcs8.pem")}, "ALIPAY_PUBLIC_KEY: required"},
		{"alipay private key is public", map[string]string{"ALIPAY_APP_ID": "1", "ALIPAY_APP_PRIVATE_KEY": testKey("app_public.pem"),
			"ALIPAY_PUBLIC_KEY": testKey("alipay_public.pem")}, "ALIPAY_APP_PRIVATE_KEY"},
		{"alipay weak key", map[string]string{"ALIPAY_APP_ID": "1", "ALIPAY_APP_PRIVATE_KEY": testKey("weak_1024.pem"),
			"ALIPAY_PUBLIC_KEY": testKey("alipay_public.pem")}, "ALIPAY_APP_PRIVATE_KEY"},
		{"alipay gateway not a URL", map[string]string{"ALIPAY_APP_ID": "1", "ALIPAY_APP_PRIVATE_KEY": testKey("app_pkcs8.pem"),
			"ALIPAY_PUBLIC_KEY": testKey("alipay_public.pem"), "ALIPAY_GATEWAY": "openapi.alipay.com"}, "ALIPAY_GATEWAY"},
		{"alipay gateway alone", map[string]string{"ALIPAY_GATEWAY": "https://openapi.alipay.com/gateway.do"}, "ALIPAY_GATEWAY"},
		{"dev payment beside alipay", map[string]string{"ALIPAY_APP_ID": "1", "ALIPAY_APP_PRIVATE_KEY": testKey("app_pkcs8.pem"),
			"ALIPAY_PUBLIC_KEY": testKey("alipay_public.pem"), "SHOP_DEV_PAYMENT": "on"}, "SHOP_DEV_PAYMENT"},
		{"bad dev payment", map[string]string{"SHOP_DEV_PAYMENT": "yes"}, "SHOP_DEV_PAYMENT"},
		{"bad base URL", map[string]string{"SHOP_BASE_URL": "shop.example.com"}, "SHOP_BASE_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.env["SHOP_DATA_DIR"] = dir
			if tt.env["DATABASE_URL"] == "" {
				tt.env["DATABASE_URL"] = "sqlite:///" + filepath.Join(dir, "x.db")
			}
			var out bytes.Buffer
			err := run(context.Background(), []string{"migrate"}, env(tt.env), &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v, want an error naming %s", err, tt.want)
			}
		})
	}
}

// testKey is the path of one of the alipay package's test keys.
func testKey(name string) string { return filepath.Join("internal", "alipay", "testdata", name) }

func TestPaymentConfig(t *testing.T) {
	base := map[string]string{"SHOP_DATA_DIR": t.TempDir()}
	with := func(kv ...string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return env(m)
	}
	c, err := loadConfig(with("ALIPAY_APP_ID", "2021000000000001", "ALIPAY_APP_PRIVATE_KEY", testKey("app_pkcs1.pem"),
		"ALIPAY_PUBLIC_KEY", testKey("alipay_public.pem"), "SHOP_BASE_URL", "https://shop.example.com/"), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Alipay == nil || c.Alipay.PrivateKey == nil || c.Alipay.PublicKey == nil || c.Alipay.Gateway != alipay.DefaultGateway {
		t.Errorf("alipay app %+v, want both keys and the production gateway", c.Alipay)
	}
	if got := c.baseURL("127.0.0.1:8000"); got != "https://shop.example.com" {
		t.Errorf("base URL %q", got)
	}
	c, err = loadConfig(with(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Alipay != nil || c.DevPayment != "auto" {
		t.Errorf("no ALIPAY_*: app %+v, dev payment %q", c.Alipay, c.DevPayment)
	}
	for listen, want := range map[string]string{"127.0.0.1:8000": "http://127.0.0.1:8000", "0.0.0.0:80": "http://127.0.0.1:80",
		"[::]:8000": "http://127.0.0.1:8000", "[::1]:9": "http://[::1]:9", "shop.local:8000": "http://shop.local:8000"} {
		if got := c.baseURL(listen); got != want {
			t.Errorf("base URL listening on %s: %q, want %q", listen, got, want)
		}
	}
	var help bytes.Buffer
	printHelp(&help)
	for _, v := range []string{"ALIPAY_APP_ID", "ALIPAY_APP_PRIVATE_KEY", "ALIPAY_PUBLIC_KEY", "ALIPAY_GATEWAY", "SHOP_BASE_URL", "SHOP_DEV_PAYMENT"} {
		if !strings.Contains(help.String(), v) {
			t.Errorf("shop help does not list %s", v)
		}
	}
}

func TestUnknownSubcommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), &out, &out); err == nil {
		t.Fatal("unknown subcommand accepted")
	}
	if !strings.Contains(out.String(), "createsuperuser") {
		t.Errorf("help not printed:\n%s", out.String())
	}
}

// shop bench on the embedded default: it signs buyers up over HTTP, sells
// out a small stock exactly, and checks the invariants.
func TestBenchSellsOutExactly(t *testing.T) {
	dir := t.TempDir()
	var out lockedBuffer
	getenv := env(map[string]string{
		"DATABASE_URL":   "sqlite:///" + filepath.Join(dir, "bench.db"),
		"SHOP_DATA_DIR":  dir,
		"SHOP_LOG_LEVEL": "warn",
	})
	args := []string{"bench", "--buyers", "5", "--stock", "10", "--duration", "30s", "--strategy", "conditional"}
	if err := run(context.Background(), args, getenv, &out, &out); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	for _, want := range []string{"successful orders 10 ", "invariants: all hold", "errors 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}

// Each strategy flag names one thing, and a wrong value is refused
// before anything is opened.
func TestBenchStrategyFlags(t *testing.T) {
	dir := t.TempDir()
	getenv := env(map[string]string{"DATABASE_URL": "sqlite:///" + filepath.Join(dir, "f.db"), "SHOP_DATA_DIR": dir})
	tests := []struct {
		name string
		args []string
		want []string // in the error
	}{
		{"flash-sale name for the order commit", []string{"--strategy", "lua"}, []string{"--strategy", "flash-sale strategy", "--seckill-strategy lua"}},
		{"unknown order strategy", []string{"--strategy", "magic"}, []string{"--strategy", "magic", "optimistic, conditional, pessimistic or queue"}},
		{"unknown flash-sale strategy", []string{"--seckill", "--seckill-strategy", "magic"}, []string{"--seckill-strategy", "magic", "lua, watch, lock or all"}},
		{"order name for the flash sale", []string{"--seckill", "--seckill-strategy", "queue"}, []string{"--seckill-strategy", "queue", "lua, watch, lock or all"}},
		{"flash-sale strategy without --seckill", []string{"--seckill-strategy", "lua"}, []string{"--seckill-strategy applies to --seckill only"}},
		{"burst without --seckill", []string{"--burst"}, []string{"--burst applies to --seckill only"}},
		{"clicks without --burst", []string{"--seckill", "--clicks", "2"}, []string{"--clicks applies to --seckill --burst only"}},
		{"no clicks", []string{"--seckill", "--burst", "--clicks", "0"}, []string{"--clicks >= 1"}},
		{"browser with a count", []string{"--browser", "--count", "2"}, []string{"--browser", "1-3 units"}},
		{"browser flash sale", []string{"--browser", "--seckill"}, []string{"--browser", "not with --seckill"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"bench"}, tt.args...), getenv, &out, &out)
			if err == nil {
				t.Fatalf("bench %v succeeded; output:\n%s", tt.args, out.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("bench %v: error %q, want it to contain %q", tt.args, err, w)
				}
			}
		})
	}
}

// shop bench --seckill on a private redis-server: one strategy, one sale,
// every invariant exact.
func TestBenchSeckill(t *testing.T) {
	redisURL := startRedis(t)
	dir := t.TempDir()
	var out lockedBuffer
	getenv := env(map[string]string{
		"DATABASE_URL":   "sqlite:///" + filepath.Join(dir, "seckill.db"),
		"REDIS_URL":      redisURL,
		"SHOP_DATA_DIR":  dir,
		"SHOP_LOG_LEVEL": "warn",
	})
	args := []string{"bench", "--seckill", "--seckill-strategy", "lua", "--buyers", "5", "--sale-stock", "20", "--per-user", "5", "--duration", "2s"}
	if err := run(context.Background(), args, getenv, &out, &out); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	for _, want := range []string{"strategy lua, 5 buyers, 20 units", "| lua | 5 |", "| 20 |", "| 0 | exact |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "| watch |") {
		t.Errorf("--seckill-strategy lua ran other strategies too:\n%s", out.String())
	}
}

// shop bench --seckill --burst on a private redis-server: buyers logged
// in beforehand click several times at once; the sale sells out exactly
// and the rest are refused.
func TestBenchSeckillBurst(t *testing.T) {
	redisURL := startRedis(t)
	dir := t.TempDir()
	var out lockedBuffer
	getenv := env(map[string]string{
		"DATABASE_URL":   "sqlite:///" + filepath.Join(dir, "burst.db"),
		"REDIS_URL":      redisURL,
		"SHOP_DATA_DIR":  dir,
		"SHOP_LOG_LEVEL": "warn",
	})
	args := []string{"bench", "--seckill", "--seckill-strategy", "lua", "--burst", "--buyers", "12", "--clicks", "3",
		"--concurrency", "4", "--quiet", "0s", "--sale-stock", "5", "--per-user", "1"}
	if err := run(context.Background(), args, getenv, &out, &out); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	for _, want := range []string{"buy attempts 36 ", "successes 5,", "refused 31,", "errors 0", "| lua | 12 x 3 | 4 |", "| 0 | exact |"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}

// shop bench --browser: each buyer adds 1-3 units with POST /carts/ and
// commits, on connections of its own; a small stock sells out exactly.
func TestBenchBrowser(t *testing.T) {
	dir := t.TempDir()
	var out lockedBuffer
	getenv := env(map[string]string{
		"DATABASE_URL":   "sqlite:///" + filepath.Join(dir, "browser.db"),
		"SHOP_DATA_DIR":  dir,
		"SHOP_LOG_LEVEL": "warn",
	})
	args := []string{"bench", "--browser", "--buyers", "4", "--stock", "20", "--max-orders", "30", "--duration", "30s"}
	if err := run(context.Background(), args, getenv, &out, &out); err != nil {
		t.Fatalf("bench: %v\n%s", err, out.String())
	}
	for _, want := range []string{"as browsers", "invariants: all hold", "errors 0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("bench output lacks %q:\n%s", want, out.String())
		}
	}
}

// startRedis starts a private, empty redis-server on a free port for the
// test, and stops it when the test ends.
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not installed")
	}
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "redis://" + addr + "/0"
		}
	}
	t.Fatalf("redis-server did not listen on %s", addr)
	return ""
}

// migrate, loaddemo and createsuperuser do their work once and say so
// when run again.
func TestManagementCommands(t *testing.T) {
	dir := t.TempDir()
	getenv := env(map[string]string{"DATABASE_URL": "sqlite:///" + filepath.Join(dir, "m.db"), "SHOP_DATA_DIR": dir})
	tests := []struct {
		name    string
		args    []string
		want    string // in the output, or in the error when wantErr
		wantErr bool
	}{
		{"first migrate", []string{"migrate"}, "Applied migration 1", false},
		{"second migrate", []string{"migrate"}, "No migrations to apply", false},
		{"first loaddemo", []string{"loaddemo"}, "Demo catalog loaded", false},
		{"second loaddemo", []string{"loaddemo"}, "nothing loaded", false},
		{"createsuperuser", []string{"createsuperuser", "--username", "boss1", "--password", "a-long-password"}, `Superuser "boss1" created`, false},
		{"same name again", []string{"createsuperuser", "--username", "boss1", "--password", "a-long-password"}, "is taken", true},
		{"short password", []string{"createsuperuser", "--username", "boss2", "--password", "short"}, "at least 8 characters", true},
		{"common password", []string{"createsuperuser", "--username", "boss2", "--password", "password123"}, "not a common password", true},
		{"like the username", []string{"createsuperuser", "--username", "bossman2", "--password", "bossman22"}, "not too like the username", true},
		{"digits only", []string{"createsuperuser", "--username", "boss2", "--password", "9081726354"}, "not digits only", true},
		{"invisible username", []string{"createsuperuser", "--username", "\u3164\u200B", "--password", "a-long-password"}, "has nothing visible", true},
		{"username with a bidi override", []string{"createsuperuser", "--username", "boss\u202E2", "--password", "a-long-password"}, "text-direction controls", true},
		{"no username", []string{"createsuperuser", "--password", "a-long-password"}, "usage", true},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := run(context.Background(), tt.args, getenv, &out, &out)
		got := out.String()
		if err != nil {
			got = err.Error()
		}
		if (err != nil) != tt.wantErr || !strings.Contains(got, tt.want) {
			t.Errorf("%s: err %v, output %q; want error=%v and %q", tt.name, err, out.String(), tt.wantErr, tt.want)
		}
	}
}

// Outside SQLite, runserver refuses to start on the in-process Redis or
// the development key, naming each variable, before it connects to
// anything.
func TestRunserverRefusesUnsafeProduction(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	getenv := env(map[string]string{
		"DATABASE_URL":  "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
		"SHOP_DATA_DIR": dir,
	})
	err := run(context.Background(), []string{"runserver", freeAddr(t)}, getenv, &out, &out)
	if err == nil {
		t.Fatal("runserver started on PostgreSQL without REDIS_URL and SECRET_KEY")
	}
	for _, want := range []string{"REDIS_URL", "SECRET_KEY"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	if strings.Contains(err.Error(), "connect") {
		t.Errorf("error %q: it tried to connect before refusing", err)
	}
}

// shop check --deploy lists every unsafe setting and exits non-zero; a
// production configuration passes.
func TestCheckDeploy(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := run(context.Background(), []string{"check", "--deploy"}, env(map[string]string{"SHOP_DATA_DIR": dir}), &out, &out)
	if err == nil {
		t.Fatalf("check --deploy passed the embedded default:\n%s", out.String())
	}
	for _, want := range []string{"DATABASE_URL is SQLite", "REDIS_URL", "SECRET_KEY", "SHOP_SECURE_COOKIES"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("check --deploy does not mention %q:\n%s", want, out.String())
		}
	}

	volatile := faults.StartRedis(t)
	durable := faults.StartRedisWith(t, faults.RedisOptions{AppendOnly: true})
	prod := map[string]string{
		"DATABASE_URL":        "postgres://shop@db.example:5432/shop?sslmode=disable",
		"SECRET_KEY":          strings.Repeat("k", 50),
		"SHOP_SECURE_COOKIES": "true",
		"SHOP_DATA_DIR":       dir,
	}
	for _, tc := range []struct {
		name  string
		redis string
		want  string // "" means no problem
	}{
		{"redis without appendonly", volatile.URL(), "appendonly"},
		{"production", durable.URL(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prod["REDIS_URL"] = tc.redis
			var out bytes.Buffer
			err := run(context.Background(), []string{"check", "--deploy"}, env(prod), &out, &out)
			if tc.want == "" && err != nil {
				t.Errorf("check --deploy = %v, want ok:\n%s", err, out.String())
			}
			if tc.want != "" && (err == nil || !strings.Contains(out.String(), tc.want)) {
				t.Errorf("check --deploy = %v, want a problem naming %q:\n%s", err, tc.want, out.String())
			}
		})
	}
}
