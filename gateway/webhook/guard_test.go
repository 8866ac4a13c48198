package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func guard(t *testing.T, mod func(*Config)) *Guard {
	t.Helper()
	cfg := Defaults()
	if mod != nil {
		mod(&cfg)
	}
	g, err := NewGuard(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestClassOfEveryRefusedAddress(t *testing.T) {
	for _, tc := range []struct{ addr, class string }{
		{"127.0.0.1", "loopback"}, {"127.255.0.9", "loopback"}, {"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"}, // IPv4-mapped
		{"64:ff9b::7f00:1", "loopback"},  // NAT64 of 127.0.0.1
		{"2002:7f00:1::", "loopback"},    // 6to4 of 127.0.0.1
		{"10.1.2.3", "private"}, {"172.16.0.1", "private"}, {"172.31.255.255", "private"}, {"192.168.1.1", "private"},
		{"fd12:3456::1", "private"}, {"100.64.0.1", "private"},
		{"169.254.1.1", "link-local"}, {"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"}, {"239.255.255.250", "multicast"}, {"ff02::1", "multicast"},
		{"0.0.0.0", "unspecified"}, {"::", "unspecified"}, {"0.1.2.3", "unspecified"},
		{"169.254.169.254", "cloud metadata"}, {"::ffff:169.254.169.254", "cloud metadata"},
		{"fd00:ec2::254", "cloud metadata"}, {"100.100.100.200", "cloud metadata"}, {"168.63.129.16", "cloud metadata"},
		{"169.254.170.2", "cloud metadata"},
		{"255.255.255.255", "reserved"}, {"192.0.2.1", "reserved"}, {"2001:db8::1", "reserved"}, {"2001::1", "reserved"},
		{"8.8.8.8", ""}, {"1.1.1.1", ""}, {"2606:4700:4700::1111", ""}, {"172.32.0.1", ""}, {"64:ff9b::808:808", ""},
	} {
		if got := Class(netip.MustParseAddr(tc.addr)); got != tc.class {
			t.Errorf("Class(%s) = %q, want %q", tc.addr, got, tc.class)
		}
	}
}

func TestAllowedCIDRsLetThrough(t *testing.T) {
	g := guard(t, func(c *Config) { c.AllowCIDRs = []string{"10.20.0.0/16", "127.0.0.1"} })
	for addr, ok := range map[string]bool{"10.20.3.4": true, "10.21.0.1": false, "127.0.0.1": true, "127.0.0.2": false, "::ffff:10.20.0.1": true} {
		err := g.CheckAddr(netip.MustParseAddr(addr))
		if (err == nil) != ok {
			t.Errorf("CheckAddr(%s) = %v, want allowed %v", addr, err, ok)
		}
		if err != nil && !errors.Is(err, ErrRefused) {
			t.Errorf("CheckAddr(%s): %v does not wrap ErrRefused", addr, err)
		}
	}
	if _, err := NewGuard(Config{AllowCIDRs: []string{"10.0.0.0/33"}}); err == nil {
		t.Error("a bad CIDR was accepted")
	}
}

func TestCheckURL(t *testing.T) {
	g := guard(t, nil)
	for _, tc := range []struct {
		url, refusal string // "" when allowed
	}{
		{"https://hooks.example.com/batch?token=x", ""},
		{"https://93.184.215.14:8443/h", ""},
		{"http://hooks.example.com/", "scheme"},
		{"ftp://hooks.example.com/", "scheme"},
		{"hooks.example.com/x", "absolute"},
		{"/relative", "absolute"},
		{"https://user:pass@hooks.example.com/", "credentials"},
		{"https://hooks.example.com/#frag", "fragment"},
		{"https://localhost/", "loopback"},
		{"https://LOCALHOST./", "loopback"},
		{"https://app.localhost/", "loopback"},
		{"https://127.0.0.1/", "loopback"},
		{"https://[::1]:8080/", "loopback"},
		{"https://10.0.0.5/", "private"},
		{"https://169.254.169.254/latest/meta-data/", "cloud metadata"},
		{"https://[fe80::1%25eth0]/", "link-local"},
		{"https://224.0.0.1/", "multicast"},
		{"https://0.0.0.0/", "unspecified"},
		{"https://hooks.example.com/" + strings.Repeat("a", 2048), "longer than"},
		{"https://%zz/", "not a URL"},
	} {
		_, err := g.CheckURL(tc.url)
		switch {
		case tc.refusal == "" && err != nil:
			t.Errorf("CheckURL(%.60s) = %v, want allowed", tc.url, err)
		case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal) || !errors.Is(err, ErrRefused)):
			t.Errorf("CheckURL(%.60s) = %v, want a refusal naming %q", tc.url, err, tc.refusal)
		}
	}
	h := guard(t, func(c *Config) { c.Schemes = []string{"https", "http"}; c.AllowHosts = []string{"localhost"} })
	if _, err := h.CheckURL("http://localhost:9/x"); err != nil {
		t.Errorf("allow-listed host and scheme refused: %v", err)
	}
}

// listener counts the connections a local server accepts.
func listener(t *testing.T) (string, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), &n
}

func TestDialerChecksTheResolvedAddress(t *testing.T) {
	addr, accepted := listener(t)
	_, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	// A name that resolves to 127.0.0.1 is refused at the connection, and
	// so is a refused class dialled by address: before any packet is sent.
	dial := guard(t, nil).Dialer()
	for _, target := range []string{"localhost:" + port, addr, "10.255.255.1:80", "169.254.169.254:80", "[::1]:" + port} {
		c, err := dial(ctx, "tcp", target)
		if err == nil {
			c.Close()
			t.Errorf("dialled %s", target)
			continue
		}
		if !errors.Is(err, ErrRefused) {
			t.Errorf("dial %s: %v, want a refusal", target, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the local server accepted %d connections", n)
	}

	// Allow-listed by CIDR, or by name, the same server is reached.
	for _, g := range []*Guard{
		guard(t, func(c *Config) { c.AllowCIDRs = []string{"127.0.0.0/8"} }),
		guard(t, func(c *Config) { c.AllowHosts = []string{"localhost"} }),
	} {
		c, err := g.Dialer()(ctx, "tcp4", "localhost:"+port)
		if err != nil {
			t.Fatalf("allow-listed dial: %v", err)
		}
		c.Close()
	}
}
