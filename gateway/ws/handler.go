// Package ws serves the WebSocket protocol of api/websocket.md on /v1/ws:
// a transport (one reader and one writer goroutine per connection,
// deadlines, pings, bounded buffers, close codes) apart from the protocol
// session (subscribe, submit, predict), which calls the use cases.
package ws

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/peer"
	"batchinfer/internal/wire"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"golang.org/x/sync/semaphore"
)

// Timing constants of the protocol.
const (
	writeWait       = 10 * time.Second
	closeGrace      = time.Second
	maxInvalidInRow = 10
)

// Config bounds the WebSocket side. Every field must be set (package
// gateway fills the defaults).
type Config struct {
	Server string // name/version in hello
	// AllowedOrigins lists the browser origins allowed besides the
	// gateway's own ("*" allows any).
	AllowedOrigins   []string
	MaxConnections   int
	MaxMessageBytes  int64
	MaxSubscriptions int // jobs one connection follows at once
	MaxInflight      int // submits and predictions in flight per connection
	SendBuffer       int // messages waiting to be written per connection
	SendBufferBytes  int64
	// SendBudgetBytes bounds the bytes waiting in all connections' send
	// buffers together.
	SendBudgetBytes     int64
	SlowConsumerTimeout time.Duration
	Heartbeat           time.Duration
	// AuthTimeout is how long a connection opened without credentials has
	// to send its auth message.
	AuthTimeout time.Duration
	// AuthCheck is how often an authenticated connection checks that its
	// credentials are still valid (not revoked, not expired).
	AuthCheck time.Duration
	// MaxPreauth bounds the connections waiting for their auth message,
	// and MaxPreauthPerAddr those of one client address; they count
	// against MaxConnections only once authenticated.
	MaxPreauth        int
	MaxPreauthPerAddr int
	// PreauthMessageBytes is the read limit until authentication (at
	// most MaxMessageBytes).
	PreauthMessageBytes int64
	// MaxRefBytes bounds the ref (and job) a message carries, which the
	// answer echoes.
	MaxRefBytes int
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  32 << 10,
	WriteBufferSize: 32 << 10,
	// Origins are checked in ServeHTTP with a JSON answer.
	CheckOrigin: func(*http.Request) bool { return true },
}

// Auditor is what the WebSocket side tells the audit log (*audit.Log).
type Auditor interface {
	// Blocked says whether a client address is over its budget of failed
	// authentications, and when it may try again.
	Blocked(i peer.Info) (bool, time.Duration)
	// Failed records a failed authentication.
	Failed(i peer.Info, method, path, reason string)
	// Authenticated records an authentication (ctx has the principal).
	Authenticated(ctx context.Context, how string)
}

// Budget is the gateway-wide budget of bytes being decoded
// (*reqbody.Budget): a submit or predict holds its message's size until it
// is answered.
type Budget interface {
	Acquire(ctx context.Context, n int64) error
	Release(n int64)
}

// Handler upgrades requests to WebSocket sessions and tracks them.
type Handler struct {
	cfg     Config
	backend Backend
	auth    Authenticator
	tenants tenantConns
	preauth preauthPool
	log     zerolog.Logger
	metrics *metrics
	// Audit is told of authentications and their failures.
	Audit Auditor
	// Budget, when set, bounds the bytes of the messages being decoded.
	Budget Budget
	// sendBudget bounds the bytes waiting in every connection's buffer.
	sendBudget *semaphore.Weighted

	base    context.Context // connections derive from it
	closing chan struct{}
	once    sync.Once
	conns   atomic.Int64 // authenticated connections
	// wg counts the sessions; mu orders each of its Adds before closing
	// closes (track), so that Shutdown's Wait never races an Add.
	mu sync.Mutex
	wg sync.WaitGroup
}

// NewHandler returns the handler; base bounds every connection's life.
func NewHandler(base context.Context, cfg Config, b Backend, a Authenticator, reg prometheus.Registerer, log zerolog.Logger) *Handler {
	return &Handler{
		cfg: cfg, backend: b, auth: a, log: log.With().Str("component", "ws").Logger(), metrics: newMetrics(reg),
		base: base, closing: make(chan struct{}), Audit: nopAuditor{},
		preauth:    preauthPool{max: cfg.MaxPreauth, perAddr: cfg.MaxPreauthPerAddr},
		sendBudget: semaphore.NewWeighted(cfg.SendBudgetBytes),
	}
}

// Connections is the number of open authenticated connections.
func (h *Handler) Connections() int64 { return h.conns.Load() }

// Preauth is the number of open connections not yet authenticated.
func (h *Handler) Preauth() int { return h.preauth.open() }

// Shutdown tells every client the server is going away (1001), refuses new
// upgrades, and waits until the sessions have ended or ctx ends.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.once.Do(func() { close(h.closing) })
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("websockets still open: %w", ctx.Err())
	}
}

