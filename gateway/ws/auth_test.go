package ws

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/peer"

	"github.com/gorilla/websocket"
	"github.com/rs/zerolog"
)

const keyA, keyB = "bik_tenant_a_key", "bik_tenant_b_key"

func keyring(t *testing.T, lines ...string) *auth.Keyring {
	t.Helper()
	p := filepath.Join(t.TempDir(), "keys")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := auth.OpenKeyring(p, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// auditRecorder is an Auditor that remembers what it was told.
type auditRecorder struct {
	mu       sync.Mutex
	failures []string
	authed   []string
	blocked  bool
}

func (a *auditRecorder) Blocked(peer.Info) (bool, time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.blocked, time.Second
}

func (a *auditRecorder) Failed(_ peer.Info, _, _, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failures = append(a.failures, reason)
}

func (a *auditRecorder) Authenticated(ctx context.Context, how string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.authed = append(a.authed, auth.From(ctx).Tenant+" by "+how)
}

func (a *auditRecorder) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.failures) == 0 {
		return ""
	}
	return a.failures[len(a.failures)-1]
}

func authServer(t *testing.T, cfg Config) (*Handler, func() *client, *auditRecorder) {
	t.Helper()
	a := &auth.Authenticator{Keys: keyring(t, "a "+auth.HashKey(keyA)+" conns=1 rate=1 burst=2", "b "+auth.HashKey(keyB)),
		Defaults: auth.Limits{Rate: 100, Burst: 100, Conns: 10}}
	h, dial := serveAuth(t, &fakeBackend{results: 1}, cfg, a)
	rec := &auditRecorder{}
	h.Audit = rec
	return h, dial, rec
}

