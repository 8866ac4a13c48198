package ws

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/peer"

	"github.com/gorilla/websocket"
)

// Authenticator is what the WebSocket side needs of package auth.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (*auth.Principal, error)
	Allow(p *auth.Principal) (bool, time.Duration)
	Valid(p *auth.Principal, now time.Time) bool
}

// tenantConns counts a gateway's connections per tenant.
type tenantConns struct {
	mu sync.Mutex
	n  map[string]int
}

// acquire counts one more connection of p's tenant, unless it has its
// Limits.Conns already; release gives it back.
func (c *tenantConns) acquire(p *auth.Principal) (release func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	if p.Limits.Conns > 0 && c.n[p.Tenant] >= p.Limits.Conns {
		return nil, false
	}
	c.n[p.Tenant]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.n[p.Tenant]--; c.n[p.Tenant] <= 0 {
				delete(c.n, p.Tenant)
			}
		})
	}, true
}

func (c *tenantConns) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.n {
		n += v
	}
	return n
}

// upgradeAuth checks the credentials of the upgrade request, when it has
// any: a connection is either authenticated here (non-browser clients,
// counted against MaxConnections and its tenant's connections) or by its
// first message (counted in the pre-authentication pool until then). It
// answers 401, 429 or 503 itself and returns !ok; release gives back the
// slots taken (once).
func (h *Handler) upgradeAuth(w http.ResponseWriter, r *http.Request, who peer.Info) (p *auth.Principal, release func(), ok bool) {
	token := auth.Bearer(r.Header)
	if token != "" {
		if blocked, wait := h.Audit.Blocked(who); blocked {
			api.WriteError(w, blockedError(wait))
			return nil, nil, false
		}
	}
	p, err := h.auth.Authenticate(r.Context(), token)
	switch {
	case errors.Is(err, auth.ErrNoCredentials):
		release, aerr := h.preauth.acquire(who.Bucket())
		if aerr != nil {
			api.WriteError(w, aerr)
			return nil, nil, false
		}
		return nil, release, true // the first message will authenticate
	case err != nil:
		h.Audit.Failed(who, r.Method, r.URL.Path, "invalid credentials")
		w.Header().Set("WWW-Authenticate", `Bearer realm="batchinfer", error="invalid_token"`)
		api.WriteError(w, api.Errorf(api.CodeUnauthorized, "invalid credentials"))
		return nil, nil, false
	}
	release, aerr := h.admitAuthenticated(p)
	if aerr != nil {
		api.WriteError(w, aerr)
		return nil, nil, false
	}
	return p, release, true
}

// admitAuthenticated takes a slot of the authenticated pool and one of p's
// tenant; release gives both back.
func (h *Handler) admitAuthenticated(p *auth.Principal) (func(), *api.Error) {
	conn, err := h.acquireConn()
	if err != nil {
		return nil, err
	}
	tenant, ok := h.tenants.acquire(p)
	if !ok {
		conn()
		return nil, h.quotaError(p)
	}
	return func() { tenant(); conn() }, nil
}

func blockedError(wait time.Duration) *api.Error {
	return api.RetryLater(api.CodeRateLimited, wait, nil,
		"too many failed authentications from your address (GATEWAY_AUTH_FAILURE_RATE): retry after %s", wait.Round(time.Millisecond))
}

func (h *Handler) quotaError(p *auth.Principal) *api.Error {
	return api.RetryLater(api.CodeQuotaExceeded, 5*time.Second, nil,
		"tenant %s has %d WebSocket connections on this gateway, its limit (GATEWAY_MAX_TENANT_WS, or the key's conns=)", p.Tenant, p.Limits.Conns)
}

// onAuth handles the auth message of a connection opened without
// credentials: it authenticates the session, moving it from the
// pre-authentication pool to the authenticated one, or closes it (4401,
// 4429, or 1013 when the authenticated pool is full).
func (s *session) onAuth(m api.Auth) bool {
	if s.principal() != nil {
		return s.invalid("", "", "already authenticated")
	}
	if blocked, wait := s.h.Audit.Blocked(s.who); blocked {
		s.t.closeWith(api.CloseQuotaExceeded, blockedError(wait).Message)
		return true
	}
	p, err := s.h.auth.Authenticate(s.t.ctx, m.Token)
	if err != nil {
		s.h.Audit.Failed(s.who, "", "/v1/ws", "invalid credentials")
		s.t.closeWith(api.CloseUnauthorized, "invalid credentials")
		return true
	}
	release, aerr := s.h.admitAuthenticated(p)
	if aerr != nil {
		code := websocket.CloseTryAgainLater
		if aerr.Code == api.CodeQuotaExceeded {
			code = api.CloseQuotaExceeded
		}
		s.t.closeWith(code, aerr.Message)
		return true
	}
	s.authenticate(p, release)
	s.leavePreauth()
	s.t.c.SetReadLimit(s.cfg.MaxMessageBytes) // on the reader's goroutine: onAuth runs in handle
	s.h.Audit.Authenticated(s.ctx(), "message")
	_ = s.send(s.ctx(), api.TypeAuthenticated, api.Authenticated{Type: api.TypeAuthenticated, Tenant: p.Tenant})
	return true
}

// watchAuth closes a connection that has not authenticated within d and,
// once it has, one whose credentials are revoked or expire, checking every
// period (4401 in each case).
func (s *session) watchAuth(d, period time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	if s.principal() == nil {
		select {
		case <-t.C:
			if s.principal() == nil {
				s.h.Audit.Failed(s.who, "", "/v1/ws", "no credentials in time")
				s.t.closeWith(api.CloseUnauthorized, `authentication required: send {"type":"auth","token":...} first`)
				return
			}
		case <-s.authed:
		case <-s.t.ctx.Done():
			return
		}
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			if !s.h.auth.Valid(s.principal(), now) {
				s.h.Audit.Failed(s.who, "", "/v1/ws", "credentials revoked or expired")
				s.t.closeWith(api.CloseUnauthorized, "credentials revoked or expired: sign in again")
				return
			}
		case <-s.t.ctx.Done():
			return
		}
	}
}
