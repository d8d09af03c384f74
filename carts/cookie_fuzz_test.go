package carts_test

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/securecookie"

	"github.com/meiduo/shop/carts"
)

// signed signs payload as a cart cookie's value under key, whatever it
// holds: what a holder of the key (or a bug in Encode) could produce.
func signed(t *testing.T, key, payload []byte) string {
	t.Helper()
	sc := securecookie.New(key, nil)
	sc.SetSerializer(securecookie.NopEncoder{})
	sc.MaxLength(0)
	v, err := sc.Encode(carts.CookieName, payload)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// obeysLimits fails the test unless the lines are a cart Store would keep.
func obeysLimits(t *testing.T, lines []carts.Line) {
	t.Helper()
	if len(lines) > carts.MaxLines {
		t.Errorf("%d lines, over %d", len(lines), carts.MaxLines)
	}
	for i, l := range lines {
		if l.SKUID < 1 || l.Count < 1 || l.Count > carts.MaxCount || i > 0 && lines[i-1].SKUID >= l.SKUID {
			t.Errorf("line %d out of the limits or the order: %+v", i, l)
		}
	}
}

// FuzzCookieCart: the anonymous cart's cookie decoder never panics; a
// value that is not signed with the key is an empty cart and an error;
// whatever a signed value holds, the cart decoded obeys the limits and
// round-trips through Encode; and a cart built by Add and Set decodes to
// exactly its lines.
func FuzzCookieCart(f *testing.F) {
	f.Add([]byte(`{"12":{"count":3,"selected":true},"5":{"count":1,"selected":false}}`), "", []byte{12, 3, 1, 5, 1, 0})
	f.Add([]byte(`{"-1":{"count":3},"0":{"count":1},"7":{"count":-4},"8":{"count":1000}}`), "not-a-cookie", []byte{})
	f.Add([]byte(`{"9223372036854775807":{"count":99,"selected":true}}`), "MTcwMDAwMDAwMHxhYmN8ZGVm", []byte{255, 255, 255})
	f.Add([]byte(`{"1":{"count":1e3}}`), "||", []byte{0, 0, 0})
	f.Add([]byte(`[1,2,3]`), "\x00", []byte{1, 99, 1})
	f.Add([]byte(`{"1":null,"2":{"count":"3"}}`), "", []byte{})
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i + 7)
	}
	otherKey := make([]byte, 32)
	f.Fuzz(func(t *testing.T, payload []byte, raw string, ops []byte) {
		// A raw value: nobody signed it with the key.
		if k, err := carts.DecodeCookie(key, raw); err == nil || len(k.Lines()) != 0 {
			t.Errorf("DecodeCookie(%q) = %v lines, %v; want an empty cart and an error", raw, len(k.Lines()), err)
		}
		// A value signed with another key.
		if k, err := carts.DecodeCookie(key, signed(t, otherKey, payload)); err == nil || len(k.Lines()) != 0 {
			t.Errorf("a value signed with another key decoded: %v lines, %v", len(k.Lines()), err)
		}

		// Any payload signed with the key.
		k, err := carts.DecodeCookie(key, signed(t, key, payload))
		lines := k.Lines()
		if err != nil && len(lines) != 0 {
			t.Errorf("an error (%v) with %d lines", err, len(lines))
		}
		obeysLimits(t, lines)
		v, err := k.Encode(key)
		if err != nil {
			t.Fatalf("encode a decoded cart: %v", err)
		}
		back, err := carts.DecodeCookie(key, v)
		if err != nil {
			t.Fatalf("decode what Encode wrote: %v", err)
		}
		if diff := cmp.Diff(lines, back.Lines()); diff != "" {
			t.Errorf("round trip (-decoded +again):\n%s", diff)
		}

		// A cart built by Add and Set: (sku, count, flags) triples.
		var built carts.Cookie
		for i := 0; i+2 < len(ops); i += 3 {
			sku := int64(binary.BigEndian.Uint16([]byte{ops[i] & 0x7f, ops[i+1]})) + 1
			n, sel := int(ops[i+2]>>1)-10, ops[i+2]&1 == 1
			if i%2 == 0 {
				built.Add(sku, n, sel)
			} else {
				built.Set(sku, n, sel)
			}
		}
		obeysLimits(t, built.Lines())
		v, err = built.Encode(key)
		if err != nil {
			t.Fatalf("encode a built cart of %d lines: %v", len(built.Lines()), err)
		}
		back, err = carts.DecodeCookie(key, v)
		if err != nil {
			t.Fatalf("decode a built cart: %v", err)
		}
		if diff := cmp.Diff(built.Lines(), back.Lines()); diff != "" {
			t.Errorf("built cart round trip (-built +decoded):\n%s", diff)
		}
	})
}
