package faults

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
)

// Proxy is a reverse proxy on a loopback port that sends each request to
// the next backend in turn, as a load balancer in front of several shops
// would, so that consecutive requests of one client land on different
// processes.
type Proxy struct {
	srv *httptest.Server
}

// NewProxy starts a round-robin proxy to the backends (base URLs such as
// "http://127.0.0.1:8001"). It passes the client's Host header, cookies
// and Set-Cookie through unchanged, and adds X-Forwarded-For, -Host and
// -Proto. A backend that refuses the connection or fails mid-response
// answers 502 Bad Gateway (ReverseProxy's default), logged in the test
// log; the proxy does not skip it and does not retry elsewhere. Cleanup
// closes the proxy.
func NewProxy(t testing.TB, backends ...string) *Proxy {
	t.Helper()
	if len(backends) == 0 {
		t.Fatal("faults: NewProxy needs at least one backend")
	}
	targets := make([]*url.URL, len(backends))
	for i, b := range backends {
		u, err := url.Parse(b)
		if err != nil || u.Scheme == "" || u.Host == "" {
			t.Fatalf("faults: proxy backend %q is not a base URL such as http://127.0.0.1:8001", b)
		}
		targets[i] = u
	}
	// A new connection per request: a backend that was killed and
	// restarted is reached at once instead of through a dead kept-alive
	// connection, which would answer 502 to a request that cannot be retried.
	transport := &http.Transport{DisableKeepAlives: true}
	var next atomic.Uint64
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(targets[(next.Add(1)-1)%uint64(len(targets))])
			r.Out.Host = r.In.Host
			r.SetXForwarded()
		},
		Transport: transport,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			t.Logf("faults: proxy %s %s to %s: %v", r.Method, r.URL.Path, r.URL.Host, err)
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(func() {
		srv.Close()
		transport.CloseIdleConnections()
	})
	return &Proxy{srv: srv}
}

// URL is the proxy's base URL, http://127.0.0.1:N.
func (p *Proxy) URL() string { return p.srv.URL }
