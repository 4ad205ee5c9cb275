// Command replica-account is Replica's account service: sign-up and sign-in
// pages, the desktop app's device sign-in (RFC 8628), Stripe subscriptions
// and the quota ledger of cloud models. It builds without cgo.
//
//	replica-account serve --addr :8080 --db /var/lib/replica/account.db --base-url https://account.example.com
//	replica-account bench            # load test GET /v1/me on loopback
//
// Secrets come only from the environment or from files the environment
// names, never from flags (flags show in ps and shell history):
// REPLICA_STRIPE_KEY, REPLICA_STRIPE_WEBHOOK_SECRET and REPLICA_WORKER_KEY,
// or the same names with _FILE.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// errUsage marks errors caused by how the command was called (exit 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "replica-account:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "replica-account:", err)
		os.Exit(1)
	}
}

const usageText = `replica-account — Replica's account service

Usage:
  replica-account serve [flags]   run the service (replica-account serve -h for its flags)
  replica-account bench [flags]   load test GET /v1/me on loopback and print req/s and latencies
  replica-account help

Secrets only from the environment (or a file named by NAME_FILE):
  REPLICA_STRIPE_KEY             Stripe secret key (sk_…); without it billing is off
  REPLICA_STRIPE_WEBHOOK_SECRET  the webhook endpoint's signing secret (whsec_…)
  REPLICA_WORKER_KEY             shared key of the cloud workers' internal routes
`

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, usageText)
		if len(args) == 0 {
			return fmt.Errorf("%w: no command", errUsage)
		}
		return nil
	}
	switch args[0] {
	case "serve":
		m := NewMain(getenv, stdout, stderr)
		if err := m.ParseFlags(args[1:]); err != nil {
			return err
		}
		if err := m.Open(); err != nil {
			m.Close()
			return err
		}
		defer m.Close()
		return m.Run(ctx)
	case "bench":
		return runBench(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("%w: unknown command %q (replica-account help)", errUsage, args[0])
}
