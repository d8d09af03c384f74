package faults

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Wire is the protocol a TCPProxy's clients speak, so that it can find
// their statements in the bytes it passes on.
type Wire int

const (
	// Raw is any protocol (Redis's, say): the proxy only passes bytes on.
	Raw Wire = iota
	// PostgresWire is PostgreSQL's frontend protocol, without TLS
	// (sslmode=disable).
	PostgresWire
	// MySQLWire is the MySQL/MariaDB client protocol, without TLS or
	// compression.
	MySQLWire
)

// TCPProxy sits between clients and one server (a database, a Redis) on a
// loopback port, passes their bytes on, and breaks what a test asks it to:
// it delays the server's answers (SetLatency), cuts every connection
// (CutAll), or lets a statement reach the server and loses its answer
// (LoseAnswerTo).
type TCPProxy struct {
	t       testing.TB
	ln      net.Listener
	target  string
	wire    Wire
	latency atomic.Int64 // time.Duration added to each answer

	mu     sync.Mutex
	links  map[*link]struct{}
	lose   string        // the statement whose next answer is lost; "" none
	hold   chan struct{} // LoseAnswerLate's: closed when the statement may go on
	lost   int
	closed bool
	wg     sync.WaitGroup
}

// link is one client connection and its connection to the server.
type link struct {
	client, server net.Conn
	losing         atomic.Bool // the next answer is dropped, then both ends closed
	held           atomic.Bool // LoseAnswerLate held the statement (and counted it lost)
	once           sync.Once
}

func (l *link) close() {
	l.once.Do(func() {
		l.client.Close()
		l.server.Close()
	})
}

// NewTCPProxy starts a proxy to target (host:port) whose clients speak
// wire. Cleanup closes it and every connection through it.
func NewTCPProxy(t testing.TB, target string, wire Wire) *TCPProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faults: TCP proxy: %v", err)
	}
	p := &TCPProxy{t: t, ln: ln, target: target, wire: wire, links: map[*link]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		ln.Close()
		p.CutAll()
		p.wg.Wait()
	})
	return p
}

// NewDBProxy starts a TCPProxy to the server of a database URL
// (postgres://, postgresql:// or mysql://, port defaults as each
// protocol's), with the wire its scheme names. Through(dbURL) is the URL
// its clients use.
func NewDBProxy(t testing.TB, dbURL string) *TCPProxy {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("faults: database URL: %v", err)
	}
	wire, port := PostgresWire, "5432"
	switch u.Scheme {
	case "postgres", "postgresql":
	case "mysql":
		wire, port = MySQLWire, "3306"
	default:
		t.Fatalf("faults: NewDBProxy wants a postgres:// or mysql:// URL, got %s://", u.Scheme)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	return NewTCPProxy(t, net.JoinHostPort(u.Hostname(), port), wire)
}

// Through returns rawURL with its host and port the proxy's.
func (p *TCPProxy) Through(rawURL string) string {
	p.t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		p.t.Fatalf("faults: URL: %v", err)
	}
	u.Host = p.Addr()
	return u.String()
}

// Addr is the proxy's host:port, for the clients.
func (p *TCPProxy) Addr() string { return p.ln.Addr().String() }

// SetLatency holds every chunk the server sends for d before passing it
// on: a slow server, or a slow network. 0 turns it off.
func (p *TCPProxy) SetLatency(d time.Duration) { p.latency.Store(int64(d)) }

// CutAll closes every connection through the proxy, both ends, at once.
// New connections are still accepted.
func (p *TCPProxy) CutAll() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
}

// LoseAnswerTo arms the proxy once: the next time a client sends stmt
// (compared without case, surrounding space or a trailing semicolon; in a
// PostgreSQL simple query or Parse message, or a MySQL COM_QUERY), the
// proxy passes it to the server, waits for the server's answer, drops
// it, and closes that connection at both ends. The client sees its
// connection die while it waits, although the server did the work: a
// COMMIT that succeeded and lost its answer. Needs PostgresWire or
// MySQLWire.
func (p *TCPProxy) LoseAnswerTo(stmt string) {
	p.t.Helper()
	if p.wire == Raw {
		p.t.Fatal("faults: LoseAnswerTo needs a proxy that knows its clients' wire protocol")
	}
	p.mu.Lock()
	p.lose = normalize(stmt)
	p.mu.Unlock()
}

// LoseAnswerLate is LoseAnswerTo with the client told first: when a
// client sends stmt, its connection is closed at once, and the proxy
// holds stmt back, keeping the server's side of the connection open (its
// transaction still in progress), until deliver is called; then stmt
// reaches the server and its answer is lost. Between the two, the client
// may try again on a new connection while the server has not yet done
// what the lost connection asked: a COMMIT still on its way. deliver may
// be called more than once; Cleanup calls it.
func (p *TCPProxy) LoseAnswerLate(stmt string) (deliver func()) {
	p.t.Helper()
	p.LoseAnswerTo(stmt)
	hold := make(chan struct{})
	p.mu.Lock()
	p.hold = hold
	p.mu.Unlock()
	var once sync.Once
	deliver = func() { once.Do(func() { close(hold) }) }
	p.t.Cleanup(deliver)
	return deliver
}

