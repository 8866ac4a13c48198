package peer

import (
	"context"
	"net/http"
	"net/netip"
	"testing"
)

func TestResolve(t *testing.T) {
	p, err := ParseProxies([]string{"10.0.0.0/8", "192.168.1.5", " "})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, remote, xff, realIP string
		want, via                 string
	}{
		{"direct client", "203.0.113.7:5000", "", "", "203.0.113.7", ""},
		{"direct client's header is ignored", "203.0.113.7:5000", "1.2.3.4", "5.6.7.8", "203.0.113.7", ""},
		{"proxy with XFF", "10.1.2.3:4000", "198.51.100.9", "", "198.51.100.9", "10.1.2.3:4000"},
		{"spoofed left part ignored", "10.1.2.3:4000", "6.6.6.6, 198.51.100.9", "", "198.51.100.9", "10.1.2.3:4000"},
		{"chain of proxies", "10.1.2.3:4000", "198.51.100.9, 10.9.9.9, 192.168.1.5", "", "198.51.100.9", "10.1.2.3:4000"},
		{"all trusted: leftmost", "10.1.2.3:4000", "10.2.2.2, 10.3.3.3", "", "10.2.2.2", "10.1.2.3:4000"},
		{"X-Real-IP", "192.168.1.5:80", "", "2001:db8::1", "2001:db8::1", "192.168.1.5:80"},
		{"garbage header: the peer", "10.1.2.3:4000", "not-an-ip", "also not", "10.1.2.3", ""},
		{"port in XFF", "10.1.2.3:4000", "[2001:db8::2]:443", "", "2001:db8::2", "10.1.2.3:4000"},
		{"mapped v4", "[::ffff:203.0.113.7]:1", "", "", "203.0.113.7", ""},
		{"unparseable peer", "@", "", "", "unknown", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := http.NewRequestWithContext(context.Background(), "GET", "/", nil)
			r.RemoteAddr = tc.remote
			if tc.xff != "" {
				r.Header.Set("X-Forwarded-For", tc.xff)
			}
			if tc.realIP != "" {
				r.Header.Set("X-Real-IP", tc.realIP)
			}
			i := p.Resolve(r, HTTP)
			if i.String() != tc.want || i.Via != tc.via || i.Transport != HTTP {
				t.Fatalf("got %s via %q, want %s via %q", i, i.Via, tc.want, tc.via)
			}
		})
	}
}

func TestParseProxiesRefusesGarbage(t *testing.T) {
	if _, err := ParseProxies([]string{"10.0.0.0/8", "nonsense"}); err == nil {
		t.Fatal("accepted nonsense")
	}
	var none *Proxies
	if none.Trusted(netip.MustParseAddr("10.0.0.1")) {
		t.Fatal("a nil set trusts")
	}
}

func TestBucket(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7": "203.0.113.7/32", "2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64", "::ffff:1.2.3.4": "1.2.3.4/32",
	} {
		if got := Bucket(netip.MustParseAddr(in)).String(); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	if ctxInfo := From(With(context.Background(), Info{Transport: WebSocket})); ctxInfo.Transport != WebSocket {
		t.Fatal("context round trip")
	}
}
