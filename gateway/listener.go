package gateway

import (
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/peer"
	"batchinfer/internal/wire"

	"github.com/prometheus/client_golang/prometheus"
)

// addrLimit caps the connections open at once from one client address
// (peer.Bucket: an IPv4 address, an IPv6 /64). A connection over the cap
// is answered 503 too_many_connections (plain HTTP) or just closed (TLS)
// right after it is accepted. Trusted proxies are not capped: the clients
// behind them are counted by the limits that see their addresses.
type addrLimit struct {
	net.Listener
	max     int
	proxies *peer.Proxies
	plain   bool // the listener serves plain HTTP (no TLS above it)
	refused prometheus.Counter

	mu sync.Mutex
	n  map[netip.Prefix]int
}

func newAddrLimit(ln net.Listener, max int, proxies *peer.Proxies, plain bool, refused prometheus.Counter) *addrLimit {
	return &addrLimit{Listener: ln, max: max, proxies: proxies, plain: plain, refused: refused, n: map[netip.Prefix]int{}}
}

// Accept returns the next connection under the cap.
func (l *addrLimit) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		a := peer.AddrOf(c.RemoteAddr().String())
		if !a.IsValid() || l.proxies.Trusted(a) {
			return c, nil
		}
		b := peer.Bucket(a)
		if l.take(b) {
			return &countedConn{Conn: c, release: func() { l.give(b) }}, nil
		}
		l.refused.Inc()
		l.refuse(c)
	}
}

func (l *addrLimit) take(b netip.Prefix) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[b] >= l.max {
		return false
	}
	l.n[b]++
	return true
}

func (l *addrLimit) give(b netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n[b]--; l.n[b] <= 0 {
		delete(l.n, b)
	}
}

// open is the number of addresses with connections open (leak tests).
func (l *addrLimit) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.n)
}

// refuse answers a connection over the cap without reading from it.
func (l *addrLimit) refuse(c net.Conn) {
	if l.plain {
		body := wire.Marshal(api.ErrorBody{Error: api.Errorf(api.CodeTooManyConns,
			"too many connections from your address (%d, limit GATEWAY_MAX_CONNS_PER_ADDR)", l.max)})
		resp := "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n" +
			"Retry-After: 1\r\nX-Content-Type-Options: nosniff\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
		_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
		_, _ = c.Write([]byte(resp))
	}
	_ = c.Close()
}

// countedConn gives its slot back when closed (once).
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
