package handlers

import (
	"net/url"
	"strings"
	"testing"
)

// browserHost is the host a browser on http://shop.example/ goes to when
// it follows a redirect to loc, modelled on the WHATWG URL parser: leading
// and trailing C0 controls and spaces are trimmed, tabs and newlines
// anywhere are dropped, and a backslash is a slash.
func browserHost(loc string) (string, bool) {
	loc = strings.TrimFunc(loc, func(r rune) bool { return r <= ' ' })
	loc = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(loc)
	u, err := url.Parse(loc)
	if err != nil {
		return "", false
	}
	base, _ := url.Parse("http://shop.example/")
	return base.ResolveReference(u).Host, true
}

var nextCases = []struct {
	next, want string
}{
	{"", "/"},
	{"/", "/"},
	{"/carts/", "/carts/"},
	{"/orders/info/1/?a=1&b=2#top", "/orders/info/1/?a=1&b=2#top"},
	{"/search/?q=%E6%89%8B%E6%9C%BA", "/search/?q=%E6%89%8B%E6%9C%BA"},
	{"/detail/1/?q=a%2Fb", "/detail/1/?q=a%2Fb"},
	{"//evil.example/", "/"},
	{`/\evil.example`, "/"},
	{"/\t/evil.example", "/"},
	{"/\t\\evil.example", "/"},
	{"/\n/evil.example", "/"},
	{"/\r\\evil.example", "/"},
	{"/\x00/evil.example", "/"},
	{"/\x1b/evil.example", "/"},
	{"/\x7f/evil.example", "/"},
	{"/\u0085/evil.example", "/"},
	{"/%09/evil.example", "/"},
	{"/%2F/evil.example", "/"},
	{"/%5Cevil.example", "/"},
	{"https://evil.example/", "/"},
	{"http:/evil.example", "/"},
	{"javascript:alert(1)", "/"},
	{" /carts/", "/"},
	{"carts/", "/"},
	{"/\xff", "/"},
	{"/" + strings.Repeat("a", maxNext), "/"},
}

func TestSafeNext(t *testing.T) {
	for _, tt := range nextCases {
		if got := safeNext(tt.next); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.next, got, tt.want)
		}
	}
}

// FuzzSafeNext: whatever next is, a browser following safeNext(next) stays
// on the site.
func FuzzSafeNext(f *testing.F) {
	for _, tt := range nextCases {
		f.Add(tt.next)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: neither next nor /", next, got)
		}
		host, ok := browserHost(got)
		if !ok || host != "shop.example" {
			t.Fatalf("safeNext(%q) = %q leads a browser to host %q", next, got, host)
		}
	})
}
