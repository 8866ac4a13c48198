package webhook

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Connection limits of the delivery client.
const (
	dialTimeout     = 5 * time.Second
	idleConnTimeout = 30 * time.Second
	maxIdlePerHost  = 2
)

// Dialer dials only addresses the guard allows: its Control checks the
// address of each connection after the name is resolved, just before
// connecting, so neither a name that resolves to a refused address (now or
// after a rebinding) nor a redirect can reach one. Names the guard
// allow-lists are dialled without the check.
func (g *Guard) Dialer() func(ctx context.Context, network, addr string) (net.Conn, error) {
	checked := &net.Dialer{Timeout: dialTimeout, Control: g.control}
	plain := &net.Dialer{Timeout: dialTimeout}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, fmt.Errorf("%w: address %q: %v", ErrRefused, addr, err)
		}
		if g.HostAllowed(host) {
			return plain.DialContext(ctx, network, addr)
		}
		return checked.DialContext(ctx, network, addr)
	}
}

// control is the net.Dialer's check of the resolved address.
func (g *Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: address %q: %v", ErrRefused, address, err)
	}
	return g.CheckAddr(ap.Addr())
}

// newClient is the delivery HTTP client: no proxy (it would dial in our
// place), the guard's dialer, short timeouts, and redirects followed only
// while they keep the POST and its body (307, 308), at most maxRedirects,
// each to a URL the guard allows.
func newClient(cfg Config, g *Guard) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           g.Dialer(),
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: cfg.Timeout,
		IdleConnTimeout:       idleConnTimeout,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: cfg.RootCAs},
	}
	return &http.Client{
		Transport: tr,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > max(cfg.MaxRedirects, 0) {
				return fmt.Errorf("more than %d redirects (WEBHOOK_MAX_REDIRECTS)", cfg.MaxRedirects)
			}
			if req.Method != http.MethodPost {
				return fmt.Errorf("%w: a redirect to %s that drops the POST (%d): only 307 and 308 are followed",
					ErrRefused, req.URL.Redacted(), req.Response.StatusCode)
			}
			if _, err := g.CheckURL(req.URL.String()); err != nil {
				return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
			}
			return nil
		},
	}
}

// refused says whether err is a refusal by the guard (not retried).
func refused(err error) bool { return errors.Is(err, ErrRefused) }
