package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Principal is who a request is.
type Principal struct {
	Tenant string
	KeyID  string
	Role   Role
	Limits Limits
	// Expires is when the credentials stop being valid (a JWT's exp); zero
	// for API keys, which are valid until they leave the keys file.
	Expires time.Time

	keyHash [32]byte // the API key's hash, to see it revoked
}

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal of ctx, or nil.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(ctxKey{}).(*Principal)
	return p
}

// Anonymous is every request's principal when authentication is off.
var Anonymous = &Principal{Tenant: "anonymous", KeyID: "none", Role: RoleOperator}

// Errors of authentication.
var (
	ErrNoCredentials  = errors.New("no credentials")
	ErrBadCredentials = errors.New("invalid credentials")
)

// Authenticator turns credentials into a Principal: API keys, and JWTs
// when an issuer is configured; with neither (Off), everyone is Anonymous.
type Authenticator struct {
	Off      bool
	Keys     *Keyring
	JWT      *JWTVerifier
	Defaults Limits

	mu       sync.Mutex
	limiters map[string]*rate.Limiter // by tenant and key id
	swept    time.Time
	clock    func() time.Time // time.Now unless a test sets it
}

// Bearer returns the token of an "Authorization: Bearer ..." header or,
// failing that, of an "X-API-Key" header.
func Bearer(h http.Header) string {
	v := h.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		return strings.TrimSpace(v[7:])
	}
	return strings.TrimSpace(h.Get("X-API-Key"))
}

// Authenticate checks a token (an API key or a JWT).
func (a *Authenticator) Authenticate(ctx context.Context, token string) (*Principal, error) {
	if a.Off {
		return Anonymous, nil
	}
	if token == "" {
		return nil, ErrNoCredentials
	}
	if a.Keys != nil {
		if k, ok := a.Keys.Verify(token); ok {
			return &Principal{Tenant: k.Tenant, KeyID: k.ID, Role: k.Role, Limits: a.withDefaults(k.Limits), keyHash: k.Hash}, nil
		}
	}
	if a.JWT != nil && strings.Count(token, ".") == 2 {
		p, err := a.JWT.Verify(ctx, token)
		if err != nil {
			return nil, errors.Join(ErrBadCredentials, err)
		}
		p.Limits = a.withDefaults(p.Limits)
		return p, nil
	}
	return nil, ErrBadCredentials
}

// Valid says whether p's credentials still hold at now: its API key is
// still in the keys file (not revoked), its JWT has not expired. Long-lived
// connections ask it periodically.
func (a *Authenticator) Valid(p *Principal, now time.Time) bool {
	switch {
	case a.Off || p == Anonymous:
		return true
	case !p.Expires.IsZero():
		return now.Before(p.Expires)
	case a.Keys != nil:
		return a.Keys.Has(p.keyHash)
	}
	return false
}

func (a *Authenticator) withDefaults(l Limits) Limits {
	d := a.Defaults
	if l.Rate == 0 {
		l.Rate = d.Rate
	}
	if l.Weight == 0 {
		l.Weight = max(d.Weight, 1)
	}
	if l.Results == 0 {
		l.Results = d.Results
	}
	for _, f := range []struct{ p, def *int }{{&l.Burst, &d.Burst}, {&l.Jobs, &d.Jobs}, {&l.Items, &d.Items}, {&l.Conns, &d.Conns},
		{&l.Uploads, &d.Uploads}, {&l.Follows, &d.Follows}} {
		if *f.p == 0 {
			*f.p = *f.def
		}
	}
	return l
}

// limiterSweep is how often the token buckets of idle keys are dropped.
const limiterSweep = time.Minute

// Allow takes one request from p's key's token bucket; when it is empty it
// says how long until a request would be allowed. Buckets are per tenant
// and key id; those of keys idle long enough to be full again are dropped
// (JWT subjects are unbounded in number).
func (a *Authenticator) Allow(p *Principal) (bool, time.Duration) {
	if a.Off || p.Limits.Rate <= 0 {
		return true, 0
	}
	now := time.Now()
	if a.clock != nil {
		now = a.clock()
	}
	key := p.Tenant + "\x00" + p.KeyID
	a.mu.Lock()
	if a.limiters == nil {
		a.limiters = map[string]*rate.Limiter{}
	}
	if now.Sub(a.swept) >= limiterSweep {
		a.sweep(now)
	}
	l := a.limiters[key]
	if l == nil || l.Limit() != rate.Limit(p.Limits.Rate) || l.Burst() != p.Limits.Burst {
		l = rate.NewLimiter(rate.Limit(p.Limits.Rate), max(p.Limits.Burst, 1))
		a.limiters[key] = l
	}
	a.mu.Unlock()
	r := l.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops the buckets that are full (the caller holds mu).
func (a *Authenticator) sweep(now time.Time) {
	a.swept = now
	for k, l := range a.limiters {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(a.limiters, k)
		}
	}
}

// Limiters is the number of token buckets kept (leak tests).
func (a *Authenticator) Limiters() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.limiters)
}
