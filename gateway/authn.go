package gateway

import (
	"errors"
	"net/http"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/peer"
)

// startAuth sets up who may call the API: the keys file (watched), the
// JWT issuer's keys (kept fresh), or nobody checked with -auth=none.
func (g *Gateway) startAuth() error {
	a := g.cfg.Auth
	g.authn = &auth.Authenticator{Off: a.Mode == "none", Defaults: a.Defaults}
	if g.authn.Off {
		g.log.Warn().Msg("authentication is off (-auth=none): anyone who reaches this gateway can submit, read and cancel every job")
		return nil
	}
	if a.AllowDevKey {
		g.log.Warn().Msg("the public development key is allowed (-allow-dev-key): anyone may use it; for local trials only")
	}
	if a.KeysFile != "" {
		k, err := auth.OpenKeyring(a.KeysFile, g.log, auth.KeyringOptions{AllowDevKey: a.AllowDevKey, Registerer: g.reg})
		if err != nil {
			return err
		}
		if err := k.Watch(g.ctx); err != nil {
			return err
		}
		g.authn.Keys = k
	}
	if a.JWT.Issuer != "" {
		v, err := auth.NewJWTVerifier(g.ctx, a.JWT)
		if err != nil {
			return err
		}
		g.authn.JWT = v
	}
	return nil
}

// ReloadKeys reads the API keys file and the webhooks file again (the
// command calls it on SIGHUP).
func (g *Gateway) ReloadKeys() error {
	err := g.hooks.Reload()
	if g.authn == nil || g.authn.Keys == nil {
		return err
	}
	return errors.Join(g.authn.Keys.Reload(), err)
}

// authed lets through requests whose credentials give a principal with
// role (RoleUser: anyone authenticated) and whose key has a request left
// in its token bucket; the principal goes into the request's context. A
// client address over its budget of failed authentications is refused
// before its credentials are even looked at.
func (g *Gateway) authed(role auth.Role, h http.Handler) http.Handler {
	return g.authedWith(role, api.WriteError, h)
}

// authedWith is authed writing its refusals with writeErr (the /v1 error
// body, or another protocol's).
func (g *Gateway) authedWith(role auth.Role, writeErr func(http.ResponseWriter, *api.Error), h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := auth.Bearer(r.Header)
		if token != "" {
			if blocked, wait := g.audit.Blocked(peer.From(r.Context())); blocked {
				writeErr(w, api.RetryLater(api.CodeRateLimited, wait, nil,
					"too many failed authentications from your address (GATEWAY_AUTH_FAILURE_RATE): retry after %s", wait.Round(time.Millisecond)))
				return
			}
		}
		p, err := g.authn.Authenticate(r.Context(), token)
		if err != nil {
			g.auditFailure(r, err)
			unauthorized(w, err, writeErr)
			return
		}
		ctx := auth.With(r.Context(), p)
		if role == auth.RoleOperator && p.Role != auth.RoleOperator {
			g.audit.Forbidden(ctx, r.URL.Path)
			writeErr(w, api.Errorf(api.CodeForbidden, "%s needs an operator key", r.URL.Path))
			return
		}
		if ok, wait := g.authn.Allow(p); !ok {
			writeErr(w, api.RetryLater(api.CodeRateLimited, wait, nil,
				"key %s is over its request rate (%g/s, burst %d): retry after %s", p.KeyID, p.Limits.Rate, p.Limits.Burst, wait.Round(time.Millisecond)))
			return
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// unauthorized answers 401 with the challenge of RFC 6750.
func unauthorized(w http.ResponseWriter, err error, writeErr func(http.ResponseWriter, *api.Error)) {
	challenge := `Bearer realm="batchinfer"`
	msg := "credentials required: send Authorization: Bearer <API key>"
	if !errors.Is(err, auth.ErrNoCredentials) {
		challenge += `, error="invalid_token"`
		msg = "invalid credentials"
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeErr(w, api.Errorf(api.CodeUnauthorized, "%s", msg))
}

// auditFailure records a refused authentication (never the credentials):
// invalid ones in the audit log (sampled per client address, and counted
// against its budget), missing ones (a browser's first visit, a probe) at
// debug level only.
func (g *Gateway) auditFailure(r *http.Request, err error) {
	who := peer.From(r.Context())
	if errors.Is(err, auth.ErrNoCredentials) {
		g.log.Debug().Str("remote", who.String()).Str("method", r.Method).Str("path", g.audit.Path(r.URL.Path)).Msg("missing credentials")
		return
	}
	g.audit.Failed(who, r.Method, r.URL.Path, "invalid credentials")
}

// handleWhoami tells the caller who its credentials make it.
func (g *Gateway) handleWhoami(w http.ResponseWriter, r *http.Request) error {
	p := auth.From(r.Context())
	api.WriteJSON(w, http.StatusOK, api.Whoami{Tenant: p.Tenant, Role: string(p.Role), KeyID: p.KeyID, AuthRequired: !g.authn.Off})
	return nil
}
