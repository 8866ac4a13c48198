package natsx

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Epoch ends at every reconnect: a request in flight on the old connection
// gets no answer (the server that had it may be gone), so work that waits
// for one runs under a context the epoch ends, is cut at once, and is run
// again on the new connection instead of waiting out its timeout.
type Epoch struct {
	mu sync.Mutex
	ch chan struct{}
}

// NewEpoch returns the first epoch.
func NewEpoch() *Epoch { return &Epoch{ch: make(chan struct{})} }

// Next ends the current epoch: the connection was re-established.
func (e *Epoch) Next() {
	e.mu.Lock()
	close(e.ch)
	e.ch = make(chan struct{})
	e.mu.Unlock()
}

// Changed returns a channel closed at the next reconnect.
func (e *Epoch) Changed() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ch
}

// Context returns a child of ctx that also ends at the next reconnect, or
// when stop (optional) is closed.
func (e *Epoch) Context(ctx context.Context, stop ...<-chan struct{}) (context.Context, context.CancelFunc) {
	ch := e.Changed()
	c, cancel := context.WithCancel(ctx)
	var also <-chan struct{}
	if len(stop) > 0 {
		also = stop[0]
	}
	go func() {
		select {
		case <-ch:
			cancel()
		case <-also:
			cancel()
		case <-c.Done():
		}
	}()
	return c, cancel
}

// Do runs op with a context that ends after timeout or at the next
// reconnect; an op a reconnect cut short is run again on the new
// connection, up to attempts times in all.
func (e *Epoch) Do(ctx context.Context, timeout time.Duration, attempts int, op func(ctx context.Context) error) error {
	return e.do(ctx, timeout, attempts, false, op)
}

// DoAgain is Do that also runs op again when its own timeout ended it: a
// request the server that had it never answered (a stream leader restarted
// while this client stayed connected to another server). Only for requests
// every server answers when asked again: a store or a read, not an ack (a
// second ack of an acked message may get no answer at all).
func (e *Epoch) DoAgain(ctx context.Context, timeout time.Duration, attempts int, op func(ctx context.Context) error) error {
	return e.do(ctx, timeout, attempts, true, op)
}

func (e *Epoch) do(ctx context.Context, timeout time.Duration, attempts int, again bool, op func(ctx context.Context) error) error {
	for i := 1; ; i++ {
		ch := e.Changed()
		ectx, cancel := e.Context(ctx)
		octx, stop := context.WithTimeout(ectx, timeout)
		err := op(octx)
		cut := again && errors.Is(octx.Err(), context.DeadlineExceeded)
		stop()
		cancel()
		select {
		case <-ch:
			cut = true
		default:
		}
		if err != nil && cut && i < attempts && ctx.Err() == nil {
			continue
		}
		return err
	}
}
