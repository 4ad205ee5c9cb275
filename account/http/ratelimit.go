package http

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/replica3d/replica/account"
)

// maxKeys caps each limiter's memory: a bucket is a few dozen bytes, so
// 100k keys are a few MiB per limiter.
const maxKeys = 100_000

// limiter is a set of token buckets, one per key (an IP, an email, a user):
// each holds up to burst tokens, refilled at burst per window, and a request
// takes one. It is in memory and per process: several service instances
// each allow the full rate.
type limiter struct {
	burst  float64
	every  time.Duration // one token comes back every this long
	window time.Duration
	max    int

	mu        sync.Mutex
	buckets   map[string]bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newLimiter(n int, window time.Duration) *limiter {
	return &limiter{burst: float64(n), every: window / time.Duration(n), window: window, max: maxKeys,
		buckets: map[string]bucket{}}
}

// allow takes a token from key's bucket at now; when there is none it
// returns false and how long until there is one.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		l.sweep(now)
		b = bucket{tokens: l.burst, last: now}
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(l.burst, b.tokens+float64(elapsed)/float64(l.every))
		b.last = now
	}
	if b.tokens < 1 {
		l.buckets[key] = b
		return false, time.Duration((1 - b.tokens) * float64(l.every))
	}
	b.tokens--
	l.buckets[key] = b
	return true, 0
}

// refund gives back a token allow took from key's bucket, up to burst: the
// attempt it paid for turned out not to count. A bucket swept meanwhile was
// full, so there is nothing to give back.
func (l *limiter) refund(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.buckets[key]; ok {
		b.tokens = min(l.burst, b.tokens+1)
		l.buckets[key] = b
	}
}

// sweep forgets idle keys: a bucket that has refilled to burst is the same
// as no bucket. It runs once a window, or when the map is full; a map still
// full of active keys (a flood from many addresses) then loses arbitrary
// keys (Go's map order) down to 90%, which at worst lets some of them start
// afresh but never lets the map grow.
func (l *limiter) sweep(now time.Time) {
	full := len(l.buckets) >= l.max
	if !full && now.Sub(l.lastSweep) < l.window {
		return
	}
	l.lastSweep = now
	for k, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.last))/float64(l.every) >= l.burst {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < l.max*9/10 {
			break
		}
		delete(l.buckets, k)
	}
}

// len is the number of keys held, for tests.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// limitError is ERATELIMIT with the time to wait, for Retry-After.
type limitError struct {
	err   *account.Error
	retry time.Duration
}

func (e *limitError) Error() string { return e.err.Error() }
func (e *limitError) Unwrap() error { return e.err }

// limit takes a token for key, or returns ERATELIMIT.
func (s *Server) limit(l *limiter, key string) error {
	ok, retry := l.allow(key, s.now())
	if ok {
		return nil
	}
	retry = max(retry, time.Second)
	secs := int((retry + time.Second - 1) / time.Second)
	return &limitError{retry: retry,
		err: account.Errorf(account.ERATELIMIT, "Too many attempts: try again in %s.", plural(secs, "second"))}
}

// limitFailures is limit for a bucket that counts only failed attempts: it
// takes key's token before the attempt and returns refund, which the caller
// calls when the attempt succeeded (or failed for a reason that is not the
// client's, such as a store error). Taking first and giving back rather
// than taking after a failure keeps concurrent attempts from all passing a
// check of a bucket that has one token left.
func (s *Server) limitFailures(l *limiter, key string) (refund func(), err error) {
	if err := s.limit(l, key); err != nil {
		return nil, err
	}
	return func() { l.refund(key) }, nil
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// clientIP is the rate limits' key for the client: the connection's address
// or, behind a trusted proxy, the last X-Forwarded-For entry (the address
// the proxy saw; entries before it are whatever the client claimed). IPv6
// addresses are keyed by their /64, which one subscriber usually holds whole.
func (s *Server) clientIP(r *http.Request) string {
	ip, ok := s.clientAddr(r)
	if !ok {
		return "unknown" // not a TCP connection (tests over pipes): one shared bucket
	}
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// clientNet is clientIP coarsened to the network one subscriber or one
// hosting customer usually holds: the /24 of an IPv4 address, the /64 of an
// IPv6 one. Per-account limits key on it, so that an attacker must spread
// over networks, not over addresses, to try more passwords.
func (s *Server) clientNet(r *http.Request) string {
	ip, ok := s.clientAddr(r)
	if !ok {
		return "unknown"
	}
	bits := 64
	if ip.Is4() {
		bits = 24
	}
	p, _ := ip.Prefix(bits)
	return p.String()
}

// clientAddr is the client's address as clientIP describes it; false when
// the connection has none.
func (s *Server) clientAddr(r *http.Request) (netip.Addr, bool) {
	ip, ok := parseIP(r.RemoteAddr)
	if s.cfg.TrustProxy {
		if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
			last := xff[len(xff)-1]
			if i := strings.LastIndexByte(last, ','); i >= 0 {
				last = last[i+1:]
			}
			if fwd, ok2 := parseIP(strings.TrimSpace(last)); ok2 {
				ip, ok = fwd, true
			}
		}
	}
	return ip, ok
}

// parseIP reads "1.2.3.4", "1.2.3.4:5678", "::1" or "[::1]:5678".
func parseIP(s string) (netip.Addr, bool) {
	ip, err := netip.ParseAddr(s)
	if err != nil {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			return netip.Addr{}, false
		}
		ip = ap.Addr()
	}
	return ip.Unmap().WithZone(""), true
}
