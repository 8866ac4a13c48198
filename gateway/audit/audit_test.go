package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"batchinfer/gateway/auth"
	"batchinfer/gateway/peer"

	"github.com/rs/zerolog"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestLog(buf *bytes.Buffer, cfg Config) (*Log, *clock) {
	l := New(zerolog.New(buf), cfg, nil)
	c := &clock{t: time.Unix(1_000_000, 0)}
	l.now = c.now
	return l, c
}

func lines(buf *bytes.Buffer) []map[string]any {
	var out []map[string]any
	for _, s := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if s == "" {
			continue
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(s), &m)
		out = append(out, m)
	}
	return out
}

func info(s string) peer.Info { return peer.Info{Addr: netip.MustParseAddr(s), Transport: peer.HTTP} }

// One address failing 1,000 times writes its burst of lines, is then
// blocked, and its next line sums up the rest; another address is not
// affected.
func TestFailuresSampledAndBlockedPerAddress(t *testing.T) {
	var buf bytes.Buffer
	l, c := newTestLog(&buf, Config{FailureRate: 1, FailureBurst: 5, MaxAddresses: 100, MaxPathBytes: 16})
	a := info("203.0.113.7")
	for i := 0; i < 1000; i++ {
		l.Failed(a, "GET", "/v1/jobs", "invalid credentials")
	}
	if got := len(lines(&buf)); got != 5 {
		t.Fatalf("%d lines for 1,000 failures, want the burst of 5", got)
	}
	if ok, wait := l.Blocked(a); !ok || wait <= 0 || wait > time.Second {
		t.Fatalf("address over its budget: blocked %v, retry in %s", ok, wait)
	}
	if ok, _ := l.Blocked(info("198.51.100.1")); ok {
		t.Fatal("another address is blocked")
	}
	c.t = c.t.Add(1500 * time.Millisecond) // one token back
	if ok, _ := l.Blocked(a); ok {
		t.Fatal("still blocked once the budget refilled")
	}
	buf.Reset()
	l.Failed(a, "GET", strings.Repeat("x", 900_000), "invalid credentials")
	ls := lines(&buf)
	if len(ls) != 1 || ls[0]["suppressed"] != float64(996) || len(ls[0]["path"].(string)) > 16+len("…") {
		t.Fatalf("line after the pause: %v", ls)
	}
}

// Addresses are forgotten once their budget is full again: thousands of
// failing addresses leave the table empty; past MaxAddresses the rest
// share one sampled budget that blocks nobody.
func TestFailureTableReturnsToBaseline(t *testing.T) {
	var buf bytes.Buffer
	l, c := newTestLog(&buf, Config{FailureRate: 1, FailureBurst: 3, MaxAddresses: 1000, MaxPathBytes: 64})
	for round := 0; round < 3; round++ {
		for i := 0; i < 5000; i++ {
			l.Failed(info(fmt.Sprintf("10.%d.%d.%d", round, i/256, i%256)), "", "/v1/ws", "no credentials in time")
		}
		if n := l.Tracked(); n != 1000 {
			t.Fatalf("round %d: %d addresses tracked, want the cap of 1000", round, n)
		}
		if ok, _ := l.Blocked(info(fmt.Sprintf("10.%d.19.0", round))); ok { // 4864th: in the overflow
			t.Fatal("an address past the cap is blocked")
		}
		c.t = c.t.Add(sweepEvery + 3*time.Second)
		l.Failed(info("192.0.2.1"), "", "/", "x") // triggers the sweep
		if n := l.Tracked(); n != 1 {
			t.Fatalf("round %d: %d addresses still tracked after their budgets refilled", round, n)
		}
	}
}

func TestJobEventsCarryWhoAndWhere(t *testing.T) {
	var buf bytes.Buffer
	l, _ := newTestLog(&buf, Config{FailureRate: 1, FailureBurst: 1, MaxAddresses: 1, MaxPathBytes: 9})
	ctx := auth.With(context.Background(), &auth.Principal{Tenant: "acme", KeyID: "k1"})
	ctx = peer.With(ctx, peer.Info{Addr: netip.MustParseAddr("198.51.100.9"), Via: "10.0.0.2:80", Transport: peer.WebSocket})
	l.Job(ctx, "job_submitted", "j1", func(e *zerolog.Event) { e.Int("items", 3) })
	l.Authenticated(ctx, "message")
	ls := lines(&buf)
	want := map[string]any{"event": "job_submitted", "tenant": "acme", "key_id": "k1", "job": "j1", "remote": "198.51.100.9",
		"via": "10.0.0.2:80", "transport": "websocket", "items": float64(3), "component": "audit"}
	for k, v := range want {
		if ls[0][k] != v {
			t.Errorf("%s = %v, want %v (%v)", k, ls[0][k], v, ls[0])
		}
	}
	if ls[1]["event"] != "authenticated" || ls[1]["how"] != "message" {
		t.Errorf("authentication line %v", ls[1])
	}
	if got := l.Path("/v1/ééé"); got != "/v1/éé…" {
		t.Errorf("truncated %q", got)
	}
}
