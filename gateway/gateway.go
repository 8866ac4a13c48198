package gateway

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"batchinfer/gateway/audit"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/peer"
	"batchinfer/gateway/reqbody"
	"batchinfer/gateway/sched"
	"batchinfer/gateway/service"
	"batchinfer/gateway/upload"
	"batchinfer/gateway/webhook"
	"batchinfer/gateway/ws"
	"batchinfer/internal/config"
	"batchinfer/internal/natsx"
	"batchinfer/internal/runx"
	"batchinfer/internal/store"
	"batchinfer/internal/tracing"

	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/rs/zerolog"
)

// HTTP server timeouts.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
)

// Gateway is the HTTP and WebSocket API service. Create it with New, run it
// with Start and stop it with Stop; it never touches OS signals.
type Gateway struct {
	cfg Config
	log zerolog.Logger
	id  string
	reg *prometheus.Registry
	hm  *httpMetrics

	in      *natsx.Infra
	svc     *service.Service
	sched   *sched.Scheduler
	ws      *ws.Handler
	uploads *upload.Handler
	hooks   *webhook.Dispatcher
	authn   *auth.Authenticator
	audit   *audit.Log
	proxies *peer.Proxies
	tracer  *tracing.Tracer // nil: tracing off
	budget  *reqbody.Budget
	conns   *addrLimit

	ln       net.Listener
	srv, ops *http.Server
	ctx      context.Context // ends at Stop; requests and connections derive from it
	cancel   context.CancelFunc
	closing  chan struct{}
	errc     chan error
	teardown runx.Teardown
	stopOnce sync.Once
}

// New checks cfg (zero fields take Defaults) and returns a Gateway that is
// not yet started; every error wraps config.ErrInvalid.
func New(cfg Config, log zerolog.Logger) (*Gateway, error) {
	config.FillDefaults(&cfg, Defaults())
	cfg.Service.ResultTTL = cmp.Or(cfg.Service.ResultTTL, cfg.Streams.ResultTTL, natsx.DefaultResultTTL)
	cfg.Service.RecordTTL = cmp.Or(cfg.Service.RecordTTL, cfg.Streams.RecordTTL, natsx.DefaultRecordTTL)
	cfg.Service.MaxAge = cmp.Or(cfg.Service.MaxAge, cfg.Streams.MaxAge, natsx.DefaultMaxAge)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// A job's delivery log goes with its record: no retry outlives them.
	cfg.Webhooks.RetryWindow = min(cfg.Webhooks.RetryWindow, cfg.Service.ResultTTL+cfg.Service.RecordTTL)
	if m := cfg.Streams.UploadMaxBytes; m > 0 && m < cfg.Uploads.MaxSize {
		cfg.Uploads.MaxSize = m // an upload larger than the whole store can never finish
	}
	proxies, err := peer.ParseProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("%w: gateway: %v", config.ErrInvalid, err)
	}
	id := nuid.Next()
	if cfg.NATS.Name == "" {
		cfg.NATS.Name = "gateway-" + id
	}
	cfg.WS.Server = "batchinfer-gateway/" + cfg.Version
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	glog := log.With().Str("component", "gateway").Str("gateway_id", id).Logger()
	up, err := upload.New(cfg.Uploads, reg, glog)
	if err != nil {
		return nil, fmt.Errorf("%w: gateway: %w", config.ErrInvalid, err)
	}
	hooks, err := webhook.New(cfg.Webhooks, reg, glog)
	if err != nil {
		return nil, err
	}
	return &Gateway{
		cfg: cfg, id: id, reg: reg, hm: newHTTPMetrics(reg), uploads: up, hooks: hooks, log: glog, proxies: proxies,
		audit:   audit.New(log.With().Str("gateway_id", id).Logger(), cfg.Audit, reg),
		budget:  reqbody.NewBudget(cfg.HTTP.DecodeBudget, cfg.HTTP.DecodeWait, reg),
		closing: make(chan struct{}), errc: make(chan error, 1),
	}, nil
}

