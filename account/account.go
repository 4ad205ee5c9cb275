// Package account holds accounts, plans, quotas and entitlements, and (in
// subpackages) the HTTP service and its client.
package account
