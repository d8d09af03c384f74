package carts_test

import (
	"testing"
	"time"

	"github.com/meiduo/shop/carts"
)

// The shop's Redis client waits CommandTimeout for an answer unless the
// URL says otherwise, and obeys the caller's deadline.
func TestClientOptions(t *testing.T) {
	tests := []struct {
		url  string
		want time.Duration
	}{
		{"redis://127.0.0.1:6379/0", carts.CommandTimeout},
		{"redis://127.0.0.1:6379/0?read_timeout=250ms", 250 * time.Millisecond},
	}
	for _, tc := range tests {
		opt, err := carts.ClientOptions(tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if opt.ReadTimeout != tc.want || !opt.ContextTimeoutEnabled {
			t.Errorf("%s: read timeout %v, context deadlines %v; want %v, true", tc.url, opt.ReadTimeout, opt.ContextTimeoutEnabled, tc.want)
		}
	}
	if _, err := carts.ClientOptions("http://example.com"); err == nil {
		t.Error("an http:// URL was accepted")
	}
}