// A browser authenticates with its first message; until then only auth
// (and ping) is accepted.
func TestSessionFirstMessageAuth(t *testing.T) {
	_, dial, _ := authServer(t, testConfig())
	c := dial()
	c.send(`{"type":"auth","token":"` + keyB + `"}`)
	if f := c.read(); f.Type != api.TypeAuthenticated || !strings.Contains(f.raw, `"tenant":"b"`) {
		t.Fatalf("auth answer %s", f.raw)
	}
	c.send(`{"type":"subscribe","job":"j1"}`)
	if fs := c.readUntil(api.TypeEnd); fs[0].Type != api.TypeSubscribed {
		t.Fatalf("after auth: %v", fs)
	}
	for _, tc := range []struct {
		name, first string
	}{
		{"wrong key", `{"type":"auth","token":"bik_nope"}`},
		{"message before auth", `{"type":"subscribe","job":"j1"}`},
		{"empty token", `{"type":"auth","token":""}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial()
			c.send(tc.first)
			if code := closeCode(t, c); code != api.CloseUnauthorized {
				t.Fatalf("close %d, want %d", code, api.CloseUnauthorized)
			}
		})
	}
}

// No auth message in time: 4401.
func TestSessionAuthTimeout(t *testing.T) {
	cfg := testConfig()
	cfg.AuthTimeout = 100 * time.Millisecond
	_, dial, failures := authServer(t, cfg)
	c := dial()
	if code := closeCode(t, c); code != api.CloseUnauthorized {
		t.Fatalf("close %d", code)
	}
	if failures.last() != "no credentials in time" {
		t.Fatalf("audit %v", failures.failures)
	}
}

// Credentials in the upgrade request: a wrong key is a 401 before any
// upgrade; the tenant's connection limit is a 429 (upgrade) or 4429
// (first message); the key's rate limit answers rate_limited.
func TestSessionUpgradeCredentialsAndLimits(t *testing.T) {
	_, dial, _ := authServer(t, testConfig())
	url := strings.Replace(dialURL(t, dial), "http", "ws", 1)
	hdr := func(k string) http.Header { return http.Header{"Authorization": {"Bearer " + k}} }
	if _, resp, err := websocket.DefaultDialer.Dial(url, hdr("bik_nope")); err == nil || resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("wrong key: %v %+v", err, resp)
	}
	first, _, err := websocket.DefaultDialer.Dial(url, hdr(keyA))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if _, resp, err := websocket.DefaultDialer.Dial(url, hdr(keyA)); err == nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second connection of tenant a (conns=1): %v %+v", err, resp)
	}
	c := dial()
	c.send(`{"type":"auth","token":"` + keyA + `"}`)
	if code := closeCode(t, c); code != api.CloseQuotaExceeded {
		t.Fatalf("close %d, want %d", code, api.CloseQuotaExceeded)
	}
	cl := &client{t, first}
	cl.read() // hello
	var limited bool
	for i := 0; i < 4 && !limited; i++ { // rate=1/s, burst=2
		cl.send(`{"type":"predict","ref":"r","model":"m","inputs":[[1]]}`)
		f := cl.read()
		limited = f.Type == api.TypeError && f.Code == api.CodeRateLimited && f.RetryAfterMS > 0
	}
	if !limited {
		t.Fatal("never rate limited")
	}
}

// A key removed from the keys file closes the connections it opened
// (4401) at the next check; the other tenant's stay open.
func TestSessionKeyRevoked(t *testing.T) {
	keys := keyring(t, "a "+auth.HashKey(keyA), "b "+auth.HashKey(keyB))
	a := &auth.Authenticator{Keys: keys, Defaults: auth.Limits{Rate: 100, Burst: 100, Conns: 10}}
	_, dial := serveAuth(t, &fakeBackend{results: 1}, testConfig(), a)
	ca, cb := dial(), dial()
	for c, k := range map[*client]string{ca: keyA, cb: keyB} {
		c.send(`{"type":"auth","token":"` + k + `"}`)
		if f := c.read(); f.Type != api.TypeAuthenticated {
			t.Fatalf("auth answer %s", f.raw)
		}
	}
	if err := os.WriteFile(keys.Path(), []byte("b "+auth.HashKey(keyB)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := keys.Reload(); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, ca); code != api.CloseUnauthorized {
		t.Fatalf("revoked key: close %d, want %d", code, api.CloseUnauthorized)
	}
	cb.send(`{"type":"ping"}`)
	if f := cb.read(); f.Type != api.TypePong {
		t.Fatalf("tenant b after a's revocation: %s", f.raw)
	}
}

// Valid: API keys until revoked, JWTs until they expire, everyone when off.
func TestAuthenticatorValid(t *testing.T) {
	keys := keyring(t, "a "+auth.HashKey(keyA))
	a := &auth.Authenticator{Keys: keys}
	p, err := a.Authenticate(t.Context(), keyA)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	jwt := &auth.Principal{Tenant: "j", Expires: now.Add(time.Minute)}
	for _, tc := range []struct {
		name string
		a    *auth.Authenticator
		p    *auth.Principal
		at   time.Time
		want bool
	}{
		{"key in file", a, p, now, true},
		{"jwt before exp", a, jwt, now, true},
		{"jwt after exp", a, jwt, now.Add(2 * time.Minute), false},
		{"off", &auth.Authenticator{Off: true}, auth.Anonymous, now, true},
		{"unknown principal", a, &auth.Principal{Tenant: "x"}, now, false},
	} {
		if got := tc.a.Valid(tc.p, tc.at); got != tc.want {
			t.Errorf("%s: Valid %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Before auth a message may be PreauthMessageBytes at most (1009 beyond);
// once authenticated, MaxMessageBytes; the audit is told how each
// connection authenticated; an address over its failure budget is refused
// before its token is checked (4429).
func TestSessionPreauthLimitsThenFull(t *testing.T) {
	cfg := testConfig()
	_, dial, rec := authServer(t, cfg)
	big := `{"type":"predict","ref":"r","model":"m","inputs":[` + strings.TrimSuffix(strings.Repeat("[1],", 2000), ",") + `]}` // 8 KB
	c := dial()
	c.send(big)
	if code := closeCode(t, c); code != websocket.CloseMessageTooBig {
		t.Fatalf("8 KB before auth: close %d, want 1009", code)
	}
	c = dial()
	c.send(`{"type":"auth","token":"` + keyB + `"}`)
	if f := c.read(); f.Type != api.TypeAuthenticated {
		t.Fatalf("auth: %s", f.raw)
	}
	c.send(big)
	if f := c.read(); f.Type != api.TypePrediction {
		t.Fatalf("8 KB after auth: %s", f.raw)
	}
	c.send(`{"type":"ping","ref":"` + strings.Repeat("x", cfg.MaxRefBytes+1) + `"}`)
	if f := c.read(); f.Type != api.TypeError || f.Code != api.CodeInvalidMessage || len(f.raw) > 1000 {
		t.Fatalf("a ref over the limit: %s", f.raw)
	}
	rec.mu.Lock()
	authed := strings.Join(rec.authed, ",")
	rec.blocked = true
	rec.mu.Unlock()
	if authed != "b by message" {
		t.Fatalf("audit told %q", authed)
	}
	c = dial()
	c.send(`{"type":"auth","token":"` + keyB + `"}`)
	if code := closeCode(t, c); code != api.CloseQuotaExceeded {
		t.Fatalf("an address over its failure budget: close %d, want 4429", code)
	}
}
