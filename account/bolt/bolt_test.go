package bolt_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/replica3d/replica/account"
	"github.com/replica3d/replica/account/bolt"
	"github.com/replica3d/replica/account/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) account.Store {
		return mustOpen(t, filepath.Join(t.TempDir(), "account.db"))
	})
}

func mustOpen(tb testing.TB, path string) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

var (
	jan = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	feb = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
)

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "account.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.CreateUser(ctx, &account.User{ID: "u1", Email: "ada@example.com", CustomerID: "cus_1"}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if err := s.Grant(ctx, "u1", jan, feb, 15, jan, ""); err != nil {
		t.Fatalf("Grant: %v", err)
	}
	if _, err := s.Reserve(ctx, "u1", "j1", jan, jan.Add(time.Hour)); err != nil {
		t.Fatalf("Reserve: %v", err)
	}
	if _, err := s.RecordEvent(ctx, "evt_1", jan); err != nil {
		t.Fatalf("RecordEvent: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("database file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	s = mustOpen(t, path)
	u, err := s.UserByCustomer(ctx, "cus_1")
	if err != nil || u.ID != "u1" {
		t.Fatalf("UserByCustomer after reopen = %v, %v; want u1", u, err)
	}
	p, err := s.Period(ctx, "u1", jan)
	if err != nil || p.Reserved != 1 || p.Remaining() != 14 {
		t.Fatalf("Period after reopen = %+v, %v; want 1 reserved, 14 remaining", p, err)
	}
	if seen, err := s.EventSeen(ctx, "evt_1"); err != nil || !seen {
		t.Errorf("EventSeen(evt_1) after reopen = %v, %v; want true", seen, err)
	}
	// The ledger's sequence carries on: ids stay unique.
	if err := s.Commit(ctx, "u1", "j1", jan); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	es, err := s.Ledger(ctx, "u1", 0)
	if err != nil || len(es) != 3 {
		t.Fatalf("Ledger = %d entries, %v; want 3", len(es), err)
	}
	if es[0].ID == es[1].ID || es[0].ID == es[2].ID {
		t.Errorf("ledger ids repeat after reopen: %s %s %s", es[0].ID, es[1].ID, es[2].ID)
	}
}

func TestEventSeen(t *testing.T) {
	ctx := t.Context()
	s := mustOpen(t, filepath.Join(t.TempDir(), "account.db"))
	for _, step := range []struct {
		record string
		seen   string
		want   bool
	}{{"", "evt_1", false}, {"evt_1", "evt_1", true}, {"", "evt_2", false}, {"", "", false}} {
		if step.record != "" {
			if _, err := s.RecordEvent(ctx, step.record, jan); err != nil {
				t.Fatalf("RecordEvent: %v", err)
			}
		}
		if got, err := s.EventSeen(ctx, step.seen); err != nil || got != step.want {
			t.Errorf("EventSeen(%q) = %v, %v; want %v", step.seen, got, err, step.want)
		}
	}
}

// TestInUse opens the file twice: bbolt's flock is per open file, so the
// second Open in this process waits as another process's would, and must
// give up with an error that says what is wrong.
func TestInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "account.db")
	mustOpen(t, path)
	s, err := bolt.Open(path)
	if err == nil {
		s.Close()
		t.Fatal("second Open of a database in use succeeded")
	}
	if !strings.Contains(err.Error(), "in use by another process") || !strings.Contains(err.Error(), path) {
		t.Errorf("second Open: %v; want the path and \"in use by another process\"", err)
	}
}

func TestCorrupt(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}
	for _, c := range []struct {
		name string
		data []byte
	}{
		{"text", []byte("this is not a database\n")},
		{"garbage", garbage},
		{"page of zeros", make([]byte, 4096)},
		{"truncated", populatedDB(t)[:4096+100]},
		{"damaged root page", damagedDB(t)},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "account.db")
			if err := os.WriteFile(path, c.data, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := bolt.Open(path)
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded", c.name)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("Open(%s): %v; want the path in the error", c.name, err)
			}
			t.Logf("Open(%s): %v", c.name, err)
		})
	}
}

// populatedDB is the file of a database with some users.
func populatedDB(t *testing.T) []byte {
	path := filepath.Join(t.TempDir(), "account.db")
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	for i := range 200 {
		u := &account.User{ID: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("u%d@example.com", i), PasswordHash: strings.Repeat("x", 100)}
		if err := s.CreateUser(t.Context(), u); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// damagedDB is a populated database whose meta pages are intact but whose
// root bucket page is garbage: bbolt opens it and would panic on the first
// read.
func damagedDB(t *testing.T) []byte {
	data := populatedDB(t)
	// bbolt's meta page (internal/common/meta.go), after the 16-byte page
	// header: magic, version, page size (uint32 at 24), flags, root bucket
	// page id (uint64 at 32), sequence, freelist, high water mark, txid
	// (uint64 at 64), checksum; in the machine's byte order. The meta with
	// the higher txid is the current one.
	pageSize := int(binary.NativeEndian.Uint32(data[24:]))
	meta := data[:pageSize]
	if other := data[pageSize : 2*pageSize]; binary.NativeEndian.Uint64(other[64:]) > binary.NativeEndian.Uint64(meta[64:]) {
		meta = other
	}
	root := int(binary.NativeEndian.Uint64(meta[32:]))
	rng := rand.New(rand.NewPCG(2, 2))
	for i := root * pageSize; i < (root+1)*pageSize; i++ {
		data[i] = byte(rng.Uint32())
	}
	return data
}

func TestNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "account.db")
	mustOpenClose(t, path)
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema"), fmt.Appendf(nil, "%d", bolt.SchemaVersion+1))
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := bolt.Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a newer schema succeeded")
	}
	if want := fmt.Sprintf("schema version %d", bolt.SchemaVersion+1); !strings.Contains(err.Error(), want) {
		t.Errorf("Open(newer schema): %v; want it to say %q", err, want)
	}
}

func mustOpenClose(t *testing.T, path string) {
	t.Helper()
	s, err := bolt.Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// BenchmarkReadPath is what every authenticated request reads: the token,
// its user, the subscription and the current period.
func BenchmarkReadPath(b *testing.B) {
	ctx := b.Context()
	s := mustOpen(b, filepath.Join(b.TempDir(), "account.db"))
	// Some other users, so the indexes are not trivially small.
	const users = 200
	for i := range users {
		id := fmt.Sprintf("u%04d", i)
		if err := s.CreateUser(ctx, &account.User{ID: id, Email: id + "@example.com", Created: jan}); err != nil {
			b.Fatal(err)
		}
		tok := &account.Token{ID: "t" + id, UserID: id, Hash: sha256.Sum256([]byte(id)), Name: "CLI", Created: jan}
		if err := s.CreateToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
		sub := &account.Subscription{ID: "sub_" + id, UserID: id, Status: account.StatusActive, PeriodStart: jan, PeriodEnd: feb, Created: jan}
		if err := s.PutSubscription(ctx, sub); err != nil {
			b.Fatal(err)
		}
		if err := s.Grant(ctx, id, jan, feb, 15, jan, ""); err != nil {
			b.Fatal(err)
		}
	}
	at := jan.Add(10 * 24 * time.Hour)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			h := sha256.Sum256(fmt.Appendf(nil, "u%04d", i%users))
			tok, err := s.TokenByHash(ctx, h)
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := s.User(ctx, tok.UserID); err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Subscription(ctx, tok.UserID); err != nil {
				b.Error(err)
				return
			}
			if _, err := s.Period(ctx, tok.UserID, at); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
