package service

import (
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// inbox routes the replies that arrive on one wildcard subscription per
// gateway to the request waiting for them: synchronous prediction results
// (one message) and batched direct gets of stored results (several messages
// and an end-of-batch marker). A request costs a map entry, never a
// subscription on the server.
type inbox struct {
	prefix string
	sub    *nats.Subscription
	mu     sync.Mutex
	wait   map[string]chan *nats.Msg
}

func newInbox(nc *nats.Conn) (*inbox, error) {
	m := &inbox{prefix: nats.NewInbox() + ".", wait: map[string]chan *nats.Msg{}}
	sub, err := nc.Subscribe(m.prefix+"*", m.dispatch)
	if err != nil {
		return nil, fmt.Errorf("subscribe inbox: %w", err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("inbox pending limits: %w", err)
	}
	m.sub = sub
	return m, nil
}

func (m *inbox) dispatch(msg *nats.Msg) {
	id := msg.Subject[len(m.prefix):]
	m.mu.Lock()
	ch := m.wait[id]
	m.mu.Unlock()
	if ch == nil {
		return // the request gave up
	}
	select {
	case ch <- msg:
	default: // more replies than announced: the request sees a gap and fails
	}
}

// Register returns a reply subject and the channel on which up to buf
// replies arrive; call done when no longer waiting.
func (m *inbox) Register(buf int) (subject string, replies <-chan *nats.Msg, done func()) {
	id := nuid.Next()
	ch := make(chan *nats.Msg, buf)
	m.mu.Lock()
	m.wait[id] = ch
	m.mu.Unlock()
	return m.prefix + id, ch, func() {
		m.mu.Lock()
		delete(m.wait, id)
		m.mu.Unlock()
	}
}

// waiting is the number of registered requests (a leak check for tests).
func (m *inbox) waiting() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.wait)
}

// valid reports whether the subscription still receives replies.
func (m *inbox) valid() bool { return m.sub != nil && m.sub.IsValid() }

func (m *inbox) close() { _ = m.sub.Unsubscribe() }
