package reqbody

import (
	"context"
	"strconv"
	"time"

	"batchinfer/api"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
)

// Budget bounds the bytes a process holds while decoding requests (HTTP
// bodies as they arrive, WebSocket messages whole): a weighted semaphore.
// A request that finds it exhausted waits up to Wait, then is refused with
// 503 busy and Retry-After.
type Budget struct {
	sem  *semaphore.Weighted
	size int64
	wait time.Duration

	inUse   prometheus.Gauge
	refused prometheus.Counter
}

// NewBudget returns a budget of size bytes; reg may be nil.
func NewBudget(size int64, wait time.Duration, reg prometheus.Registerer) *Budget {
	b := &Budget{
		sem: semaphore.NewWeighted(size), size: size, wait: wait,
		inUse: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_decode_budget_bytes_in_use", Help: "Bytes of request bodies and messages being decoded (of GATEWAY_DECODE_BUDGET_BYTES).",
		}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_decode_budget_refused_total", Help: "Requests refused (busy) because the decode budget stayed exhausted for GATEWAY_DECODE_WAIT.",
		}),
	}
	if reg != nil {
		reg.MustRegister(b.inUse, b.refused)
	}
	return b
}

// Size is the budget's size in bytes.
func (b *Budget) Size() int64 { return b.size }

// Acquire takes n bytes (at most the whole budget), waiting up to the
// budget's wait; the error is busy, or ctx's.
func (b *Budget) Acquire(ctx context.Context, n int64) error {
	n = min(n, b.size)
	if b.sem.TryAcquire(n) {
		b.inUse.Add(float64(n))
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.sem.Acquire(wctx, n); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.refused.Inc()
		return api.RetryLater(api.CodeBusy, time.Second, nil,
			"this gateway is decoding as many bytes as it may (%d, GATEWAY_DECODE_BUDGET_BYTES): retry later or elsewhere", b.size)
	}
	b.inUse.Add(float64(n))
	return nil
}

// Idle reports whether none of the budget is in use (tests: that
// the budget came back).
func (b *Budget) Idle() bool {
	if !b.sem.TryAcquire(b.size) {
		return false
	}
	b.sem.Release(b.size)
	return true
}

// Release gives n bytes back (as many as were acquired for them).
func (b *Budget) Release(n int64) {
	n = min(n, b.size)
	b.sem.Release(n)
	b.inUse.Sub(float64(n))
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
