package system

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/api"
	biclient "batchinfer/client"
	"batchinfer/gateway"

	"github.com/gorilla/websocket"
)

// logBuffer collects a gateway's JSON log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the lines whose fields include every one of want.
func (l *logBuffer) lines(want map[string]string) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, s := range strings.Split(l.b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil {
			continue
		}
		ok := true
		for k, v := range want {
			ok = ok && fmt.Sprint(m[k]) == v
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// Behind a trusted proxy the audit log names the client; failed
// authentications of one address are logged up to its budget, then
// refused unchecked (429) and not logged one by one, while other
// addresses are served; logged paths are truncated; submissions and
// cancels are audited on both transports, and WebSocket authentications
// too.
func TestAuditBehindProxySampledAndComplete(t *testing.T) {
	var logs logBuffer
	s := Start(t, Options{GatewayLog: &logs, Gateway: func(c *gateway.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"}
		c.Audit.FailureBurst, c.Audit.FailureRate = 5, 0.01
	}})
	from := func(addr string) []string { return []string{"X-Forwarded-For", "6.6.6.6, " + addr} } // the left part is the client's own claim
	limited := 0
	for i := 0; i < 50; i++ {
		code, hdr, _ := s.As("bik_guess").Do("GET", "/v1/models", "", nil, nil, from("203.0.113.5")...)
		switch {
		case code == 429 && hdr.Get("Retry-After") != "":
			limited++
		case code != 401:
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if limited != 45 {
		t.Fatalf("%d of 50 guesses refused unchecked, want all but the burst of 5", limited)
	}
	if code, _, _ := s.Do("GET", "/v1/models", "", nil, nil, from("203.0.113.5")...); code != 429 {
		t.Fatalf("a key from the blocked address: %d (refused before it is checked)", code)
	}
	if code, _, _ := s.Do("GET", "/v1/models", "", nil, nil, from("203.0.113.6")...); code != 200 {
		t.Fatalf("another address: %d", code)
	}
	if n := len(logs.lines(map[string]string{"message": "authentication failed", "remote": "203.0.113.5"})); n != 5 {
		t.Fatalf("%d audit lines for 50 failures of one address, want 5", n)
	}
	s.As("bik_guess").Do("GET", "/v1/jobs/"+strings.Repeat("x", 20_000), "", nil, nil, from("203.0.113.7")...)
	long := logs.lines(map[string]string{"message": "authentication failed", "remote": "203.0.113.7"})
	if len(long) != 1 || len(long[0]["path"].(string)) > 256+len("…") {
		t.Fatalf("a 20 kB path logged as %v", long)
	}
	// Submissions and cancels, HTTP and WebSocket.
	inputs, _ := DigitInputs(t, 3)
	var sub submitResp
	if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs}, &sub, from("198.51.100.1")...); code != 202 {
		t.Fatalf("submit: %d", code)
	}
	s.Do("POST", "/v1/jobs/"+sub.Job.ID+"/cancel", "", nil, nil, from("198.51.100.2")...)
	w, _, err := s.DialWSWith(biclient.DialOptions{NoCredentials: true, Header: http.Header{"X-Forwarded-For": {"198.51.100.3"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.C.Close()
	w.Read() // hello
	w.Send(map[string]any{"type": "auth", "token": KeyA})
	w.Read() // authenticated
	w.Send(map[string]any{"type": "submit", "ref": "r1", "model": "digits", "inputs": inputs, "subscribe": false})
	m := w.Read()
	for _, want := range []map[string]string{
		{"event": "job_submitted", "job": sub.Job.ID, "remote": "198.51.100.1", "transport": "http", "tenant": TenantA, "via": "!"},
		{"event": "job_cancelled", "job": sub.Job.ID, "remote": "198.51.100.2", "transport": "http"},
		{"event": "authenticated", "how": "message", "remote": "198.51.100.3", "transport": "websocket", "tenant": TenantA},
		{"event": "job_submitted", "job": m.Job, "remote": "198.51.100.3", "transport": "websocket", "items": "3"},
	} {
		if want["via"] == "!" {
			delete(want, "via")
			want["component"] = "audit"
		}
		Eventually(t, 5*time.Second, func() error {
			if len(logs.lines(want)) != 1 {
				return fmt.Errorf("no audit line %v", want)
			}
			return nil
		})
	}
}

// Sockets that never authenticate: each closed after the auth timeout
// with 4401, their lines sampled per address like any failure.
func TestPreauthTimeoutsAreSampled(t *testing.T) {
	var logs logBuffer
	s := Start(t, Options{GatewayLog: &logs, Gateway: func(c *gateway.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"}
		c.Audit.FailureBurst, c.Audit.FailureRate = 3, 0.01
		c.WS.AuthTimeout, c.WS.MaxPreauthPerAddr = 200*time.Millisecond, 100
	}})
	for i := 0; i < 20; i++ {
		w, _, err := s.DialWSWith(biclient.DialOptions{NoCredentials: true, Header: http.Header{"X-Forwarded-For": {"203.0.113.9"}}})
		if err != nil {
			t.Fatal(err)
		}
		c := w.C
		defer c.Close()
		go func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					var ce *websocket.CloseError
					if !errors.As(err, &ce) || ce.Code != api.CloseUnauthorized {
						t.Errorf("closed with %v, want 4401", err)
					}
					return
				}
			}
		}()
	}
	Eventually(t, 10*time.Second, func() error {
		if n := s.Gateway.Stats().WSPreauth; n != 0 {
			return fmt.Errorf("%d sockets still waiting", n)
		}
		return nil
	})
	if n := len(logs.lines(map[string]string{"reason": "no credentials in time", "remote": "203.0.113.9"})); n != 3 {
		t.Fatalf("%d lines for 20 sockets of one address, want the burst of 3", n)
	}
}
