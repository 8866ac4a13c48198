package webhook

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/internal/wire"
)

// The delivery client refuses what the guard refuses on every hop: a
// name that resolves to loopback when dialled, a redirect to the metadata
// address or a private one, a redirect that would drop the POST, and more
// redirects than allowed. 307 and 308 to allowed places are followed with
// the body.
func TestClientRefusesOnEveryHop(t *testing.T) {
	var bodies atomic.Int64
	final := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, _ := io.ReadAll(r.Body); string(b) == "payload" && r.Method == http.MethodPost {
			bodies.Add(1)
		}
	}))
	defer final.Close()
	hop := func(status int, to string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, status) }))
		t.Cleanup(s.Close)
		return s
	}
	_, finalPort, _ := net.SplitHostPort(final.Listener.Addr().String())
	loop := hop(http.StatusTemporaryRedirect, "/again")

	cfg := Defaults()
	cfg.Schemes, cfg.AllowCIDRs, cfg.MaxRedirects, cfg.Timeout = []string{"https", "http"}, []string{"127.0.0.1/32"}, 2, 5*time.Second
	open := newClient(cfg, guard(t, func(c *Config) { *c = cfg }))
	closed := newClient(cfg, guard(t, func(c *Config) { *c = cfg; c.AllowCIDRs = nil }))
	// Only the first hop's literal address is allowed (by name): the next
	// hop's name resolves to 127.0.0.1 and is refused when dialled.
	literal := newClient(cfg, guard(t, func(c *Config) { *c = cfg; c.AllowCIDRs, c.AllowHosts = nil, []string{"127.0.0.1"} }))
	rebound := "http://localhost:" + finalPort + "/"
	if h := loopbackName(); h != "" {
		rebound = "http://" + h + ":" + finalPort + "/" // not refused by its name: only by its address
	}
	for _, tc := range []struct {
		name    string
		client  *http.Client
		url     string
		refusal string // "" when delivered
	}{
		{"allowed", open, final.URL, ""},
		{"307 then 308 followed with the body", open, hop(307, hop(308, final.URL).URL).URL, ""},
		{"a name resolving to 127.0.0.1", closed, "http://localhost:" + finalPort + "/", "loopback"},
		{"redirect to metadata", open, hop(307, "http://169.254.169.254/latest/meta-data/").URL, "cloud metadata"},
		{"redirect to a private address", open, hop(308, "http://192.168.0.1/").URL, "private"},
		{"redirect to a name resolving to loopback", literal, hop(307, rebound).URL, "loopback"},
		{"302 drops the POST", open, hop(302, final.URL).URL, "drops the POST"},
		{"too many redirects", open, loop.URL, "more than 2 redirects"},
		{"redirect to a refused scheme", open, hop(307, "ftp://example.com/").URL, "scheme"},
	} {
		before := bodies.Load()
		resp, err := tc.client.Post(tc.url, "text/plain", strings.NewReader("payload"))
		if err == nil {
			_ = resp.Body.Close()
		}
		switch {
		case tc.refusal == "" && (err != nil || bodies.Load() != before+1):
			t.Errorf("%s: %v, %d bodies arrived", tc.name, err, bodies.Load()-before)
		case tc.refusal != "" && (err == nil || !strings.Contains(err.Error(), tc.refusal)):
			t.Errorf("%s: %v, want a refusal naming %q", tc.name, err, tc.refusal)
		case tc.refusal != "" && bodies.Load() != before:
			t.Errorf("%s: the body arrived", tc.name)
		}
	}
}

// loopbackName is this machine's name when it resolves to a loopback
// address (as in /etc/hosts here), else "".
func loopbackName() string {
	h, err := os.Hostname()
	if err != nil || strings.EqualFold(h, "localhost") {
		return ""
	}
	addrs, err := net.LookupIP(h)
	if err != nil || len(addrs) == 0 {
		return ""
	}
	for _, a := range addrs {
		if !a.IsLoopback() {
			return ""
		}
	}
	return h
}

// A response is read up to WEBHOOK_MAX_RESPONSE_BYTES: an endpoint that
// streams without end cannot hold an attempt past its timeout.
func TestEndlessResponseIsCut(t *testing.T) {
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		buf := make([]byte, 32<<10)
		for r.Context().Err() == nil {
			if _, err := w.Write(buf); err != nil {
				return
			}
		}
	}))
	defer endless.Close()
	cfg := testConfig(t)
	cfg.MaxResponseBytes = 1 << 10
	e := start(t, cfg)
	job := e.finish("tenant-a", endless.URL, "completed")
	e.settled(wire.DeliveryDelivered, job)
	if d := e.log(job); d.Attempts != 1 || d.Log[0].Status != 200 {
		t.Errorf("delivery %+v", d)
	}
}

// An attempt cut short by a gateway's stop is not recorded and its event
// comes back at once: another gateway delivers it (at least once: the
// receiver saw the same webhook-id twice).
func TestStoppedGatewayHandsTheEventOver(t *testing.T) {
	rcv := newReceiver(t, secretA, func(n int) int {
		if n == 1 {
			return 0 // hang: the first gateway stops meanwhile
		}
		return http.StatusOK
	})
	cfg := testConfig(t)
	cfg.Timeout = 20 * time.Second
	first := start(t, cfg)
	job := first.finish("tenant-a", rcv.url(), "completed")
	eventually(t, 10*time.Second, func() error {
		if len(rcv.requests()) == 0 {
			return errors.New("no attempt yet")
		}
		return nil
	})
	first.d.Stop()
	second := startOn(t, cfg, first.in)
	second.settled(wire.DeliveryDelivered, job)
	d := second.log(job)
	reqs := rcv.requests()
	if d.Attempts != 1 || len(reqs) != 2 || reqs[0].id != reqs[1].id {
		t.Errorf("delivery %+v after %d requests", d, len(reqs))
	}
	second.drained()
}
