package system

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards TCP connections to a gateway, and on demand drops every
// connection it carries and refuses new ones (Down) until Up: to a client,
// a gateway that died and came back.
type Proxy struct {
	// URL is the proxy's base URL, to give the client instead of the
	// gateway's.
	URL    string
	ln     net.Listener
	target string
	down   atomic.Bool
	// Bytes counts the bytes carried towards the gateway.
	Bytes atomic.Int64
	// Rate, when above 0, holds what the gateway sends back to this many
	// bytes per second (so that a drop lands in the middle of an answer
	// instead of after it was buffered whole on the client's side).
	Rate  atomic.Int64
	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// StartProxy forwards to the gateway at target (host:port) until the test
// ends.
func StartProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{URL: "http://" + ln.Addr().String(), ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(func() {
		_ = ln.Close()
		p.Down()
		p.wg.Wait()
	})
	return p
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if p.down.Load() {
			_ = c.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(c net.Conn) {
	defer p.wg.Done()
	g, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = c.Close()
		return
	}
	if !p.track(c, g) {
		return
	}
	var done sync.WaitGroup
	done.Add(2)
	go func() { defer done.Done(); n, _ := io.Copy(g, c); p.Bytes.Add(n); p.drop(c, g) }()
	go func() { defer done.Done(); p.back(c, g); p.drop(c, g) }()
	done.Wait()
}

// track records a connection pair, or closes it when the proxy went down.
func (p *Proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down.Load() {
		for _, c := range cs {
			_ = c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *Proxy) drop(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		_ = c.Close()
		delete(p.conns, c)
	}
}

// Down drops every connection and refuses new ones until Up.
func (p *Proxy) Down() {
	p.mu.Lock()
	p.down.Store(true)
	for c := range p.conns {
		_ = c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
}

// Up accepts connections again.
func (p *Proxy) Up() { p.down.Store(false) }

// back copies the gateway's answers to the client at the proxy's Rate.
func (p *Proxy) back(c, g net.Conn) {
	buf := make([]byte, 16<<10)
	for {
		n, err := g.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return
			}
			if r := p.Rate.Load(); r > 0 {
				time.Sleep(time.Duration(int64(n) * int64(time.Second) / r))
			}
		}
		if err != nil {
			return
		}
	}
}
