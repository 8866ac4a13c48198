// Package audit writes the gateway's audit log: who (tenant, key id) did
// what (a job submitted or cancelled, a WebSocket authenticated, an
// authentication refused) from where (the client's address, through
// trusted proxies, and the transport). Failed authentications are counted
// per client address: within a budget each is logged; beyond it the
// address's attempts are refused without checking credentials until the
// budget refills, and the lines are summed up in the next one logged for
// the address, so that no client can flood the log or guess keys at speed.
package audit

import (
	"context"
	"net/netip"
	"sync"
	"time"
	"unicode/utf8"

	"batchinfer/gateway/auth"
	"batchinfer/gateway/peer"
	"batchinfer/internal/tracing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/time/rate"
)

// sweepEvery is how often the addresses whose budget is full again are
// forgotten.
const sweepEvery = 10 * time.Second

// Config bounds the log. Every field must be positive.
type Config struct {
	// FailureRate (per second) and FailureBurst are the failed
	// authentications one client address may make (a token bucket).
	FailureRate  float64
	FailureBurst int
	// MaxAddresses bounds the addresses tracked at once; beyond it new
	// addresses share one budget.
	MaxAddresses int
	// MaxPathBytes truncates the paths logged.
	MaxPathBytes int
}

// Log is the audit log. The zero value is not usable: call New.
type Log struct {
	log     zerolog.Logger
	cfg     Config
	now     func() time.Time
	metrics *metrics

	mu        sync.Mutex
	addrs     map[netip.Prefix]*entry
	overflow  *entry
	lastSweep time.Time
}

type entry struct {
	lim        *rate.Limiter
	suppressed int // attempts neither logged nor checked since the last line
}

// New returns a Log writing to log (its lines carry component=audit).
func New(log zerolog.Logger, cfg Config, reg prometheus.Registerer) *Log {
	l := &Log{
		log: log.With().Str("component", "audit").Logger(), cfg: cfg, now: time.Now,
		addrs: map[netip.Prefix]*entry{}, metrics: newMetrics(reg),
	}
	l.overflow = l.newEntry()
	return l
}

// Nop is a Log that writes nothing (tests of other packages).
func Nop() *Log {
	return New(zerolog.Nop(), Config{FailureRate: 1e9, FailureBurst: 1 << 30, MaxAddresses: 1, MaxPathBytes: 1}, nil)
}

func (l *Log) newEntry() *entry {
	return &entry{lim: rate.NewLimiter(rate.Limit(l.cfg.FailureRate), l.cfg.FailureBurst)}
}

// who adds the principal and the client of ctx to ev.
func who(ev *zerolog.Event, ctx context.Context) *zerolog.Event {
	p := auth.From(ctx)
	if p == nil {
		p = auth.Anonymous
	}
	ev = tracing.Event(ev, trace.SpanContextFromContext(ctx))
	return client(ev.Str("tenant", p.Tenant).Str("key_id", p.KeyID), peer.From(ctx))
}

func client(ev *zerolog.Event, i peer.Info) *zerolog.Event {
	ev = ev.Str("remote", i.String())
	if i.Via != "" {
		ev = ev.Str("via", i.Via)
	}
	if i.Transport != "" {
		ev = ev.Str("transport", i.Transport)
	}
	return ev
}

// Job logs a use case done to a job: event is job_submitted or
// job_cancelled; fields adds details (model, items).
func (l *Log) Job(ctx context.Context, event, job string, fields func(*zerolog.Event)) {
	ev := who(l.log.Info().Str("event", event), ctx).Str("job", job)
	if fields != nil {
		fields(ev)
	}
	ev.Msg("audit")
}

// Authenticated logs a WebSocket that authenticated (how: "header" or
// "message").
func (l *Log) Authenticated(ctx context.Context, how string) {
	who(l.log.Info().Str("event", "authenticated").Str("how", how), ctx).Msg("audit")
}

// Forbidden logs a principal refused a route its role does not allow.
func (l *Log) Forbidden(ctx context.Context, path string) {
	who(l.log.Warn(), ctx).Str("path", l.Path(path)).Msg("operator route refused")
}

// Path truncates a path for the log (valid UTF-8, at most MaxPathBytes
// bytes and an ellipsis).
func (l *Log) Path(p string) string {
	if len(p) <= l.cfg.MaxPathBytes {
		return p
	}
	cut := l.cfg.MaxPathBytes
	for cut > 0 && !utf8.RuneStart(p[cut]) {
		cut--
	}
	return p[:cut] + "…"
}
