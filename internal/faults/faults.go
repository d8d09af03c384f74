// Package faults starts what fault tests break and breaks it on purpose:
// a private redis-server that can be killed and restarted, the tests' own
// PostgreSQL and MariaDB connections cut from the server side, a
// round-robin reverse proxy, and the shop itself as a child process.
//
// Every helper takes a testing.TB, registers its own t.Cleanup, and waits
// only up to a deadline, failing the test with a message that says what
// did not happen. Call the helpers and their methods from the test's
// goroutine: they may fail the test. Child processes run in their own
// process group (Unix only), and their output goes into the test log when
// the test fails.
//
// The package imports nothing else of the shop, so that it builds while
// the rest of the repository changes.
package faults

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// How long a child process gets to exit after SIGKILL before the test fails.
const killWait = 10 * time.Second

// process is a child in its own process group, writing to a file.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited
	err  error         // cmd.Wait's result; read it after done is closed
}

// startProcess starts name with its stdout and stderr appended to logPath.
// The output goes to a file rather than a pipe so that Wait never waits
// for a grandchild that still holds the pipe. env nil inherits ours.
func startProcess(dir, logPath string, env []string, name string, args ...string) (*process, error) {
	out, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer out.Close() // the child has its own copy
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// wait reports whether the process exited within d.
func (p *process) wait(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// kill sends SIGKILL to the whole process group (redis-server forks for
// rewrites) and waits for the process to exit.
func (p *process) kill() error {
	if !p.exited() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
	if !p.wait(killWait) {
		return fmt.Errorf("pid %d still running %v after SIGKILL", p.cmd.Process.Pid, killWait)
	}
	return nil
}

// stop sends SIGTERM and waits up to grace, then kills. It reports
// whether the process exited on its own.
func (p *process) stop(grace time.Duration) (graceful bool, err error) {
	if p.exited() {
		return true, nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if p.wait(grace) {
		return true, nil
	}
	return false, p.kill()
}

// freePort asks the kernel for a free loopback port. Someone else may take
// it before our child listens on it; callers retry on "address in use".
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faults: find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logOnFailure registers a cleanup that copies the tail of the output file
// into the test log if the test failed. Register it after the t.TempDir
// call that made the file's directory: cleanups run last-in first-out.
func logOnFailure(t testing.TB, what, path string) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s output (%s):\n%s", what, path, tail(path))
		}
	})
}

// tail returns the last 64 KiB of the file.
func tail(path string) string {
	const max = 64 << 10
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(cannot read: %v)", err)
	}
	if len(b) > max {
		b = append([]byte("[...]\n"), b[len(b)-max:]...)
	}
	return string(b)
}

// addrInUse reports whether the output says the port was taken.
func addrInUse(path string) bool {
	s := strings.ToLower(tail(path))
	return strings.Contains(s, "address already in use")
}

// moduleRoot walks up from the working directory to the go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod in the working directory or above it")
		}
		dir = parent
	}
}
