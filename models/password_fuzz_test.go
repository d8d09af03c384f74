package models

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// cheapHashes are well-formed encodings of fuzzPassword at the lowest
// costs, so that the fuzzer can afford to verify them on every input.
var cheapHashes = func() []string {
	salt := []byte("0123456789abcdef")
	a := argon2Hash{variant: "argon2id", memory: 8, passes: 1, threads: 1, salt: salt,
		key: argon2.IDKey([]byte(fuzzPassword), salt, 1, 8, 1, 32)}
	ai := argon2Hash{variant: "argon2i", memory: 8, passes: 1, threads: 1, salt: salt,
		key: argon2.Key([]byte(fuzzPassword), salt, 1, 8, 1, 16)}
	k, err := pbkdf2.Key(sha256.New, fuzzPassword, []byte("NaCl"), 3, 32)
	if err != nil {
		panic(err)
	}
	p := pbkdf2Hash{iter: 3, salt: "NaCl", key: k}
	return []string{"argon2$" + a.String(), "argon2$" + ai.String(), "pbkdf2_sha256$" + p.String()}
}()

const fuzzPassword = "secret-pw-123"

// cheap reports whether verifying encoded costs little (so the fuzzer may).
func cheap(encoded string) bool {
	algorithm, rest, _ := strings.Cut(encoded, "$")
	switch algorithm {
	case "argon2":
		a, ok := parseArgon2(rest)
		return !ok || a.memory <= 64 && a.passes <= 2 && a.threads <= 4
	case "pbkdf2_sha256":
		p, ok := parsePBKDF2(rest)
		return !ok || p.iter <= 1000
	}
	return true
}

// wellFormed reports whether the parsers accept encoded.
func wellFormed(encoded string) bool {
	algorithm, rest, _ := strings.Cut(encoded, "$")
	switch algorithm {
	case "argon2":
		_, ok := parseArgon2(rest)
		return ok
	case "pbkdf2_sha256":
		_, ok := parsePBKDF2(rest)
		return ok
	}
	return false
}

// FuzzPasswordHash: the Django hash parser reads only canonical encodings
// (what it accepts, it writes back byte for byte), never panics, and
// never lets a malformed encoding match. An edit of a good hash (a byte
// changed, inserted or cut: a leading zero, a sign, a line break in the
// base64, text after the cost) matches nothing unless it left the hash as
// it was.
func FuzzPasswordHash(f *testing.F) {
	for i, h := range cheapHashes {
		f.Add(h, fuzzPassword, uint16(i), uint16(0), uint8(0), "")
		f.Add(h, "wrong-password", uint16(i), uint16(len(h)-3), uint8(0), "\n")
		f.Add(h, fuzzPassword, uint16(i), uint16(len(h)), uint8(0), "\r\n")
		f.Add(h, fuzzPassword, uint16(i), uint16(len(h)), uint8(0), "=")
	}
	// Text after the cost, a leading zero, a sign.
	f.Add("argon2$argon2id$v=19$m=8,t=1,p=1x$MDEyMzQ1Njc4OWFiY2RlZg$AAAAAAAAAAAAAAAAAAAAAA", fuzzPassword, uint16(0), uint16(37), uint8(0), "x")
	f.Add("pbkdf2_sha256$+3$NaCl$AAAA", fuzzPassword, uint16(2), uint16(14), uint8(0), "+")
	f.Add("pbkdf2_sha256$03$NaCl$AAAA", "", uint16(2), uint16(14), uint8(0), "0")
	f.Add("argon2$argon2id$v=19$m=08,t=1,p=1$c2FsdA$aGFzaA", "x", uint16(0), uint16(25), uint8(0), "0")
	f.Add("argon2$argon2id$v=19$m=1048577,t=2,p=1$c2FsdA$aGFzaA", "x", uint16(1), uint16(40), uint8(1), "=")
	f.Add("bcrypt$$2b$12$abc", "x", uint16(0), uint16(0), uint8(2), "$")
	accounts := &Accounts{hashSlots: make(chan struct{}, 1)}
	check := func(t *testing.T, password, encoded string) bool {
		t.Helper()
		ok, _, err := accounts.checkPassword(context.Background(), password, encoded)
		if err != nil {
			t.Fatalf("checkPassword(%q): %v", encoded, err)
		}
		return ok
	}
	f.Fuzz(func(t *testing.T, encoded, password string, which, pos uint16, cut uint8, edit string) {
		// Any encoding: parsed or refused, never a panic; what parses is
		// canonical; a match only on a well-formed one.
		algorithm, rest, _ := strings.Cut(encoded, "$")
		if a, ok := parseArgon2(rest); ok && a.String() != rest {
			t.Errorf("parseArgon2(%q) = %+v, which writes back as %q", rest, a, a.String())
		}
		if p, ok := parsePBKDF2(rest); ok && p.String() != rest {
			t.Errorf("parsePBKDF2(%q) = %+v, which writes back as %q", rest, p, p.String())
		}
		if cheap(encoded) && check(t, password, encoded) && !wellFormed(encoded) {
			t.Errorf("%s: the malformed %q matched %q", algorithm, encoded, password)
		}

		// An edit of a good hash matches only if it changed nothing.
		good := cheapHashes[int(which)%len(cheapHashes)]
		at := int(pos) % (len(good) + 1)
		n := int(cut) % 3 // 0: insert edit, 1-2: put it in place of that many bytes
		edited := good[:at] + edit + good[min(len(good), at+n):]
		if !cheap(edited) {
			return
		}
		if got, want := check(t, fuzzPassword, edited), edited == good; got != want {
			t.Errorf("%q: match %v, want %v (the good hash is %q)", edited, got, want, good)
		}
		if check(t, fuzzPassword+"x", edited) {
			t.Errorf("%q matched a wrong password", edited)
		}
	})
}

// The parsers read encodings in the shapes Django writes (PBKDF2's
// padded base64 and argon2's unpadded one, at Django's default costs) and
// what HashPassword writes.
func TestParseDjangoHashes(t *testing.T) {
	for _, h := range []string{
		"pbkdf2_sha256$600000$kXgHZ5Sf2cC5qDqkQ4cN0u$4tA8Fq0oJr1oYJ0m8lHhdAoEBzL6ytq4o2vR9Yb0Pxs=",
		"argon2$argon2id$v=19$m=102400,t=2,p=8$c29tZXNhbHRzb21lc2FsdA$Xa1mwKIyQ1a3Ui2/q2qxSZ8mUT5M8VFgc3n5yO3hfLE",
	} {
		if !wellFormed(h) {
			t.Errorf("%q is refused", h)
		}
	}
	s, err := (&Accounts{hashSlots: make(chan struct{}, 1)}).HashPassword(context.Background(), "pw")
	if err != nil || !wellFormed(s) {
		t.Errorf("HashPassword wrote %q (%v), which the parser refuses", s, err)
	}
}
