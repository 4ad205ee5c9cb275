package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/replica3d/replica/account"
	"github.com/replica3d/replica/account/bolt"
	accounthttp "github.com/replica3d/replica/account/http"
)

// Budget of the load test (issue 9): authenticated GET /v1/me on loopback,
// 2 cores, at least this many requests per second with p99 under this.
const (
	benchMinRate = 2000
	benchMaxP99  = 20 * time.Millisecond
)

// BenchResult is what bench measured; --json prints it.
type BenchResult struct {
	URL         string  `json:"url"`
	Requests    int     `json:"requests"`
	Errors      int     `json:"errors"`
	Concurrency int     `json:"concurrency"`
	CPUs        int     `json:"cpus"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"per_second"`
	P50ms       float64 `json:"p50_ms"`
	P90ms       float64 `json:"p90_ms"`
	P99ms       float64 `json:"p99_ms"`
	Maxms       float64 `json:"max_ms"`
	Pass        bool    `json:"pass"` // per_second ≥ 2000 and p99 < 20 ms, no errors
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("replica-account bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 20000, "requests to send (after 500 warm-up requests)")
	c := fs.Int("c", 16, "concurrent connections")
	maxTime := fs.Duration("max-time", 60*time.Second, "stop after this long even if fewer requests were sent")
	target := fs.String("url", "", "a running service's base URL (default: start one on loopback with a fresh database)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *c < 1 || *c > 1024 {
		return fmt.Errorf("%w: -n must be ≥ 1 and -c 1…1024", errUsage)
	}
	token := os.Getenv("REPLICA_TOKEN")
	base := *target
	if base == "" {
		url, tok, stop, err := benchServer(ctx)
		if err != nil {
			return err
		}
		defer stop()
		base, token = url, tok
	} else if token == "" {
		return fmt.Errorf("%w: with --url, set REPLICA_TOKEN to an API token", errUsage)
	}

	client := &http.Client{Transport: &http.Transport{MaxIdleConns: *c, MaxIdleConnsPerHost: *c, IdleConnTimeout: time.Minute}, Timeout: 10 * time.Second}
	get := func() (time.Duration, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/me", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d := time.Since(t0)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("GET /v1/me: %s", resp.Status)
		}
		return d, err
	}
	// Check the answer is the account's, then warm up: connections open,
	// caches filled.
	if err := checkMe(ctx, client, base, token); err != nil {
		return err
	}
	for range 500 {
		if _, err := get(); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}

	var next, errs atomic.Int64
	lat := make([][]time.Duration, *c)
	deadline := time.Now().Add(*maxTime)
	var firstErr error
	var errOnce sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for w := range *c {
		wg.Go(func() {
			for next.Add(1) <= int64(*n) && time.Now().Before(deadline) && ctx.Err() == nil {
				d, err := get()
				if err != nil {
					errs.Add(1)
					errOnce.Do(func() { firstErr = err })
					continue
				}
				lat[w] = append(lat[w], d)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := slices.Concat(lat...)
	slices.Sort(all)
	ms := func(q float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[min(len(all)-1, int(q*float64(len(all))))]) / 1e6
	}
	r := BenchResult{URL: base + "/v1/me", Requests: len(all), Errors: int(errs.Load()), Concurrency: *c, CPUs: runtime.NumCPU(),
		Seconds: elapsed.Seconds(), PerSecond: float64(len(all)) / elapsed.Seconds(),
		P50ms: ms(0.50), P90ms: ms(0.90), P99ms: ms(0.99), Maxms: ms(1)}
	r.Pass = r.Errors == 0 && r.PerSecond >= benchMinRate && r.P99ms < float64(benchMaxP99)/1e6
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Fprintf(stdout, "GET /v1/me on %s: %d requests, %d errors, %d connections, %d CPUs\n", r.URL, r.Requests, r.Errors, r.Concurrency, r.CPUs)
	fmt.Fprintf(stdout, "%.0f requests/s over %.2f s; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n",
		r.PerSecond, r.Seconds, r.P50ms, r.P90ms, r.P99ms, r.Maxms)
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	fmt.Fprintf(stdout, "budget ≥ %d requests/s with p99 < %v: %s\n", benchMinRate, benchMaxP99, verdict)
	if firstErr != nil {
		fmt.Fprintf(stdout, "first error: %v\n", firstErr)
	}
	return nil
}

// benchServer starts the service on a loopback port with a fresh database
// holding one user on the Pro plan with a token; stop shuts it down.
func benchServer(ctx context.Context) (url, token string, stop func(), err error) {
	dir, err := os.MkdirTemp("", "replica-account-bench-")
	if err != nil {
		return "", "", nil, err
	}
	store, err := bolt.Open(filepath.Join(dir, "account.db"))
	if err != nil {
		os.RemoveAll(dir)
		return "", "", nil, err
	}
	cleanup := func() { store.Close(); os.RemoveAll(dir) }
	svc := &account.Service{Store: store, Plans: account.DefaultPlans(), Log: slog.New(slog.DiscardHandler)}
	u, err := svc.SignUp(ctx, "bench@example.com", "a long bench password")
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	now := time.Now().UTC()
	start := now.Add(-24 * time.Hour)
	sub := &account.Subscription{ID: "sub_bench", CustomerID: "cus_bench", UserID: u.ID, PriceID: "price_pro_monthly", PlanID: "pro",
		Status: account.StatusActive, PeriodStart: start, PeriodEnd: start.AddDate(0, 1, 0), Created: start, Synced: now}
	if err := store.PutSubscription(ctx, sub); err != nil {
		cleanup()
		return "", "", nil, err
	}
	if err := store.Grant(ctx, u.ID, sub.PeriodStart, sub.PeriodEnd, 60, now, "Pro plan"); err != nil {
		cleanup()
		return "", "", nil, err
	}
	raw, _, err := svc.NewToken(ctx, u.ID, "bench")
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return "", "", nil, err
	}
	base := "http://" + ln.Addr().String()
	srv := &http.Server{Handler: accounthttp.NewServer(svc, accounthttp.Config{BaseURL: base}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return base, raw, func() { srv.Close(); cleanup() }, nil
}

// checkMe fetches /v1/me once and checks it is a real answer: an email and
// a plan, so the load test measures the authenticated path and not an error
// page.
func checkMe(ctx context.Context, client *http.Client, base, token string) error {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/me", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var me account.Me
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&me); err != nil || resp.StatusCode != 200 || me.Email == "" {
		return fmt.Errorf("GET /v1/me: %s, %+v, %v: not an account's answer", resp.Status, me, err)
	}
	return nil
}
