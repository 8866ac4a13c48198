package loadgen

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"batchinfer/client"
)

// syncClient sends single-item synchronous predictions back to back and
// checks each class.
type syncClient struct {
	id int
	r  *runner
}

func (s *syncClient) loop(ctx context.Context) {
	c := s.r.corpus
	for k := 0; !over(ctx); k++ {
		i := (s.id*31 + k) % len(c.digits)
		start := time.Now()
		cl, err := predictOne(ctx, s.r.http, "digits", client.Numbers(c.digits[i]))
		if over(ctx) {
			return
		}
		switch {
		case err != nil:
			s.r.fail(fmt.Errorf("sync client %d: %w", s.id, err))
			time.Sleep(100 * time.Millisecond)
		case cl != c.digitClass[i]:
			s.r.fail(fmt.Errorf("sync client %d: sample %d class %d, want %d", s.id, i, cl, c.digitClass[i]))
		default:
			s.r.count(&s.r.stats.Predictions)
			s.r.lat.add(time.Since(start))
		}
	}
}

// latencies keeps sync latencies of the current sampling window.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d)
	l.mu.Unlock()
}

// take returns p50 and p99 of the window and starts a new one.
func (l *latencies) take() (p50, p99 time.Duration) {
	l.mu.Lock()
	d := l.d
	l.d = nil
	l.mu.Unlock()
	if len(d) == 0 {
		return 0, 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2], d[min(len(d)-1, len(d)*99/100)]
}
