package main

import (
	"bufio"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meiduo/shop/internal/seckill"
)

// deploy/shop.service gives a SIGTERM-ed shop time for its whole drain
// (SHOP_DRAIN_DELAY, the requests under way, the flash-sale consumer's
// batch) before systemd kills it.
func TestSystemdUnitAllowsTheDrain(t *testing.T) {
	f, err := os.Open("deploy/shop.service")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	unit := map[string]string{}
	envs := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		if k == "Environment" {
			ek, ev, _ := strings.Cut(v, "=")
			envs[ek] = ev
			continue
		}
		unit[k] = v
	}
	if unit["KillSignal"] != "SIGTERM" || unit["KillMode"] != "mixed" {
		t.Errorf("KillSignal=%s KillMode=%s; want SIGTERM to the shop alone (mixed)", unit["KillSignal"], unit["KillMode"])
	}
	stop, err := time.ParseDuration(unit["TimeoutStopSec"])
	if err != nil {
		t.Fatalf("TimeoutStopSec=%q: %v", unit["TimeoutStopSec"], err)
	}
	cfg, err := loadConfig(func(k string) string {
		if k == "SECRET_KEY" {
			return strings.Repeat("k", 40)
		}
		return envs[k]
	}, io.Discard)
	if err != nil {
		t.Fatalf("the unit's Environment= lines: %v", err)
	}
	const readUnderWay = 500 * time.Millisecond // the consumer's blocking read
	need := cfg.DrainDelay + requestsGrace + seckill.DefaultDrain + readUnderWay
	if stop < need+5*time.Second {
		t.Errorf("TimeoutStopSec=%v; the drain takes up to %v (SHOP_DRAIN_DELAY %v, requests %v, flash sale %v): want 5 s more",
			stop, need, cfg.DrainDelay, requestsGrace, seckill.DefaultDrain+readUnderWay)
	}
	if cfg.MetricsAddr == "" || !strings.HasPrefix(cfg.MetricsAddr, "127.0.0.1:") {
		t.Errorf("SHOP_METRICS_ADDR=%q; want it on loopback, apart from the public listener", cfg.MetricsAddr)
	}
}
