package http

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/replica3d/replica/account"
)

// 200 cloud jobs submitted at once, over HTTP, against an account with 15
// models left: exactly 15 reservations, 185 clear quota errors (402), and a
// ledger that balances.
func TestConcurrentSubmissions(t *testing.T) {
	e := newEnv(t, envOptions{})
	ada := e.user("ada@example.com")
	e.subscribe(ada, "maker")
	tok, _ := e.token(ada, "Replica")
	c := e.client(tok)
	c.HTTP = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	const n = 200
	var mu sync.Mutex
	codes := map[string]int{}
	messages := map[string]bool{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			_, err := c.Reserve(t.Context(), fmt.Sprintf("job-%03d", i))
			mu.Lock()
			defer mu.Unlock()
			codes[account.ErrorCode(err)]++
			if err != nil {
				messages[account.ErrorMessage(err)] = true
			}
		})
	}
	close(start)
	wg.Wait()
	if codes[""] != 15 || codes[account.EQUOTA] != n-15 || len(codes) != 2 {
		t.Errorf("%d submissions against 15 models: %v; want 15 successes and %d %q", n, codes, n-15, account.EQUOTA)
	}
	for m := range messages {
		t.Logf("quota error: %q", m)
		if m == "" || m == "Internal error." {
			t.Errorf("unclear quota error %q", m)
		}
	}
	me, err := c.Me(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	entries, err := c.Ledger(t.Context(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	sum, reserves := 0, 0
	for _, en := range entries {
		sum += en.Delta
		if en.Kind == account.EntryReserve {
			reserves++
		}
	}
	if me.Reserved != 15 || me.Remaining != 0 || sum != me.Remaining || reserves != 15 {
		t.Errorf("after the rush: reserved %d, remaining %d, ledger sum %d, %d reserve entries; want 15, 0, 0, 15", me.Reserved, me.Remaining, sum, reserves)
	}
}