// Lost reports how many answers LoseAnswerTo and LoseAnswerLate have lost
// so far (LoseAnswerLate's from the moment it holds the statement).
func (p *TCPProxy) Lost() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost
}

func (p *TCPProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			p.t.Logf("faults: TCP proxy to %s: %v", p.target, err)
			c.Close()
			continue
		}
		l := &link{client: c, server: s}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			l.close()
			return
		}
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.up(l)
		go p.down(l)
	}
}

func (p *TCPProxy) forget(l *link) {
	l.close()
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
}

// up passes the client's bytes to the server, looking for the statement
// whose answer is to be lost.
func (p *TCPProxy) up(l *link) {
	defer p.wg.Done()
	handedOver := false // to down, which closes the link
	defer func() {
		if !handedOver {
			p.forget(l)
		}
	}()
	fr := framer{wire: p.wire}
	buf := make([]byte, 32<<10)
	for {
		n, err := l.client.Read(buf)
		if n > 0 {
			var hold chan struct{}
			if p.wire != Raw {
				for _, q := range fr.statements(buf[:n]) {
					p.mu.Lock()
					hit := p.lose != "" && normalize(q) == p.lose
					if hit {
						p.lose, hold, p.hold = "", p.hold, nil
					}
					p.mu.Unlock()
					if hit {
						l.losing.Store(true) // before the server can answer
					}
				}
			}
			if hold != nil {
				l.held.Store(true)
				l.client.Close()
				p.mu.Lock()
				p.lost++ // whatever the server answers
				p.mu.Unlock()
				<-hold
				_, werr := l.server.Write(buf[:n])
				handedOver = werr == nil
				return
			}
			if _, werr := l.server.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// down passes the server's bytes to the client, late if asked, and drops
// the answer LoseAnswerTo wants lost.
func (p *TCPProxy) down(l *link) {
	defer p.wg.Done()
	defer p.forget(l)
	buf := make([]byte, 32<<10)
	for {
		n, err := l.server.Read(buf)
		if n > 0 {
			if l.losing.Load() {
				if !l.held.Load() {
					p.mu.Lock()
					p.lost++
					p.mu.Unlock()
				}
				return // forget closes both ends
			}
			if d := time.Duration(p.latency.Load()); d > 0 {
				time.Sleep(d)
			}
			if _, werr := l.client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func normalize(stmt string) string {
	return strings.ToUpper(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(stmt), ";")))
}

// framer splits a client's byte stream into protocol messages and returns
// the SQL text of the statements among them.
type framer struct {
	wire    Wire
	pending []byte
	started bool // PostgreSQL: the untyped startup message is behind us
}

// PostgreSQL request codes of untyped messages that another untyped
// message follows.
const (
	pgSSLRequest    = 80877103
	pgGSSEncRequest = 80877104
)

func (f *framer) statements(b []byte) []string {
	f.pending = append(f.pending, b...)
	var out []string
	for {
		q, n, err := f.next()
		if err != nil || n == 0 {
			return out
		}
		f.pending = f.pending[n:]
		if q != "" {
			out = append(out, q)
		}
	}
}

var errShort = errors.New("need more bytes")

// next returns the statement of the first whole message in f.pending ("" if
// it holds none) and the message's length, or 0 if it is not all there.
func (f *framer) next() (stmt string, n int, err error) {
	b := f.pending
	switch f.wire {
	case PostgresWire:
		if !f.started {
			if len(b) < 8 {
				return "", 0, errShort
			}
			n = int(binary.BigEndian.Uint32(b))
			if n < 8 || len(b) < n {
				return "", 0, errShort
			}
			code := binary.BigEndian.Uint32(b[4:])
			f.started = code != pgSSLRequest && code != pgGSSEncRequest
			return "", n, nil
		}
		if len(b) < 5 {
			return "", 0, errShort
		}
		n = 1 + int(binary.BigEndian.Uint32(b[1:]))
		if n < 5 || len(b) < n {
			return "", 0, errShort
		}
		body := b[5:n]
		switch b[0] {
		case 'Q': // query text
			return cstring(body), n, nil
		case 'P': // statement name, then query text
			if i := strings.IndexByte(string(body), 0); i >= 0 {
				return cstring(body[i+1:]), n, nil
			}
		}
		return "", n, nil
	case MySQLWire:
		if len(b) < 4 {
			return "", 0, errShort
		}
		n = 4 + (int(b[0]) | int(b[1])<<8 | int(b[2])<<16)
		if len(b) < n {
			return "", 0, errShort
		}
		if n > 4 && b[4] == 0x03 { // COM_QUERY
			return string(b[5:n]), n, nil
		}
		return "", n, nil
	}
	return "", 0, io.EOF
}

func cstring(b []byte) string {
	if i := strings.IndexByte(string(b), 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}