// ServeHTTP upgrades and serves one connection until it closes: the
// transport reads on this goroutine and writes on its own, the session
// speaks the protocol, and everything either started ends before return.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h.check(r); err != nil {
		api.WriteError(w, err)
		return
	}
	who := clientOf(r)
	p, release, ok := h.upgradeAuth(w, r, who)
	if !ok {
		return
	}
	defer release()
	if !h.track() {
		api.WriteError(w, api.RetryLater(api.CodeUnavailable, time.Second, nil, "shutting down"))
		return
	}
	defer h.wg.Done()
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	h.metrics.conns.Inc()
	defer h.metrics.conns.Dec()
	readLimit := min(h.cfg.PreauthMessageBytes, h.cfg.MaxMessageBytes)
	if p != nil {
		readLimit = h.cfg.MaxMessageBytes
	}
	t := newTransport(peer.With(h.base, who), c, transportConfig{
		Heartbeat: h.cfg.Heartbeat, WriteWait: writeWait, CloseGrace: closeGrace,
		SlowConsumerTimeout: h.cfg.SlowConsumerTimeout, MaxMessageBytes: readLimit,
		BufferMessages: h.cfg.SendBuffer, BufferBytes: h.cfg.SendBufferBytes, Shared: h.sendBudget, Budget: h.Budget,
	})
	t.onSent = func(typ string) { h.metrics.messages.WithLabelValues(typ).Inc() }
	t.onSlow = h.metrics.slowClosed.Inc
	s := newSession(h, t, who, h.log.With().Str("remote", who.String()).Logger())
	if p != nil {
		s.authenticate(p, func() {})
		h.Audit.Authenticated(s.ctx(), "header")
	} else {
		s.waitAuth(release)
	}
	go s.watchAuth(h.cfg.AuthTimeout, h.cfg.AuthCheck)
	hello := wire.Marshal(api.Hello{
		Type: api.TypeHello, Server: h.cfg.Server, HeartbeatMS: h.cfg.Heartbeat.Milliseconds(),
		MaxMessageBytes: h.cfg.MaxMessageBytes, MaxSubscriptions: h.cfg.MaxSubscriptions, AuthRequired: p == nil,
	})
	go t.writeLoop(hello, heartbeat, h.closing)
	t.readLoop(s.handle, func(err error) { s.sendError("", "", err) }, maxInvalidInRow)
	s.close()
	<-t.written
	t.drain()
}

// clientOf is the client of r as the gateway resolved it (package peer),
// or the TCP peer, on the WebSocket transport.
func clientOf(r *http.Request) peer.Info {
	who := peer.From(r.Context())
	if !who.Addr.IsValid() {
		who.Addr = peer.AddrOf(r.RemoteAddr)
	}
	who.Transport = peer.WebSocket
	return who
}

func heartbeat(now time.Time) []byte {
	return wire.Marshal(api.Heartbeat{Type: api.TypeHeartbeat, Time: now.UTC().Format(time.RFC3339Nano)})
}

// track counts one more session for Shutdown to wait for, unless it has
// begun (false).
func (h *Handler) track() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.closing:
		return false
	default:
		h.wg.Add(1)
		return true
	}
}

// check checks a request before the upgrade: origin, upgrade, not closing.
func (h *Handler) check(r *http.Request) *api.Error {
	if !h.originAllowed(r) {
		return api.Errorf(api.CodeForbiddenOrigin, "origin %q is not allowed", r.Header.Get("Origin"))
	}
	if !websocket.IsWebSocketUpgrade(r) {
		return api.Errorf(api.CodeBadRequest, "a WebSocket upgrade is required on /v1/ws")
	}
	select {
	case <-h.closing:
		return api.RetryLater(api.CodeUnavailable, time.Second, nil, "shutting down")
	default:
	}
	return nil
}

// acquireConn counts one more authenticated connection, unless there are
// MaxConnections; release gives it back (once).
func (h *Handler) acquireConn() (release func(), err *api.Error) {
	if n := h.conns.Add(1); n > int64(h.cfg.MaxConnections) {
		h.conns.Add(-1)
		return nil, api.RetryLater(api.CodeTooManyConns, 5*time.Second, nil, "too many WebSocket connections (limit GATEWAY_MAX_WS_CONNECTIONS)")
	}
	var once sync.Once
	return func() { once.Do(func() { h.conns.Add(-1) }) }, nil
}

type nopAuditor struct{}

func (nopAuditor) Blocked(peer.Info) (bool, time.Duration)  { return false, 0 }
func (nopAuditor) Failed(peer.Info, string, string, string) {}
func (nopAuditor) Authenticated(context.Context, string)    {}

// originAllowed accepts requests without Origin (non-browser clients),
// same-origin requests and configured origins.
func (h *Handler) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range h.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}