// Start connects to NATS (retrying until ctx ends), declares the streams,
// starts the use cases and serves HTTP. It returns once the listener is
// open; on error everything acquired is released.
func (g *Gateway) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			_ = g.teardown.Run()
			err = fmt.Errorf("gateway start: %w", err)
		}
	}()
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.teardown.Add("context", func() error { g.cancel(); return nil })
	if err := g.startAuth(); err != nil {
		return err
	}
	if err := g.startTracing(); err != nil {
		return err
	}
	if g.in, err = natsx.Open(ctx, g.cfg.NATS, g.cfg.Streams, g.log, g.reconnected); err != nil {
		return err
	}
	g.teardown.Add("nats", func() error { g.in.Close(); return nil })
	st, err := g.uploadStore(ctx)
	if err != nil {
		return err
	}
	if g.svc, err = service.New(g.cfg.Service, g.in, g.reg, g.log); err != nil {
		return err
	}
	g.svc.Audit, g.svc.UploadStore, g.svc.Tracer = g.audit, st, g.tracer
	g.svc.UseWebhooks(g.hooks.Resolve)
	if err = g.svc.Start(); err != nil {
		return err
	}
	g.teardown.Add("service", func() error { g.svc.Stop(); return nil })
	g.hooks.Tracer = g.tracer
	if err = g.hooks.Start(ctx, g.in); err != nil {
		return err
	}
	g.teardown.Add("webhooks", func() error { g.hooks.Stop(); return nil })
	g.sched = sched.New(g.cfg.Sched, g.in, g.reg, g.log)
	g.sched.Tracer, g.sched.Feed = g.tracer, g.svc.JobRecords
	if err = g.sched.Start(ctx); err != nil {
		return err
	}
	g.teardown.Add("scheduler", func() error { g.sched.Stop(); return nil })
	g.svc.StartKeeper(g.sched.Leading, g.sched.Pinned)
	g.uploads.Start(st)
	g.teardown.Add("uploads", func() error { g.uploads.Stop(); return nil })
	g.ws = ws.NewHandler(g.ctx, g.cfg.WS, g.svc, g.authn, g.reg, g.log)
	g.ws.Audit, g.ws.Budget = g.audit, g.budget
	return g.serve()
}

// uploadStore opens the uploads store (the tus endpoint writes it, dataset
// jobs read it).
func (g *Gateway) uploadStore(ctx context.Context) (*store.Uploads, error) {
	u, sc := g.cfg.Uploads, g.cfg.Streams.WithDefaults()
	return store.NewUploads(ctx, g.in, store.UploadConfig{
		PartBytes: u.PartBytes, TTL: sc.UploadTTL, Retention: sc.UploadRetention,
		MaxTenantBytes: u.MaxTenantBytes, MaxTenantUploads: u.MaxTenantUploads,
	})
}

// reconnected is called by the NATS client after each reconnect.
func (g *Gateway) reconnected() {
	if g.svc != nil {
		g.svc.Reconnected()
	}
}

// serve opens the listeners and serves HTTP on them (HTTPS with a
// certificate); a server that dies reports on Err.
func (g *Gateway) serve() error {
	ln, err := net.Listen("tcp", g.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", g.cfg.Addr, err)
	}
	g.teardown.Add("listener", func() error { _ = ln.Close(); return nil })
	g.conns = newAddrLimit(ln, g.cfg.HTTP.MaxConnsPerAddr, g.proxies, g.cfg.TLSCert == "", g.hm.connsRefused)
	ln = g.conns
	if g.cfg.TLSCert != "" {
		c, err := newCertReloader(g.cfg.TLSCert, g.cfg.TLSKey)
		if err != nil {
			return err
		}
		ln = tls.NewListener(ln, &tls.Config{GetCertificate: c.get, MinVersion: tls.VersionTLS12})
	}
	g.ln = ln
	g.srv = g.httpServer(g.Handler())
	g.teardown.Add("http server", g.srv.Close)
	go g.run(g.srv, ln, "api")
	if g.cfg.OpsAddr != "" {
		oln, err := net.Listen("tcp", g.cfg.OpsAddr)
		if err != nil {
			return fmt.Errorf("listen %s: %w", g.cfg.OpsAddr, err)
		}
		g.ops = g.httpServer(g.instrument(g.guard(jsonFallback(g.opsRoutes()))))
		g.teardown.Add("ops server", g.ops.Close)
		go g.run(g.ops, oln, "ops")
	}
	g.log.Info().Str("addr", ln.Addr().String()).Bool("tls", g.cfg.TLSCert != "").Str("ops_addr", g.cfg.OpsAddr).Msg("gateway listening")
	return nil
}

