package gateway

import (
	"fmt"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nuid"
)

// replyMux routes synchronous prediction results, which workers publish on
// core NATS to prefix.<id>, to the waiting request through one wildcard
// subscription per gateway.
type replyMux struct {
	prefix string
	sub    *nats.Subscription
	mu     sync.Mutex
	wait   map[string]chan *nats.Msg
}

func newReplyMux(nc *nats.Conn) (*replyMux, error) {
	m := &replyMux{prefix: nats.NewInbox() + ".", wait: map[string]chan *nats.Msg{}}
	sub, err := nc.Subscribe(m.prefix+"*", func(msg *nats.Msg) {
		id := msg.Subject[len(m.prefix):]
		m.mu.Lock()
		ch := m.wait[id]
		m.mu.Unlock()
		if ch != nil {
			select {
			case ch <- msg:
			default:
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe replies: %w", err)
	}
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		return nil, fmt.Errorf("reply pending limits: %w", err)
	}
	m.sub = sub
	return m, nil
}

// register returns a reply subject and the channel its result arrives on;
// call the returned func when done waiting.
func (m *replyMux) register() (string, <-chan *nats.Msg, func()) {
	id := nuid.Next()
	ch := make(chan *nats.Msg, 1)
	m.mu.Lock()
	m.wait[id] = ch
	m.mu.Unlock()
	return m.prefix + id, ch, func() {
		m.mu.Lock()
		delete(m.wait, id)
		m.mu.Unlock()
	}
}
