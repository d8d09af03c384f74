package handlers

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSessionJSONRoundTrip(t *testing.T) {
	key := func(b byte) []byte {
		k := make([]byte, 32)
		for i := range k {
			k[i] = b
		}
		return k
	}
	store := NewSessionStore(key(1), key(2), 3600)
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	s, _ := store.New(r, SessionName)
	want := map[any]any{"uid": int64(1) << 40, "exp": int64(1_700_000_000), "auth": "abc", "flag": true}
	for k, v := range want {
		s.Values[k] = v
	}
	if err := s.Save(r, w); err != nil {
		t.Fatalf("save: %v", err)
	}
	r2 := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range w.Result().Cookies() {
		r2.AddCookie(c)
	}
	got, err := store.New(r2, SessionName)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if diff := cmp.Diff(want, got.Values); diff != "" {
		t.Errorf("values after a round trip (-want +got):\n%s", diff)
	}

	other := NewSessionStore(key(3), key(2), 3600)
	r3 := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range w.Result().Cookies() {
		r3.AddCookie(c)
	}
	if s, err := other.New(r3, SessionName); err == nil || len(s.Values) != 0 {
		t.Errorf("a cookie signed with another key was accepted: %v %v", s.Values, err)
	}

	bad, _ := store.New(r, SessionName)
	bad.Values["x"] = 1.5
	if err := bad.Save(r, httptest.NewRecorder()); err == nil {
		t.Error("a float value was saved; only int64, string and bool are allowed")
	}
}
