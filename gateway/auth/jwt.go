package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"
)

// JWTConfig accepts the JWTs of one OIDC issuer.
type JWTConfig struct {
	Issuer   string // the "iss" every token must have
	JWKSURL  string // the issuer's signing keys (jwks_uri)
	Audience string // the "aud" every token must include
	// TenantClaim names the claim that holds the tenant (e.g. "tenant",
	// "org"); RoleClaim, if set, one whose value "operator" grants it.
	TenantClaim string
	RoleClaim   string
	// WeightClaim, if set, names a numeric claim giving the tenant's
	// fair-share weight.
	WeightClaim string
}

// JWTVerifier checks JWTs against the issuer's keys, which it fetches and
// refreshes in the background (jwx's jwk.Cache).
type JWTVerifier struct {
	cfg   JWTConfig
	cache *jwk.Cache
}

// NewJWTVerifier fetches the issuer's keys once (failing when it cannot)
// and keeps them fresh until ctx ends.
func NewJWTVerifier(ctx context.Context, cfg JWTConfig) (*JWTVerifier, error) {
	if cfg.Issuer == "" || cfg.JWKSURL == "" || cfg.Audience == "" || cfg.TenantClaim == "" {
		return nil, fmt.Errorf("jwt: issuer, JWKS URL, audience and tenant claim are all required")
	}
	c, err := jwk.NewCache(ctx, httprc.NewClient())
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := c.Register(rctx, cfg.JWKSURL); err != nil {
		return nil, fmt.Errorf("jwt: keys of %s: %w", cfg.Issuer, err)
	}
	return &JWTVerifier{cfg: cfg, cache: c}, nil
}

// Verify checks the token's signature, issuer, audience and times, and
// returns its principal.
func (v *JWTVerifier) Verify(ctx context.Context, token string) (*Principal, error) {
	set, err := v.cache.Lookup(ctx, v.cfg.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("jwt keys: %w", err)
	}
	t, err := jwt.Parse([]byte(token), jwt.WithKeySet(set), jwt.WithValidate(true),
		jwt.WithIssuer(v.cfg.Issuer), jwt.WithAudience(v.cfg.Audience), jwt.WithAcceptableSkew(30*time.Second))
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	var tenant string
	if err := t.Get(v.cfg.TenantClaim, &tenant); err != nil || !TenantPattern.MatchString(tenant) {
		return nil, fmt.Errorf("jwt: claim %q is not a tenant name", v.cfg.TenantClaim)
	}
	p := &Principal{Tenant: tenant, Role: RoleUser}
	if exp, ok := t.Expiration(); ok {
		p.Expires = exp
	}
	if sub, ok := t.Subject(); ok {
		p.KeyID = "jwt:" + sub
	} else {
		p.KeyID = "jwt:" + tenant
	}
	if v.cfg.RoleClaim != "" {
		var role string
		if t.Get(v.cfg.RoleClaim, &role) == nil && Role(role) == RoleOperator {
			p.Role = RoleOperator
		}
	}
	if v.cfg.WeightClaim != "" {
		var w float64
		if t.Get(v.cfg.WeightClaim, &w) == nil && w > 0 && w <= MaxWeight {
			p.Limits.Weight = w
		}
	}
	return p, nil
}
