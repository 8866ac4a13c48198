package worker

import (
	"sync"
	"time"
)

// leases holds the chunks a lane has received and not yet acked, and
// renews their lease (the ack deadline) four times per AckWait and at once
// after a reconnect: a chunk being worked on, however long, stays with this
// worker, while the chunks of a worker that died, or that were lost in
// flight when NATS restarted, come back to the queue one AckWait later.
type leases struct {
	mu   sync.Mutex
	held map[*task]struct{}
}

func newLeases() *leases { return &leases{held: map[*task]struct{}{}} }

func (l *leases) hold(t *task) {
	l.mu.Lock()
	l.held[t] = struct{}{}
	l.mu.Unlock()
}

// forget drops t and reports whether it was held.
func (l *leases) forget(t *task) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.held[t]
	delete(l.held, t)
	return ok
}

// others reports whether a chunk of t's job other than t is held and not
// yet being counted.
func (l *leases) others(t *task) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for o := range l.held {
		if o != t && o.job == t.job && !o.counting.Load() {
			return true
		}
	}
	return false
}

func (l *leases) all() []*task {
	l.mu.Lock()
	defer l.mu.Unlock()
	ts := make([]*task, 0, len(l.held))
	for t := range l.held {
		ts = append(ts, t)
	}
	return ts
}

func (l *leases) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}

// renew keeps the leases until done closes or stopped reports true.
func (l *leases) renew(ackWait time.Duration, reconnected func() <-chan struct{}, done <-chan struct{}, stopped func() bool) {
	tick := time.NewTicker(max(ackWait/4, 50*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		case <-reconnected():
		}
		if stopped() {
			return
		}
		for _, t := range l.all() {
			_ = t.msg.InProgress()
		}
	}
}
