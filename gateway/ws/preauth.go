package ws

import (
	"net/netip"
	"sync"
	"time"

	"batchinfer/api"
)

// preauthPool counts the connections that have not authenticated yet,
// apart from the authenticated ones: a client that opens sockets and never
// authenticates fills this small pool (and, per address, its share of it),
// never the one the tenants' connections use.
type preauthPool struct {
	max, perAddr int

	mu     sync.Mutex
	n      int
	byAddr map[netip.Prefix]int
}

// acquire takes a slot for a connection from addr; release gives it back
// (once).
func (p *preauthPool) acquire(addr netip.Prefix) (release func(), err *api.Error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.byAddr == nil {
		p.byAddr = map[netip.Prefix]int{}
	}
	switch {
	case p.byAddr[addr] >= p.perAddr:
		return nil, api.RetryLater(api.CodeTooManyConns, 5*time.Second, nil,
			"too many WebSocket connections waiting for authentication from your address (%d, limit GATEWAY_MAX_WS_PREAUTH_PER_ADDR): send the credentials in the upgrade or authenticate at once", p.perAddr)
	case p.n >= p.max:
		return nil, api.RetryLater(api.CodeTooManyConns, 5*time.Second, nil,
			"too many WebSocket connections waiting for authentication (limit GATEWAY_MAX_WS_PREAUTH)")
	}
	p.n++
	p.byAddr[addr]++
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.n--
			if p.byAddr[addr]--; p.byAddr[addr] <= 0 {
				delete(p.byAddr, addr)
			}
		})
	}, nil
}

// open is the number of connections waiting for authentication.
func (p *preauthPool) open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n
}
