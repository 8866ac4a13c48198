package auth

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"
)

func TestParseKeys(t *testing.T) {
	h := HashKey("bik_x")
	keys, err := ParseKeys(strings.NewReader("# a comment\n\nacme " + h + " role=operator id=ci rate=5 burst=10 jobs=3 items=99 conns=2 results=4096 # trailing\n" +
		"beta " + HashKey("bik_y") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Tenant != "acme" || keys[0].Role != RoleOperator || keys[0].ID != "ci" ||
		keys[0].Limits != (Limits{Rate: 5, Burst: 10, Jobs: 3, Items: 99, Conns: 2, Results: 4096}) || keys[1].Role != RoleUser || keys[1].ID != HashKey("bik_y")[:12] {
		t.Fatalf("%+v", keys)
	}
	for _, tc := range []struct{ name, in, want string }{
		{"one field", "acme\n", "want TENANT SHA256HEX"},
		{"bad tenant", "a.b " + h + "\n", "tenant"},
		{"short hash", "acme abcd\n", "not a SHA-256"},
		{"a key, not a hash", "acme bik_x\n", "not a SHA-256"},
		{"unknown setting", "acme " + h + " colour=red\n", "unknown setting"},
		{"bad role", "acme " + h + " role=root\n", "role"},
		{"bad number", "acme " + h + " jobs=-1\n", "positive"},
		{"duplicate", "acme " + h + "\nbeta " + h + "\n", "line 2: the same key twice"},
		{"duplicate id", "acme " + h + " id=k\nbeta " + HashKey("bik_y") + " id=k\n", `line 2: id "k" twice`},
		{"too many jobs", "acme " + h + " jobs=100000\n", "at most 4096"},
		{"bad results", "acme " + h + " results=2GiB\n", "positive number of bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ParseKeys(strings.NewReader(tc.in)); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func writeKeys(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Keys verify by hash; the file is watched; a broken file keeps the keys.
func TestKeyringVerifyAndReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, path, "acme "+HashKey("bik_a"))
	k, err := OpenKeyring(path, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := k.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	if got, ok := k.Verify("bik_a"); !ok || got.Tenant != "acme" {
		t.Fatalf("%+v %v", got, ok)
	}
	if _, ok := k.Verify("bik_b"); ok {
		t.Fatal("an unknown key verified")
	}
	writeKeys(t, path, "acme "+HashKey("bik_a"), "beta "+HashKey("bik_b"))
	waitFor(t, func() bool { _, ok := k.Verify("bik_b"); return ok })
	if _, err := OpenKeyring(filepath.Join(t.TempDir(), "missing"), zerolog.Nop()); err == nil {
		t.Fatal("a missing keys file opened")
	}
	writeKeys(t, path, "acme "+HashKey("bik_a")+" id=x", "beta "+HashKey("bik_b")+" id=x")
	if _, err := OpenKeyring(path, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), `id "x" twice`) {
		t.Fatalf("a keys file with an id twice opened: %v", err)
	}
}

// A reload that finds bad lines applies what is safe: removed keys stop
// working, good lines load, a bad line keeps its key as it was, a line
// without a readable key is dropped; the error is counted.
func TestReloadWithBadLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, path, "acme "+HashKey("bik_a")+" jobs=3", "beta "+HashKey("bik_b"), "gone "+HashKey("bik_gone"))
	reg := prometheus.NewRegistry()
	k, err := OpenKeyring(path, zerolog.Nop(), KeyringOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	writeKeys(t, path,
		"acme "+HashKey("bik_a")+" jobs=lots",                                            // bad: keeps acme as it was
		"beta "+HashKey("bik_b")+" jobs=7",                                               // changed: applied
		"new "+HashKey("bik_new"),                                                        // added
		"garbage",                                                                        // bad, no key
		"dup "+HashKey("bik_dup")+" id=acme-b", "dup2 "+HashKey("bik_dup2")+" id=acme-b") // the second id is refused
	if err := k.Reload(); err == nil || !strings.Contains(err.Error(), "3 bad line(s)") {
		t.Fatalf("reload error %v", err)
	}
	for token, want := range map[string]int{"bik_a": 3, "bik_b": 7, "bik_new": 0, "bik_dup": 0, "bik_gone": -1, "bik_dup2": -1} {
		got, ok := k.Verify(token)
		if want < 0 && ok {
			t.Errorf("%s still valid after its removal", token)
		} else if want >= 0 && (!ok || got.Limits.Jobs != want) {
			t.Errorf("%s: %+v %v, want jobs=%d", token, got, ok, want)
		}
	}
	if n := value(k.metrics.errors); n != 1 {
		t.Errorf("reload errors %v", n)
	}
	if n := value(k.metrics.bad); n != 3 {
		t.Errorf("bad lines %v", n)
	}
}

func value(c prometheus.Metric) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	if m.Counter != nil {
		return m.Counter.GetValue()
	}
	return m.GetGauge().GetValue()
}

// The public development key is refused unless allowed.
func TestPublicDevKeyRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, path, "dev "+HashKey(PublicDevKey)+" role=operator")
	if _, err := OpenKeyring(path, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "GATEWAY_ALLOW_DEV_KEY") {
		t.Fatalf("the public key opened: %v", err)
	}
	k, err := OpenKeyring(path, zerolog.Nop(), KeyringOptions{AllowDevKey: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := k.Verify(PublicDevKey); !ok {
		t.Fatal("allowed, the development key does not verify")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("not true after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAuthenticateAndRate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys")
	writeKeys(t, path, "acme "+HashKey("bik_a")+" rate=1 burst=2")
	k, _ := OpenKeyring(path, zerolog.Nop())
	a := &Authenticator{Keys: k, Defaults: Limits{Rate: 50, Burst: 100, Jobs: 4, Items: 10, Conns: 2}}
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, ""); !errors.Is(err, ErrNoCredentials) {
		t.Fatalf("no token: %v", err)
	}
	if _, err := a.Authenticate(ctx, "bik_nope"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("wrong token: %v", err)
	}
	p, err := a.Authenticate(ctx, "bik_a")
	if err != nil || p.Tenant != "acme" || p.Limits.Jobs != 4 || p.Limits.Rate != 1 {
		t.Fatalf("%+v %v", p, err)
	}
	ok1, _ := a.Allow(p)
	ok2, _ := a.Allow(p)
	ok3, wait := a.Allow(p)
	if !ok1 || !ok2 || ok3 || wait <= 0 || wait > time.Second {
		t.Fatalf("burst 2 at 1/s: %v %v %v %s", ok1, ok2, ok3, wait)
	}
	off := &Authenticator{Off: true}
	if p, err := off.Authenticate(ctx, ""); err != nil || p != Anonymous {
		t.Fatalf("auth off: %+v %v", p, err)
	}
	if h := (http.Header{"Authorization": {"bearer  bik_a "}}); Bearer(h) != "bik_a" {
		t.Fatalf("Bearer %q", Bearer(h))
	}
	if h := (http.Header{"X-Api-Key": {"bik_b"}}); Bearer(h) != "bik_b" {
		t.Fatalf("X-API-Key %q", Bearer(h))
	}
	if h := (http.Header{"Authorization": {"Basic abc"}}); Bearer(h) != "" {
		t.Fatalf("Basic %q", Bearer(h))
	}
}

// JWTs of the configured issuer, signed by its JWKS, with the audience and
// a tenant claim, are accepted; anything else is not.
func TestJWT(t *testing.T) {
	raw, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv, _ := jwk.Import(raw)
	_ = priv.Set(jwk.KeyIDKey, "k1")
	_ = priv.Set(jwk.AlgorithmKey, jwa.RS256())
	pub, _ := priv.PublicKey()
	set := jwk.NewSet()
	_ = set.AddKey(pub)
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _ = json.NewEncoder(w).Encode(set) }))
	defer jwks.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := NewJWTVerifier(ctx, JWTConfig{Issuer: "https://idp.example", JWKSURL: jwks.URL, Audience: "batchinfer", TenantClaim: "org", RoleClaim: "role"})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(mod func(*jwt.Builder) *jwt.Builder) string {
		b := jwt.NewBuilder().Issuer("https://idp.example").Audience([]string{"batchinfer"}).Subject("u1").
			Expiration(time.Now().Add(time.Hour)).Claim("org", "acme").Claim("role", "operator")
		tok, err := mod(b).Build()
		if err != nil {
			t.Fatal(err)
		}
		signed, err := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), priv))
		if err != nil {
			t.Fatal(err)
		}
		return string(signed)
	}
	p, err := v.Verify(ctx, sign(func(b *jwt.Builder) *jwt.Builder { return b }))
	if err != nil || p.Tenant != "acme" || p.Role != RoleOperator || p.KeyID != "jwt:u1" {
		t.Fatalf("%+v %v", p, err)
	}
	for name, mod := range map[string]func(*jwt.Builder) *jwt.Builder{
		"other issuer":   func(b *jwt.Builder) *jwt.Builder { return b.Issuer("https://evil.example") },
		"other audience": func(b *jwt.Builder) *jwt.Builder { return b.Audience([]string{"other"}) },
		"expired":        func(b *jwt.Builder) *jwt.Builder { return b.Expiration(time.Now().Add(-time.Hour)) },
		"no tenant":      func(b *jwt.Builder) *jwt.Builder { return b.Claim("org", "") },
		"bad tenant":     func(b *jwt.Builder) *jwt.Builder { return b.Claim("org", "a.b") },
	} {
		if _, err := v.Verify(ctx, sign(mod)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	otherKey, _ := jwk.Import(other)
	tok, _ := jwt.NewBuilder().Issuer("https://idp.example").Audience([]string{"batchinfer"}).Claim("org", "acme").Build()
	forged, _ := jwt.Sign(tok, jwt.WithKey(jwa.RS256(), otherKey))
	if _, err := v.Verify(ctx, string(forged)); err == nil {
		t.Error("a token signed by another key was accepted")
	}
	a := &Authenticator{JWT: v, Defaults: Limits{Rate: 1, Burst: 1}}
	if p, err := a.Authenticate(ctx, sign(func(b *jwt.Builder) *jwt.Builder { return b })); err != nil || p.Limits.Rate != 1 {
		t.Fatalf("through the authenticator: %+v %v", p, err)
	}
}

// Token buckets of thousands of keys (JWT subjects are unbounded in
// number) are dropped once they are full again: the table returns to its
// baseline.
func TestRateBucketsReturnToBaseline(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	a := &Authenticator{clock: func() time.Time { return now }}
	for round := 0; round < 3; round++ {
		for i := 0; i < 5000; i++ {
			p := &Principal{Tenant: "t", KeyID: "jwt:" + strconv.Itoa(round*5000+i), Limits: Limits{Rate: 10, Burst: 20}}
			if ok, _ := a.Allow(p); !ok {
				t.Fatalf("first request of %s refused", p.KeyID)
			}
		}
		if n := a.Limiters(); n < 5000 {
			t.Fatalf("round %d: %d buckets for 5,000 keys", round, n)
		}
		now = now.Add(2 * limiterSweep)
		a.Allow(&Principal{Tenant: "t", KeyID: "probe", Limits: Limits{Rate: 10, Burst: 20}})
		if n := a.Limiters(); n != 1 {
			t.Fatalf("round %d: %d buckets after they all refilled", round, n)
		}
	}
	// Same id, two tenants: two buckets, not one shared.
	x, y := &Principal{Tenant: "x", KeyID: "k", Limits: Limits{Rate: 1, Burst: 1}}, &Principal{Tenant: "y", KeyID: "k", Limits: Limits{Rate: 1, Burst: 1}}
	if ok, _ := a.Allow(x); !ok {
		t.Fatal("x refused")
	}
	if ok, _ := a.Allow(y); !ok {
		t.Fatal("y shares x's bucket")
	}
}
