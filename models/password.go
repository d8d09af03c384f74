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

// checkArgon2 checks "argon2id$v=19$m=..,t=..,p=..$salt$hash" (argon2i too,
// which Django wrote before version 3.2).
func checkArgon2(password, encoded string) (ok, stale bool) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 5 || parts[1] != "v="+strconv.Itoa(argon2.Version) {
		return false, false
	}
	var memory, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "m=%d,t=%d,p=%d", &memory, &passes, &threads); err != nil {
		return false, false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[3])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[4])
	if err1 != nil || err2 != nil || len(want) < 16 || len(want) > 64 ||
		memory > maxArgonMemory || passes == 0 || passes > maxArgonTime || threads == 0 {
		return false, false
	}
	var got []byte
	switch parts[0] {
	case "argon2id":
		got = argon2.IDKey([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	case "argon2i":
		got = argon2.Key([]byte(password), salt, passes, memory, threads, uint32(len(want)))
	default:
		return false, false
	}
	ok = subtle.ConstantTimeCompare(got, want) == 1
	stale = parts[0] != "argon2id" || memory != argonMemory || passes != argonTime ||
		threads != argonThreads || len(want) != argonKeyLen
	return ok, stale
}

// checkPBKDF2 checks Django's "<iterations>$<salt>$<base64 sha256 key>".
func checkPBKDF2(password, encoded string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 3 {
		return false
	}
	iter, err := strconv.Atoi(parts[0])
	if err != nil || iter < 1 || iter > maxPBKDF2Iter {
		return false
	}
	want, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, password, []byte(parts[1]), iter, len(want))
	return err == nil && subtle.ConstantTimeCompare(got, want) == 1
}
