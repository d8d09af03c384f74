package carts_test

import (
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/securecookie"

	"github.com/meiduo/shop/carts"
)

func TestCookieCartRoundTripIsSignedJSON(t *testing.T) {
	key := testKey(1)
	var k carts.Cookie
	if _, err := k.Add(12, 3, true); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Add(5, 1, false); err != nil {
		t.Fatal(err)
	}
	v, err := k.Encode(key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := carts.DecodeCookie(key, v)
	if err != nil {
		t.Fatalf("DecodeCookie: %v", err)
	}
	want := []carts.Line{{SKUID: 5, Count: 1}, {SKUID: 12, Count: 3, Selected: true}}
	if diff := cmp.Diff(want, back.Lines()); diff != "" {
		t.Errorf("decoded lines (-want +got):\n%s", diff)
	}

	// The payload is the documented JSON, read with the plain securecookie
	// JSON codec.
	sc := securecookie.New(key, nil)
	sc.SetSerializer(securecookie.JSONEncoder{})
	var raw map[string]map[string]any
	if err := sc.Decode(carts.CookieName, v, &raw); err != nil {
		t.Fatalf("securecookie JSON decode: %v", err)
	}
	wantRaw := map[string]map[string]any{
		"5":  {"count": float64(1), "selected": false},
		"12": {"count": float64(3), "selected": true},
	}
	if diff := cmp.Diff(wantRaw, raw); diff != "" {
		t.Errorf("cookie JSON (-want +got):\n%s", diff)
	}
}

func TestCookieCartRefusesForgedValues(t *testing.T) {
	key := testKey(1)
	var k carts.Cookie
	if _, err := k.Add(1, 2, true); err != nil {
		t.Fatal(err)
	}
	good, err := k.Encode(key)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(name string, sz securecookie.Serializer, v any) string {
		sc := securecookie.New(key, nil)
		sc.SetSerializer(sz)
		s, err := sc.Encode(name, v)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	flip := []byte(good)
	flip[len(flip)/2] ^= 1
	raw, _ := base64.URLEncoding.DecodeString(good)
	// Change the JSON payload but keep the old MAC.
	parts := strings.SplitN(string(raw), "|", 3)
	forged := base64.URLEncoding.EncodeToString([]byte(parts[0] + "|" +
		base64.URLEncoding.EncodeToString([]byte(`{"1":{"count":99,"selected":true}}`)) + "|" + parts[2]))

	cases := []struct {
		name  string
		value string
	}{
		{"empty", ""},
		{"not base64", "%%%not-a-cookie%%%"},
		{"plain JSON", `{"1":{"count":2,"selected":true}}`},
		{"one bit flipped", string(flip)},
		{"payload changed under the old signature", forged},
		{"signed with another key", func() string { v, _ := k.Encode(testKey(9)); return v }()},
		{"signed for another cookie name", sign("sessionid", securecookie.JSONEncoder{}, map[string]any{"1": map[string]any{"count": 2, "selected": true}})},
		{"gob instead of JSON", sign(carts.CookieName, securecookie.GobEncoder{}, map[int64]int{1: 2})},
		{"JSON of the wrong shape", sign(carts.CookieName, securecookie.JSONEncoder{}, []int{1, 2})},
		{"too long", strings.Repeat("A", 5000)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := carts.DecodeCookie(key, tc.value)
			if err == nil {
				t.Errorf("DecodeCookie accepted %q", tc.value)
			}
			if got == nil || got.Len() != 0 || got.Count() != 0 {
				t.Errorf("DecodeCookie gave %+v, want an empty cart", got)
			}
		})
	}
}

func TestCookieCartDecodeKeepsLimits(t *testing.T) {
	key := testKey(1)
	items := map[string]map[string]any{
		"0":   {"count": 1, "selected": true},
		"-3":  {"count": 1, "selected": true},
		"2":   {"count": 0, "selected": true},
		"3":   {"count": -5, "selected": true},
		"4":   {"count": 500, "selected": true},
		"999": {"count": 1, "selected": false},
	}
	for id := 1000; id < 1060; id++ {
		items[strconv.Itoa(id)] = map[string]any{"count": 1}
	}
	sc := securecookie.New(key, nil)
	sc.SetSerializer(securecookie.JSONEncoder{})
	sc.MaxLength(0)
	v, err := sc.Encode(carts.CookieName, items)
	if err != nil {
		t.Fatal(err)
	}
	k, err := carts.DecodeCookie(key, v)
	if err != nil {
		t.Fatalf("DecodeCookie: %v", err)
	}
	lines := k.Lines()
	if len(lines) != carts.MaxLines {
		t.Fatalf("decoded %d lines, want MaxLines = %d", len(lines), carts.MaxLines)
	}
	want := []carts.Line{{SKUID: 4, Count: carts.MaxCount, Selected: true}, {SKUID: 999, Count: 1}, {SKUID: 1000, Count: 1}}
	if diff := cmp.Diff(want, lines[:3]); diff != "" {
		t.Errorf("first lines (-want +got):\n%s", diff)
	}
}

func TestCookieCartFullCartFitsInACookie(t *testing.T) {
	key := testKey(1)
	var k carts.Cookie
	for i := range carts.MaxLines {
		if _, err := k.Add(int64(900000+i), carts.MaxCount, i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	v, err := k.Encode(key)
	if err != nil {
		t.Fatalf("Encode a full cart: %v", err)
	}
	if n := len(carts.CookieName) + 1 + len(v); n > 4096 {
		t.Errorf("cookie of %d bytes, over the 4096 browsers keep", n)
	}
	back, err := carts.DecodeCookie(key, v)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k.Lines(), back.Lines()); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
