package faults

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	buildWait = 5 * time.Minute  // go build of the shop
	shopReady = 30 * time.Second // start until /healthz answers 200
	shopGrace = 15 * time.Second // SIGTERM until SIGKILL
)

// build is the shop binary, built once per test binary.
var build struct {
	once sync.Once
	bin  string
	err  error
}

// BuildShop builds the repository's main package once per test binary and
// returns the binary's path. The binary is kept in a directory named
// faults-shop-<pid>-* under os.TempDir(), which outlives any one test; a
// later build removes those whose process has exited.
func BuildShop(t testing.TB) string {
	t.Helper()
	build.once.Do(func() { build.bin, build.err = buildShop() })
	if build.err != nil {
		t.Fatalf("faults: build the shop: %v", build.err)
	}
	return build.bin
}

func buildShop() (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	removeStaleBuilds()
	dir, err := os.MkdirTemp("", fmt.Sprintf("faults-shop-%d-", os.Getpid()))
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "shop")
	ctx, cancel := context.WithTimeout(context.Background(), buildWait)
	defer cancel()
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		if ctx.Err() != nil {
			err = fmt.Errorf("not done within %v", buildWait)
		}
		return "", fmt.Errorf("go build -o %s . (in %s): %v\n%s", bin, root, err, out)
	}
	return bin, nil
}

// removeStaleBuilds removes earlier test binaries' builds whose process
// no longer exists.
func removeStaleBuilds() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "faults-shop-*-*"))
	for _, dir := range dirs {
		pidStr, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), "faults-shop-"), "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}

// Shop is the shop running as a child process, as in production: a kill
// ends it without deferred functions or graceful shutdown.
type Shop struct {
	t       testing.TB
	bin     string
	env     []string
	args    []string
	dir     string
	logPath string
	addr    string

	mu   sync.Mutex
	proc *process // nil while stopped
}

// StartShop runs bin as `bin runserver 127.0.0.1:<free port> args...` with
// the environment env plus PATH and HOME (unless env sets them), in a
// fresh working directory, and waits up to 30 s until GET /healthz answers
// 200. Its stdout and stderr go into the test log if the test fails.
// Cleanup kills it.
func StartShop(t testing.TB, bin string, env []string, args ...string) *Shop {
	t.Helper()
	dir := t.TempDir()
	s := &Shop{
		t: t, bin: bin, args: args,
		env:     withDefaults(env, "PATH", "HOME"),
		dir:     dir,
		logPath: filepath.Join(dir, "shop.log"),
	}
	logOnFailure(t, "shop", s.logPath)
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.proc != nil {
			if err := s.proc.kill(); err != nil {
				t.Errorf("faults: shop: %v", err)
			}
		}
	})
	// The free port may be taken before the shop binds it.
	for attempt := 1; ; attempt++ {
		s.addr = "127.0.0.1:" + strconv.Itoa(freePort(t))
		err := s.start()
		if err == nil {
			return s
		}
		if attempt == 3 || !addrInUse(s.logPath) {
			t.Fatalf("faults: start the shop on %s: %v (its output is below)", s.addr, err)
		}
	}
}

// withDefaults adds our value of each key that env does not set.
func withDefaults(env []string, keys ...string) []string {
	env = append([]string(nil), env...)
	for _, k := range keys {
		if !slices.ContainsFunc(env, func(kv string) bool { return strings.HasPrefix(kv, k+"=") }) {
			env = append(env, k+"="+os.Getenv(k))
		}
	}
	return env
}

// start runs the shop on s.addr and waits for /healthz. It kills what it
// started if that never answers 200.
func (s *Shop) start() error {
	args := append([]string{"runserver", s.addr}, s.args...)
	p, err := startProcess(s.dir, s.logPath, s.env, s.bin, args...)
	if err != nil {
		return err
	}
	if err := waitHealthy(p, s.URL()+"/healthz"); err != nil {
		_ = p.kill()
		return err
	}
	s.proc = p
	return nil
}

func waitHealthy(p *process, url string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(shopReady)
	last := "no answer"
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("the shop exited before GET /healthz answered 200: %v", p.err)
		}
		res, err := client.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
			last = res.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("GET /healthz did not answer 200 within %v; last: %s", shopReady, last)
}

// URL is the shop's base URL, http://127.0.0.1:N.
func (s *Shop) URL() string { return "http://" + s.addr }

// Kill ends the shop with SIGKILL, as a crash or an OOM kill would, and
// waits for it to exit. Killing a stopped shop does nothing.
func (s *Shop) Kill() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	err := s.proc.kill()
	s.proc = nil
	if err != nil {
		s.t.Fatalf("faults: kill the shop: %v", err)
	}
}

// Stop shuts the shop down with SIGTERM, as a deploy does, and waits up to
// 15 s for it to exit before SIGKILL; the test log says if it had to.
// Stopping a stopped shop does nothing.
func (s *Shop) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return
	}
	graceful, err := s.proc.stop(shopGrace)
	p := s.proc
	s.proc = nil
	if err != nil {
		s.t.Fatalf("faults: stop the shop: %v", err)
	}
	if !graceful {
		s.t.Logf("faults: the shop did not exit within %v of SIGTERM; killed it", shopGrace)
	} else if p.err != nil {
		s.t.Logf("faults: the shop exited after SIGTERM: %v", p.err)
	}
}

// Restart kills the shop if it is running and starts it again on the same
// address, with the same environment and arguments, waiting for /healthz.
func (s *Shop) Restart() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		err := s.proc.kill()
		s.proc = nil
		if err != nil {
			s.t.Fatalf("faults: restart the shop: %v", err)
		}
	}
	if err := s.start(); err != nil {
		s.t.Fatalf("faults: restart the shop on %s: %v (its output is below)", s.addr, err)
	}
}

// Terminate sends SIGTERM to the shop, as a deploy does, and returns at
// once; Wait waits for it to exit.
func (s *Shop) Terminate() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		s.t.Fatal("faults: terminate a shop that is not running")
	}
	if err := s.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("faults: SIGTERM the shop: %v", err)
	}
}

// Wait waits up to d for the shop to exit. It reports whether it did, and
// its exit error (nil: status 0). A shop still running keeps running
// (Cleanup kills it).
func (s *Shop) Wait(d time.Duration) (exited bool, err error) {
	s.t.Helper()
	s.mu.Lock()
	p := s.proc
	s.mu.Unlock()
	if p == nil || !p.wait(d) {
		return p == nil, nil
	}
	s.mu.Lock()
	s.proc = nil
	s.mu.Unlock()
	return true, p.err
}
