package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/replica3d/replica/account"
	"github.com/replica3d/replica/account/bolt"
	accounthttp "github.com/replica3d/replica/account/http"
	"github.com/replica3d/replica/account/stripe"
)

// Main is the serve command: ParseFlags, Open, Run, Close (wtf's
// cmd/wtfd/main.go), so tests drive the whole service as it runs.
type Main struct {
	Addr, DB, BaseURL, PlansFile, LogFormat string
	Grace, ReservationTTL                   time.Duration
	TrustProxy                              bool

	getenv         func(string) string
	stdout, stderr io.Writer

	log      *slog.Logger
	store    *bolt.Store
	svc      *account.Service
	listener net.Listener
	server   *http.Server
	ready    chan struct{} // closed once the listener is open
}

// NewMain returns a Main reading secrets through getenv.
func NewMain(getenv func(string) string, stdout, stderr io.Writer) *Main {
	return &Main{getenv: getenv, stdout: stdout, stderr: stderr, ready: make(chan struct{})}
}

// ParseFlags reads the serve command's flags; environment variables
// REPLICA_ACCOUNT_ADDR, _DB and _BASE_URL give their defaults.
func (m *Main) ParseFlags(args []string) error {
	fs := flag.NewFlagSet("replica-account serve", flag.ContinueOnError)
	fs.SetOutput(m.stderr)
	fs.StringVar(&m.Addr, "addr", envOr(m.getenv, "REPLICA_ACCOUNT_ADDR", "127.0.0.1:8080"), "listen address")
	fs.StringVar(&m.DB, "db", envOr(m.getenv, "REPLICA_ACCOUNT_DB", "account.db"), "bbolt database file (made if missing)")
	fs.StringVar(&m.BaseURL, "base-url", m.getenv("REPLICA_ACCOUNT_BASE_URL"), "public URL of the service, for links (default http://ADDR)")
	fs.StringVar(&m.PlansFile, "plans", m.getenv("REPLICA_ACCOUNT_PLANS"), "plans file: JSON array of {id,name,price,amount,currency,quota} (default: Maker, Pro, Studio)")
	fs.StringVar(&m.LogFormat, "log", "json", "log format: json or text")
	fs.BoolVar(&m.TrustProxy, "trust-proxy", false, "behind a reverse proxy: rate-limit by the last X-Forwarded-For address, not the connection's")
	fs.DurationVar(&m.Grace, "grace", account.DefaultGrace, "how long a past_due subscription keeps cloud processing")
	fs.DurationVar(&m.ReservationTTL, "reservation-ttl", time.Hour, "a reserved model whose job has not started by then is refunded")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	switch m.LogFormat {
	case "json", "text":
	default:
		return fmt.Errorf("%w: --log must be json or text", errUsage)
	}
	if m.BaseURL == "" {
		m.BaseURL = "http://" + m.Addr
	}
	u, err := url.Parse(m.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("%w: --base-url %q must be http(s)://host[:port]", errUsage, m.BaseURL)
	}
	m.BaseURL = strings.TrimSuffix(m.BaseURL, "/")
	return nil
}

func envOr(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// secret reads NAME from the environment, or the file NAME_FILE names
// (trailing newline trimmed). Setting both is an error.
func secret(getenv func(string) string, name string) (string, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", fmt.Errorf("both %s and %s_FILE are set: keep one", name, name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%s_FILE: %w", name, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return v, nil
}

// Open opens the database, reads the plans and secrets, and listens.
func (m *Main) Open() error {
	var h slog.Handler = slog.NewJSONHandler(m.stderr, nil)
	if m.LogFormat == "text" {
		h = slog.NewTextHandler(m.stderr, nil)
	}
	m.log = slog.New(h)

	plans := account.DefaultPlans()
	if m.PlansFile != "" {
		f, err := os.Open(m.PlansFile)
		if err != nil {
			return fmt.Errorf("plans: %w", err)
		}
		plans, err = account.ReadPlans(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", m.PlansFile, err)
		}
	}
	key, err := secret(m.getenv, "REPLICA_STRIPE_KEY")
	if err != nil {
		return err
	}
	whsec, err := secret(m.getenv, "REPLICA_STRIPE_WEBHOOK_SECRET")
	if err != nil {
		return err
	}
	workerKey, err := secret(m.getenv, "REPLICA_WORKER_KEY")
	if err != nil {
		return err
	}

	store, err := bolt.Open(m.DB)
	if err != nil {
		return err
	}
	m.store = store
	m.svc = &account.Service{Store: store, Plans: plans, Log: m.log, Grace: m.Grace, ReservationTTL: m.ReservationTTL}
	if key != "" {
		if whsec == "" {
			return fmt.Errorf("REPLICA_STRIPE_KEY is set but REPLICA_STRIPE_WEBHOOK_SECRET is not: without it no subscription would ever update (set it to the webhook endpoint's signing secret, whsec_…)")
		}
		b, err := stripe.New(stripe.Config{SecretKey: key, WebhookSecret: whsec, BackendURL: m.getenv("REPLICA_STRIPE_URL")})
		if err != nil {
			return err
		}
		m.svc.Billing = b
	} else {
		m.log.Warn("REPLICA_STRIPE_KEY is not set: billing is off (checkout, portal and webhooks answer 503)")
	}

	handler := accounthttp.NewServer(m.svc, accounthttp.Config{BaseURL: m.BaseURL, WorkerKey: workerKey, TrustProxy: m.TrustProxy})
	m.server = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(h, slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", m.Addr)
	if err != nil {
		return err
	}
	m.listener = ln
	close(m.ready)
	m.log.Info("listening", "addr", ln.Addr().String(), "base_url", m.BaseURL, "db", m.DB,
		"plans", len(plans), "billing", m.svc.Billing != nil, "worker_routes", workerKey != "")
	return nil
}

// URL is where the service listens, once Open returned.
func (m *Main) URL() string { return "http://" + m.listener.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully: requests in flight
// get up to 10 s to finish.
func (m *Main) Run(ctx context.Context) error {
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	defer stopSweep()
	go m.svc.Run(sweepCtx, time.Minute)

	errc := make(chan error, 1)
	go func() { errc <- m.server.Serve(m.listener) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	m.log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.server.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close closes the database.
func (m *Main) Close() error {
	if m.store != nil {
		return m.store.Close()
	}
	return nil
}