func (g *Gateway) httpServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ErrorLog:          httpErrorLog(g.log),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    g.cfg.HTTP.MaxHeaderBytes,
		BaseContext:       func(net.Listener) context.Context { return g.ctx },
	}
}

// run serves until the server is closed; any other end is a failure.
func (g *Gateway) run(srv *http.Server, ln net.Listener, name string) {
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		g.log.Error().Err(err).Str("listener", name).Msg("http server stopped")
		select {
		case g.errc <- fmt.Errorf("gateway: %s listener: %w", name, err):
		default:
		}
	}
}

// Addr is the listening address, valid after Start.
func (g *Gateway) Addr() string { return g.ln.Addr().String() }

// Err reports a failure that ends the service while it runs (its listener
// died): the process should stop with it.
func (g *Gateway) Err() <-chan error { return g.errc }

// Stop stops intake (the listener closes and readiness fails), tells
// WebSocket clients the server is going away, waits for in-flight requests
// until ctx ends, then releases everything. Nothing is lost: every accepted
// job is already in JetStream.
func (g *Gateway) Stop(ctx context.Context) error {
	var err error
	g.stopOnce.Do(func() {
		close(g.closing)
		g.uploads.Interrupt()
		if g.srv != nil {
			err = g.srv.Shutdown(ctx)
		}
		if g.ops != nil {
			err = errors.Join(err, g.ops.Shutdown(ctx))
		}
		if g.ws != nil {
			err = errors.Join(err, g.ws.Shutdown(ctx))
		}
		err = errors.Join(err, g.teardown.Run())
		g.log.Info().Msg("gateway stopped")
	})
	return err
}

// Stats are counts of what the gateway holds for its clients, for leak
// tests: each returns to zero once its clients are gone.
type Stats struct {
	WSConnections int64 // authenticated WebSockets
	WSPreauth     int   // WebSockets waiting for their auth message
	ConnAddrs     int   // client addresses with connections open
	AuthFailAddrs int   // client addresses whose failed authentications are counted
	RateLimiters  int   // token buckets of keys
	// TusRequests counts the resumable-upload requests being served.
	TusRequests int
	service.Stats
}

// Leading reports whether this gateway's scheduler leads (sends batch
// chunks to the workers); valid after Start.
func (g *Gateway) Leading() bool { return g.sched.Leading() }

// Stats returns the current counts; valid after Start.
func (g *Gateway) Stats() Stats {
	return Stats{WSConnections: g.ws.Connections(), WSPreauth: g.ws.Preauth(), ConnAddrs: g.conns.open(),
		AuthFailAddrs: g.audit.Tracked(), RateLimiters: g.authn.Limiters(), TusRequests: g.uploads.InFlight(), Stats: g.svc.Stats()}
}

// httpErrorLog sends the HTTP server's own messages (bad TLS handshakes,
// panics in handlers) to the service log.
func httpErrorLog(log zerolog.Logger) *stdlog.Logger {
	return stdlog.New(zerologWriter{log.With().Str("component", "http").Logger()}, "", 0)
}

type zerologWriter struct{ l zerolog.Logger }

func (w zerologWriter) Write(p []byte) (int, error) {
	w.l.Warn().Str("detail", strings.TrimSpace(string(p))).Msg("http server")
	return len(p), nil
}
