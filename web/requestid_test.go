package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestRequestID(t *testing.T) {
	trusted := parseProxies([]string{"127.0.0.1", "10.0.0.0/8", "::1"})
	var seen string
	h := withRequestID(trusted, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = RequestID(r.Context()) }))
	tests := []struct {
		name, remote, incoming string
		kept                   bool
	}{
		{"trusted proxy", "127.0.0.1:5000", "abc-123", true},
		{"trusted CIDR", "10.1.2.3:5000", "req:42/x", true},
		{"trusted IPv6", "[::1]:5000", "v6", true},
		{"untrusted client", "192.0.2.7:5000", "abc-123", false},
		{"trusted, too long", "127.0.0.1:5000", strings.Repeat("a", 65), false},
		{"trusted, 64 characters", "127.0.0.1:5000", strings.Repeat("a", 64), true},
		{"trusted, a space", "127.0.0.1:5000", "a b", false},
		{"trusted, a control character", "127.0.0.1:5000", "a\x1bb", false},
		{"trusted, not ASCII", "127.0.0.1:5000", "äb", false},
		{"trusted, none sent", "127.0.0.1:5000", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.RemoteAddr = tt.remote
			if tt.incoming != "" {
				r.Header.Set(RequestIDHeader, tt.incoming)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			got := w.Header().Get(RequestIDHeader)
			if got == "" || got != seen {
				t.Fatalf("response header %q, context %q; want the same, non-empty", got, seen)
			}
			if kept := got == tt.incoming; kept != tt.kept {
				t.Errorf("id %q for incoming %q from %s: kept %v, want %v", got, tt.incoming, tt.remote, kept, tt.kept)
			}
		})
	}

	ids := map[string]bool{}
	for range 100 {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		ids[w.Header().Get(RequestIDHeader)] = true
	}
	if len(ids) != 100 {
		t.Errorf("100 requests got %d distinct ids", len(ids))
	}
	if parseProxies([]string{"127.0.0.1", "not-an-ip"}) != nil {
		t.Errorf("a list with a bad entry is trusted in part; want none trusted, as gin does")
	}
}

func TestLogHandlerAddsRequestID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewJSONHandler(&buf, nil))).With("component", "test")
	ctx := context.WithValue(context.Background(), requestIDKey{}, "rid-1")
	log.InfoContext(ctx, "with a request")
	log.Info("without one")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines: %s", len(lines), buf.String())
	}
	for i, want := range []string{"rid-1", ""} {
		var rec map[string]any
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatalf("line %d is not JSON: %v: %s", i, err, lines[i])
		}
		got, _ := rec["request_id"].(string)
		if got != want || rec["component"] != "test" {
			t.Errorf("line %d: request_id %q, component %v; want %q, test", i, got, rec["component"], want)
		}
	}
}
