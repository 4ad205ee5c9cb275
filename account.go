package main

import (
	"context"
	"os"

	"github.com/replica3d/replica/account"
	accounthttp "github.com/replica3d/replica/account/http"
	"github.com/replica3d/replica/app"
)

// accountURLEnv names the environment variable that points the app at
// another account service (a staging one, or `make account-serve`'s).
const accountURLEnv = "REPLICA_ACCOUNT_URL"

// defaultAccountURL is Replica's account service.
const defaultAccountURL = "https://account.replica3d.com"

// accountClient adapts the account service's HTTP client to what the app's
// Account panel asks: the token travels with each call, so one value
// serves whoever is signed in.
type accountClient struct{ base string }

var _ app.AccountService = accountClient{}

func newAccountClient() accountClient {
	base := os.Getenv(accountURLEnv)
	if base == "" {
		base = defaultAccountURL
	}
	return accountClient{base: base}
}

func (a accountClient) with(token string) *accounthttp.Client {
	return &accounthttp.Client{BaseURL: a.base, Token: token}
}

func (a accountClient) Plans(ctx context.Context) (account.Plans, error) {
	return a.with("").Plans(ctx)
}

func (a accountClient) StartDevice(ctx context.Context, clientName string) (*account.DeviceCode, error) {
	return a.with("").StartDevice(ctx, clientName)
}

func (a accountClient) WaitDevice(ctx context.Context, dc *account.DeviceCode) (string, error) {
	return a.with("").WaitDevice(ctx, dc)
}

func (a accountClient) Me(ctx context.Context, token string) (*account.Me, error) {
	return a.with(token).Me(ctx)
}

func (a accountClient) Checkout(ctx context.Context, token, planID string) (string, error) {
	return a.with(token).Checkout(ctx, planID)
}

func (a accountClient) Portal(ctx context.Context, token string) (string, error) {
	return a.with(token).Portal(ctx)
}

func (a accountClient) SignOut(ctx context.Context, token string) error {
	return a.with(token).SignOut(ctx)
}
