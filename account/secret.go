package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's password storage cheat sheet (2023) lists
// m=19 MiB, t=2, p=1 as its lowest recommended configuration. About 30 ms
// on one core here: sign-in is rate limited, so that bounds the CPU an
// attacker can make the service spend.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// Passwords: at least MinPassword characters (NIST SP 800-63B §5.1.1.2 asks
// for 8; we ask for a little more), at most MaxPassword bytes so hashing a
// hostile 1 MB "password" costs nothing extra.
const (
	MinPassword = 10
	MaxPassword = 256
)

// HashPassword returns the PHC-format argon2id hash of password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key>.
func HashPassword(password string) (string, error) {
	if err := checkPassword(password); err != nil {
		return "", err
	}
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

func checkPassword(password string) error {
	switch n := len([]rune(password)); {
	case n < MinPassword:
		return Errorf(EINVALID, "Choose a password of at least %d characters.", MinPassword)
	case len(password) > MaxPassword:
		return Errorf(EINVALID, "Choose a password of at most %d characters.", MaxPassword)
	}
	return nil
}

// dummyHash is checked against when the email is unknown, so a sign-in for
// an unknown email takes as long as one for a known email (no enumeration
// by timing).
var dummyHash, _ = HashPassword("not a password of anyone")

// VerifyPassword reports whether password matches the PHC hash.
func VerifyPassword(hash, password string) bool {
	if len(password) > MaxPassword {
		return false
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<20 || t == 0 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(key) == 0 || len(key) > 64 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// TokenPrefix starts every API token, so a leaked one is recognisable by
// secret scanners.
const TokenPrefix = "rpl_"

// NewSecret returns a random token with prefix and 256 bits of entropy, and
// its SHA-256 hash, which is all the store keeps. A fast hash suffices:
// unlike a password the token cannot be guessed.
func NewSecret(prefix string) (string, [32]byte) {
	b := make([]byte, 32)
	rand.Read(b)
	raw := prefix + base64.RawURLEncoding.EncodeToString(b)
	return raw, sha256.Sum256([]byte(raw))
}

// HashSecret is the hash under which a token or device code is stored.
func HashSecret(raw string) [32]byte { return sha256.Sum256([]byte(raw)) }

// userCodeAlphabet is RFC 8628 §6.1's example: 20 consonants, no vowels (no
// words), no look-alikes; 8 characters give 20^8 ≈ 2^34.5 codes.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// NewUserCode returns a device flow user code such as "BCDF-GHJK".
func NewUserCode() string {
	b := make([]byte, 8)
	for i := range b {
		b[i] = userCodeAlphabet[randIntn(len(userCodeAlphabet))]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// NormalizeUserCode upper-cases a typed code and drops everything outside
// the alphabet (spaces, dashes), then puts the dash back: "bcdf ghjk" and
// "BCDFGHJK" both become "BCDF-GHJK". It returns "" for anything that cannot
// be a code.
func NormalizeUserCode(s string) string {
	if len(s) > 64 {
		return ""
	}
	var b []byte
	for _, r := range strings.ToUpper(s) {
		if strings.ContainsRune(userCodeAlphabet, r) {
			b = append(b, byte(r))
		} else if r != '-' && r != ' ' {
			return ""
		}
	}
	if len(b) != 8 {
		return ""
	}
	return string(b[:4]) + "-" + string(b[4:])
}

// NewID returns a random identifier with a prefix ("usr_", "tok_").
func NewID(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// randIntn is a uniform integer in [0, n) from crypto/rand (rejection
// sampling of one byte; n ≤ 256).
func randIntn(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// clip shortens s to at most n bytes without splitting a character, and
// replaces invalid UTF-8, so what is stored and shown is always text.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// hashSlots bounds the argon2id hashes running at once: each takes 19 MiB
// and a core for ~30 ms, and the per-IP rate limits do not bound them across
// many addresses.
var hashSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// errBusy answers a sign-in or sign-up that waited too long for a slot.
var errBusy = Errorf(ERATELIMIT, "Too many sign-ins just now: try again in a moment.")

// hashSlot waits up to 3 s for a slot to hash a password in; release gives
// it back.
func hashSlot(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(3 * time.Second)
	defer t.Stop()
	select {
	case hashSlots <- struct{}{}:
		return func() { <-hashSlots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errBusy
	}
}
