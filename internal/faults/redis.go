package faults

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisReady bounds the wait for a started redis-server to answer PING,
// including loading an append-only file.
const redisReady = 10 * time.Second

// RedisOptions configures StartRedisWith.
type RedisOptions struct {
	// AppendOnly runs the server with appendonly yes and appendfsync
	// always: every acknowledged write survives Kill, and Restart loads
	// it back. Without it, Restart starts empty.
	AppendOnly bool
}

// Redis is a private redis-server on a loopback port. Its methods fail
// the test when the server does not do what they ask in time.
type Redis struct {
	t       testing.TB
	bin     string
	dataDir string
	logPath string
	opts    RedisOptions
	port    int

	mu   sync.Mutex
	proc *process // nil while stopped
}

// StartRedis starts a private, empty redis-server with no persistence and
// waits until it answers PING. If redis-server is not installed it skips
// the test, or fails it when SHOP_REQUIRE_REDIS_SERVER=1. Cleanup kills it.
func StartRedis(t testing.TB) *Redis {
	t.Helper()
	return StartRedisWith(t, RedisOptions{})
}

// StartRedisWith is StartRedis with options.
func StartRedisWith(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("SHOP_REQUIRE_REDIS_SERVER") == "1" {
			t.Fatalf("faults: SHOP_REQUIRE_REDIS_SERVER=1 but redis-server is not installed: %v", err)
		}
		t.Skipf("faults: redis-server is not installed (apt-get install redis-server): %v", err)
	}
	dir := t.TempDir()
	r := &Redis{t: t, bin: bin, dataDir: filepath.Join(dir, "data"), logPath: filepath.Join(dir, "redis.log"), opts: opts}
	if err := os.Mkdir(r.dataDir, 0o755); err != nil {
		t.Fatalf("faults: %v", err)
	}
	logOnFailure(t, "redis-server", r.logPath)
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.proc != nil {
			if err := r.proc.kill(); err != nil {
				t.Errorf("faults: redis-server: %v", err)
			}
		}
	})
	// The free port may be taken before redis-server binds it.
	for attempt := 1; ; attempt++ {
		r.port = freePort(t)
		err := r.start()
		if err == nil {
			return r
		}
		if attempt == 3 || !addrInUse(r.logPath) {
			t.Fatalf("faults: start redis-server on %s: %v", r.Addr(), err)
		}
	}
}

// Addr is the server's host:port.
func (r *Redis) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// URL is the server's redis:// URL, database 0.
func (r *Redis) URL() string { return "redis://" + r.Addr() + "/0" }

// start runs redis-server on r.port and waits for PING. It kills what it
// started if that never answers.
func (r *Redis) start() error {
	args := []string{"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--dir", r.dataDir}
	if r.opts.AppendOnly {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	p, err := startProcess(r.dataDir, r.logPath, nil, r.bin, args...)
	if err != nil {
		return err
	}
	if err := waitPing(p, r.Addr()); err != nil {
		_ = p.kill()
		return err
	}
	r.proc = p
	return nil
}

func waitPing(p *process, addr string) error {
	c := newRedisClient(addr)
	defer c.Close()
	deadline := time.Now().Add(redisReady)
	var err error
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("redis-server exited before answering PING: %v", p.err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("no answer to PING within %v: %v", redisReady, err)
}

func newRedisClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{
		Addr:         addr,
		DialTimeout:  time.Second,
		ReadTimeout:  time.Second,
		WriteTimeout: time.Second,
		MaxRetries:   -1,
		PoolSize:     1,
	})
}

// Kill ends the server with SIGKILL, as a crash would, and waits for it
// to exit. Clients then get connection errors. Killing a stopped server
// does nothing.
func (r *Redis) Kill() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil {
		return
	}
	err := r.proc.kill()
	r.proc = nil
	if err != nil {
		r.t.Fatalf("faults: kill redis-server: %v", err)
	}
}

// Stop shuts the server down with SIGTERM, waiting up to 10 s before
// SIGKILL. Stopping a stopped server does nothing.
func (r *Redis) Stop() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil {
		return
	}
	graceful, err := r.proc.stop(10 * time.Second)
	r.proc = nil
	if err != nil {
		r.t.Fatalf("faults: stop redis-server: %v", err)
	}
	if !graceful {
		r.t.Logf("faults: redis-server ignored SIGTERM for 10s; killed it")
	}
}

// Restart kills the server if it is running and starts it again on the
// same port, waiting for PING. It comes back empty, as a Redis that lost
// its memory does, unless the options asked for AppendOnly.
func (r *Redis) Restart() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil {
		err := r.proc.kill()
		r.proc = nil
		if err != nil {
			r.t.Fatalf("faults: restart redis-server: %v", err)
		}
	}
	if !r.opts.AppendOnly {
		if err := os.RemoveAll(r.dataDir); err != nil {
			r.t.Fatalf("faults: empty redis-server's directory: %v", err)
		}
		if err := os.Mkdir(r.dataDir, 0o755); err != nil {
			r.t.Fatalf("faults: %v", err)
		}
	}
	if err := r.start(); err != nil {
		r.t.Fatalf("faults: restart redis-server on %s: %v", r.Addr(), err)
	}
}

// Flush deletes every key in every database (FLUSHALL).
func (r *Redis) Flush() {
	r.t.Helper()
	c := newRedisClient(r.Addr())
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.FlushAll(ctx).Err(); err != nil {
		r.t.Fatalf("faults: FLUSHALL on %s: %v", r.Addr(), err)
	}
}
