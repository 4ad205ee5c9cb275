package mvs

import (
	"context"
	"sync"
	"sync/atomic"
)

// parallelFor calls a worker's function for every i in [lo, hi), handing
// the indices out one at a time to max(1, workers) goroutines; each
// goroutine gets its function from newWorker, so it can keep scratch space
// of its own. ctx is checked before each index; parallelFor returns
// ctx.Err() when it was cancelled.
func parallelFor(ctx context.Context, lo, hi, workers int, newWorker func() func(i int)) error {
	var next atomic.Int64
	next.Store(int64(lo))
	var cancelled atomic.Bool
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Go(func() {
			fn := newWorker()
			for {
				i := int(next.Add(1) - 1)
				if i >= hi {
					return
				}
				if ctx.Err() != nil {
					cancelled.Store(true)
					return
				}
				fn(i)
			}
		})
	}
	wg.Wait()
	if cancelled.Load() {
		return ctx.Err()
	}
	return nil
}
