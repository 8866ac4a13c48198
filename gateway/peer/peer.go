// Package peer says who is at the other end of a request: the client's
// address, read from the TCP connection or, when that connection comes from
// a trusted proxy, from the address the proxy recorded (X-Forwarded-For,
// X-Real-IP), and the transport it came by. The gateway resolves it once per
// request and puts it in the request's context, where the audit log and the
// per-address limits read it.
package peer

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Transports a request comes by.
const (
	HTTP      = "http"
	WebSocket = "websocket"
)

// Info is the client of a request.
type Info struct {
	// Addr is the client's address: the TCP peer's, or the one a trusted
	// proxy recorded. Invalid when nothing could be parsed.
	Addr netip.Addr
	// Via is the TCP peer ("ip:port") when Addr came from a proxy's header,
	// else "".
	Via string
	// Transport is HTTP or WebSocket.
	Transport string
}

// String is the client's address for logs ("unknown" when invalid).
func (i Info) String() string {
	if !i.Addr.IsValid() {
		return "unknown"
	}
	return i.Addr.String()
}

// Bucket is what per-address limits count by: the address itself for IPv4,
// its /64 for IPv6 (one subscriber's usual allocation, which one client can
// rotate through at will).
func (i Info) Bucket() netip.Prefix { return Bucket(i.Addr) }

// Bucket is the per-address limits' unit of addr (see Info.Bucket).
func Bucket(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = 64
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

type ctxKey struct{}

// With returns ctx carrying i.
func With(ctx context.Context, i Info) context.Context { return context.WithValue(ctx, ctxKey{}, i) }

// From returns the Info of ctx (zero when none was set).
func From(ctx context.Context) Info {
	i, _ := ctx.Value(ctxKey{}).(Info)
	return i
}

// Proxies are the trusted proxies: only their X-Forwarded-For and X-Real-IP
// headers are believed.
type Proxies struct{ nets []netip.Prefix }

// ParseProxies reads CIDRs ("10.0.0.0/8") or single addresses.
func ParseProxies(list []string) (*Proxies, error) {
	p := &Proxies{}
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			a, aerr := netip.ParseAddr(s)
			if aerr != nil {
				return nil, fmt.Errorf("trusted proxy %q: want a CIDR (10.0.0.0/8) or an address", s)
			}
			pfx = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		p.nets = append(p.nets, pfx.Masked())
	}
	return p, nil
}

// Trusted says whether addr is a trusted proxy.
func (p *Proxies) Trusted(addr netip.Addr) bool {
	if p == nil {
		return false
	}
	addr = addr.Unmap()
	for _, n := range p.nets {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

// Resolve finds the client of r. The TCP peer is the client unless it is
// a trusted proxy; then the client is the rightmost address of
// X-Forwarded-For that is not itself a trusted proxy (the proxies append,
// so whatever a client wrote itself is further left and ignored), or, with
// no X-Forwarded-For, X-Real-IP.
func (p *Proxies) Resolve(r *http.Request, transport string) Info {
	i := Info{Addr: AddrOf(r.RemoteAddr), Transport: transport}
	if !i.Addr.IsValid() || !p.Trusted(i.Addr) {
		return i
	}
	if a, ok := p.forwarded(r.Header.Values("X-Forwarded-For")); ok {
		return Info{Addr: a, Via: r.RemoteAddr, Transport: transport}
	}
	if a := AddrOf(strings.TrimSpace(r.Header.Get("X-Real-IP"))); a.IsValid() {
		return Info{Addr: a, Via: r.RemoteAddr, Transport: transport}
	}
	return i
}

// forwarded walks X-Forwarded-For from the right past the trusted proxies.
func (p *Proxies) forwarded(values []string) (netip.Addr, bool) {
	var hops []string
	for _, v := range values {
		hops = append(hops, strings.Split(v, ",")...)
	}
	var last netip.Addr
	for i := len(hops) - 1; i >= 0; i-- {
		a := AddrOf(strings.TrimSpace(hops[i]))
		if !a.IsValid() {
			break // garbage: stop at the last address we could read
		}
		last = a
		if !p.Trusted(a) {
			return a, true
		}
	}
	return last, last.IsValid()
}

// AddrOf parses "ip", "ip:port" or "[ipv6]:port" (invalid when it is none).
func AddrOf(s string) netip.Addr {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap()
	}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap()
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(h); err == nil {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}
