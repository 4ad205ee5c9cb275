package bolt

import (
	"bytes"
	"context"
	"time"

	"go.etcd.io/bbolt"

	"github.com/replica3d/replica/account"
)

// deviceRecord is a stored account.DeviceAuth.
type deviceRecord struct {
	DeviceHash []byte        `json:"device_hash"`
	UserCode   string        `json:"user_code"`
	ClientName string        `json:"client_name"`
	Created    time.Time     `json:"created"`
	Expires    time.Time     `json:"expires"`
	Interval   time.Duration `json:"interval"` // nanoseconds
	LastPoll   time.Time     `json:"last_poll,omitzero"`
	UserID     string        `json:"user,omitempty"`
	Denied     bool          `json:"denied,omitempty"`
	TokenID    string        `json:"token,omitempty"`
}

func newDeviceRecord(d *account.DeviceAuth) *deviceRecord {
	return &deviceRecord{
		DeviceHash: bytes.Clone(d.DeviceHash[:]), UserCode: d.UserCode, ClientName: d.ClientName,
		Created: utc(d.Created), Expires: utc(d.Expires), Interval: d.Interval, LastPoll: utc(d.LastPoll),
		UserID: d.UserID, Denied: d.Denied, TokenID: d.TokenID,
	}
}

func (r *deviceRecord) deviceAuth() *account.DeviceAuth {
	d := &account.DeviceAuth{
		UserCode: r.UserCode, ClientName: r.ClientName, Created: r.Created, Expires: r.Expires,
		Interval: r.Interval, LastPoll: r.LastPoll, UserID: r.UserID, Denied: r.Denied, TokenID: r.TokenID,
	}
	copy(d.DeviceHash[:], r.DeviceHash)
	return d
}

// CreateDeviceAuth stores a new device authorization; ECONFLICT when its
// user code or device code is in use.
func (s *Store) CreateDeviceAuth(ctx context.Context, d *account.DeviceAuth) error {
	if d.DeviceHash == ([32]byte{}) {
		return account.Errorf(account.EINVALID, "device authorization has no device code hash")
	}
	if d.UserCode == "" || len(d.UserCode) > maxID {
		return account.Errorf(account.EINVALID, "device authorization has no user code")
	}
	return s.update(ctx, func(tx *bbolt.Tx) error {
		devices, byCode := tx.Bucket(bucketDevices), tx.Bucket(bucketDevicesByCode)
		if devices.Get(d.DeviceHash[:]) != nil {
			return account.Errorf(account.ECONFLICT, "device code already in use")
		}
		if byCode.Get([]byte(d.UserCode)) != nil {
			return account.Errorf(account.ECONFLICT, "user code %s is in use", d.UserCode)
		}
		if err := putRaw(byCode, []byte(d.UserCode), d.DeviceHash[:]); err != nil {
			return err
		}
		return put(devices, d.DeviceHash[:], newDeviceRecord(d))
	})
}

// DeviceAuthByUserCode returns the authorization with the user code, expired
// or not; ENOTFOUND when there is none.
func (s *Store) DeviceAuthByUserCode(ctx context.Context, userCode string) (*account.DeviceAuth, error) {
	var r deviceRecord
	err := s.view(ctx, func(tx *bbolt.Tx) error {
		hash := tx.Bucket(bucketDevicesByCode).Get([]byte(userCode))
		if userCode == "" || hash == nil {
			return account.Errorf(account.ENOTFOUND, "no such code")
		}
		return getDevice(tx, hash, &r)
	})
	if err != nil {
		return nil, err
	}
	return r.deviceAuth(), nil
}

// UpdateDeviceAuth reads the authorization, calls fn and writes back what fn
// left, in one transaction; an error from fn aborts the write and is
// returned as is. fn may change the user code (ECONFLICT when the new one is
// in use) but not the device code.
func (s *Store) UpdateDeviceAuth(ctx context.Context, deviceHash [32]byte, fn func(*account.DeviceAuth) error) error {
	return s.update(ctx, func(tx *bbolt.Tx) error {
		var r deviceRecord
		if err := getDevice(tx, deviceHash[:], &r); err != nil {
			return err
		}
		d := r.deviceAuth()
		if err := fn(d); err != nil {
			return err
		}
		if d.DeviceHash != deviceHash {
			return account.Errorf(account.EINVALID, "a device authorization's device code cannot change")
		}
		if d.UserCode != r.UserCode {
			byCode := tx.Bucket(bucketDevicesByCode)
			if d.UserCode == "" || len(d.UserCode) > maxID {
				return account.Errorf(account.EINVALID, "device authorization has no user code")
			}
			if byCode.Get([]byte(d.UserCode)) != nil {
				return account.Errorf(account.ECONFLICT, "user code %s is in use", d.UserCode)
			}
			if err := del(byCode, []byte(r.UserCode)); err != nil {
				return err
			}
			if err := putRaw(byCode, []byte(d.UserCode), deviceHash[:]); err != nil {
				return err
			}
		}
		return put(tx.Bucket(bucketDevices), deviceHash[:], newDeviceRecord(d))
	})
}

// DeleteExpiredDeviceAuths removes every authorization whose Expires is
// before now, with its user code, and returns how many it removed.
// Authorizations live minutes, so the few there are are all read.
func (s *Store) DeleteExpiredDeviceAuths(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.update(ctx, func(tx *bbolt.Tx) error {
		devices, byCode := tx.Bucket(bucketDevices), tx.Bucket(bucketDevicesByCode)
		var expired []deviceRecord
		err := devices.ForEach(func(k, v []byte) error {
			var r deviceRecord
			if err := unmarshal(v, &r); err != nil {
				return err
			}
			if r.Expires.Before(now) {
				expired = append(expired, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range expired {
			// Only remove the user code if it still points here.
			if bytes.Equal(byCode.Get([]byte(r.UserCode)), r.DeviceHash) {
				if err := del(byCode, []byte(r.UserCode)); err != nil {
					return err
				}
			}
			if err := del(devices, r.DeviceHash); err != nil {
				return err
			}
		}
		n = len(expired)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// getDevice reads a device authorization; ENOTFOUND when there is none.
func getDevice(tx *bbolt.Tx, hash []byte, r *deviceRecord) error {
	ok, err := get(tx.Bucket(bucketDevices), hash, r)
	if err != nil {
		return err
	}
	if !ok {
		return account.Errorf(account.ENOTFOUND, "no such device authorization")
	}
	return nil
}
