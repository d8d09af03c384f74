package models

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Passwords are stored in Django's encodings, so accounts move between this
// shop and the Django one:
//
//	argon2$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>   (written here)
//	pbkdf2_sha256$<iterations>$<salt>$<hash>             (read, then upgraded)
//
// The argon2id cost is OWASP's minimum (19 MiB, 2 passes) rather than
// Django's 100 MiB, so that a burst of sign-ups fits in memory.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32

	// Bounds on the cost of stored hashes we accept to verify.
	maxArgonMemory = 1 << 20 // KiB
	maxArgonTime   = 16
	maxPBKDF2Iter  = 10_000_000
)

// HashPassword returns password hashed with argon2id in Django's encoding.
// It waits for a free hashing slot.
func (s *Accounts) HashPassword(ctx context.Context, password string) (string, error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("argon2$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// checkPassword reports whether password matches the stored encoding, and
// whether that encoding is stale (another algorithm or cost) and should be
// replaced by a fresh hash. An encoding it cannot read never matches.
// It waits for a free hashing slot.
func (s *Accounts) checkPassword(ctx context.Context, password, encoded string) (ok, stale bool, err error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return false, false, err
	}
	defer release()
	algorithm, rest, _ := strings.Cut(encoded, "$")
	switch algorithm {
	case "argon2":
		ok, stale = checkArgon2(password, rest)
		return ok, stale, nil
	case "pbkdf2_sha256":
		return checkPBKDF2(password, rest), true, nil
	}
	return false, false, nil
}

// hashSlot takes one of the Store's hashing slots; call release when done.
func (s *Accounts) hashSlot(ctx context.Context) (release func(), err error) {
	select {
	case s.hashSlots <- struct{}{}:
		return func() { <-s.hashSlots }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("wait to hash a password: %w", ctx.Err())
	}
}

// argon2Hash is a parsed "argon2id$v=19$m=..,t=..,p=..$salt$hash" (or
// argon2i, which Django wrote before version 3.2).
type argon2Hash struct {
	variant        string // argon2id or argon2i
	memory, passes uint32
	threads        uint8
	salt, key      []byte
}

// String is the encoding that parseArgon2 reads, without "argon2$".
func (a argon2Hash) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("%s$v=%d$m=%d,t=%d,p=%d$%s$%s", a.variant, argon2.Version, a.memory, a.passes, a.threads,
		b64.EncodeToString(a.salt), b64.EncodeToString(a.key))
}

// parseArgon2 reads an argon2 encoding within the cost bounds. It accepts
// only the canonical form, the one String writes back byte for byte: no
// trailing text, leading zeros, signs, padding or line breaks.
func parseArgon2(encoded string) (argon2Hash, bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 || parts[1] != "v="+strconv.Itoa(argon2.Version) ||
		parts[0] != "argon2id" && parts[0] != "argon2i" {
		return argon2Hash{}, false
	}
	a := argon2Hash{variant: parts[0]}
	if _, err := fmt.Sscanf(parts[2], "m=%d,t=%d,p=%d", &a.memory, &a.passes, &a.threads); err != nil {
		return argon2Hash{}, false
	}
	var err1, err2 error
	a.salt, err1 = base64.RawStdEncoding.Strict().DecodeString(parts[3])
	a.key, err2 = base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err1 != nil || err2 != nil || len(a.key) < 16 || len(a.key) > 64 ||
		a.memory > maxArgonMemory || a.passes == 0 || a.passes > maxArgonTime || a.threads == 0 || a.String() != encoded {
		return argon2Hash{}, false
	}
	return a, true
}

// checkArgon2 checks an argon2 encoding (parseArgon2).
func checkArgon2(password, encoded string) (ok, stale bool) {
	a, ok := parseArgon2(encoded)
	if !ok {
		return false, false
	}
	var got []byte
	if a.variant == "argon2id" {
		got = argon2.IDKey([]byte(password), a.salt, a.passes, a.memory, a.threads, uint32(len(a.key)))
	} else {
		got = argon2.Key([]byte(password), a.salt, a.passes, a.memory, a.threads, uint32(len(a.key)))
	}
	ok = subtle.ConstantTimeCompare(got, a.key) == 1
	stale = a.variant != "argon2id" || a.memory != argonMemory || a.passes != argonTime ||
		a.threads != argonThreads || len(a.key) != argonKeyLen
	return ok, stale
}

// pbkdf2Hash is a parsed Django "<iterations>$<salt>$<base64 sha256 key>".
type pbkdf2Hash struct {
	iter int
	salt string
	key  []byte
}

// String is the encoding that parsePBKDF2 reads, without "pbkdf2_sha256$".
func (p pbkdf2Hash) String() string {
	return strconv.Itoa(p.iter) + "$" + p.salt + "$" + base64.StdEncoding.EncodeToString(p.key)
}

// parsePBKDF2 reads a PBKDF2 encoding within the cost bounds, in its
// canonical form only (as parseArgon2).
func parsePBKDF2(encoded string) (pbkdf2Hash, bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 3 {
		return pbkdf2Hash{}, false
	}
	iter, err := strconv.Atoi(parts[0])
	if err != nil || iter < 1 || iter > maxPBKDF2Iter {
		return pbkdf2Hash{}, false
	}
	key, err := base64.StdEncoding.Strict().DecodeString(parts[2])
	p := pbkdf2Hash{iter: iter, salt: parts[1], key: key}
	if err != nil || len(key) == 0 || len(key) > 64 || p.String() != encoded {
		return pbkdf2Hash{}, false
	}
	return p, true
}

// checkPBKDF2 checks a PBKDF2 encoding (parsePBKDF2).
func checkPBKDF2(password, encoded string) bool {
	p, ok := parsePBKDF2(encoded)
	if !ok {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, []byte(p.salt), p.iter, len(p.key))
	return err == nil && subtle.ConstantTimeCompare(got, p.key) == 1
}
