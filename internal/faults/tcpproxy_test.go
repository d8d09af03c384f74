package faults

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer answers every chunk it reads with "ok:" and the chunk, as a
// server that answers each message would.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					c.Write(append([]byte("ok:"), buf[:n]...))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

func pgMessage(typ byte, body string) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(4+len(body)+1))
	return append(append(b, body...), 0)
}

func mysqlQuery(q string) []byte {
	n := 1 + len(q)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), 0, 0x03}, q...)
}

// The proxy finds the statement in the protocol's messages, however the
// client's writes split them, passes it on and loses only its answer.
func TestTCPProxyLosesAnswer(t *testing.T) {
	startup := make([]byte, 8)
	binary.BigEndian.PutUint32(startup, 8)
	binary.BigEndian.PutUint32(startup[4:], 196608)
	tests := []struct {
		name   string
		wire   Wire
		before []byte // sent and answered first
		stmt   [][]byte
	}{
		{"postgres simple", PostgresWire, append(startup, pgMessage('Q', "commit_token IS NULL")...), [][]byte{pgMessage('Q', "commit")}},
		{"postgres split", PostgresWire, startup, [][]byte{pgMessage('Q', " COMMIT;")[:3], pgMessage('Q', " COMMIT;")[3:]}},
		{"postgres parse", PostgresWire, startup, [][]byte{pgMessage('P', "stmt\x00COMMIT")}},
		{"mysql", MySQLWire, mysqlQuery("SELECT 'COMMIT'"), [][]byte{mysqlQuery("COMMIT")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := NewTCPProxy(t, echoServer(t), tc.wire)
			p.LoseAnswerTo("COMMIT")
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			r := bufio.NewReader(c)
			c.Write(tc.before)
			got := make([]byte, 3+len(tc.before))
			if _, err := io.ReadFull(r, got); err != nil || string(got) != "ok:"+string(tc.before) {
				t.Fatalf("answer before the statement: %q, %v", got, err)
			}
			// The echo server answers each part; only the answer after the
			// statement's last byte is lost.
			for i, part := range tc.stmt {
				c.Write(part)
				if i == len(tc.stmt)-1 {
					break
				}
				got := make([]byte, 3+len(part))
				if _, err := io.ReadFull(r, got); err != nil || string(got) != "ok:"+string(part) {
					t.Fatalf("answer to part %d of the statement: %q, %v", i, got, err)
				}
			}
			if b, err := r.ReadByte(); !errors.Is(err, io.EOF) {
				t.Errorf("after the statement: read %q, %v; want the connection closed", b, err)
			}
			if n := p.Lost(); n != 1 {
				t.Errorf("%d answers lost, want 1", n)
			}
		})
	}
}
