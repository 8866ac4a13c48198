package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/rs/zerolog"
)

// HTTP server timeouts.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
	natsOpTimeout     = 10 * time.Second
)

// Gateway is the HTTP and WebSocket API service. Create it with New, run it
// with Start and stop it with Stop; it never touches OS signals.
type Gateway struct {
	cfg Config
	log zerolog.Logger
	id  string

	nc      *nats.Conn
	js      jetstream.JetStream
	b       *natsx.Buckets
	results jetstream.Stream
	infer   jetstream.Stream
	cat     *catalog
	replies *replyMux
	metrics *metrics

	ln       net.Listener
	srv      *http.Server
	cancel   context.CancelFunc
	ctx      context.Context
	closing  chan struct{}
	wsConns  atomic.Int64
	wsWG     sync.WaitGroup
	stopOnce sync.Once
}

// New validates cfg and returns a Gateway that is not yet started.
func New(cfg Config, log zerolog.Logger) (*Gateway, error) {
	cfg = cfg.withDefaults()
	if cfg.NATS.URL == "" {
		return nil, errors.New("gateway: NATS URL is required")
	}
	if cfg.MaxSyncItems > cfg.MaxItems {
		return nil, fmt.Errorf("gateway: max sync items %d exceeds max items %d", cfg.MaxSyncItems, cfg.MaxItems)
	}
	id := nuid.Next()
	return &Gateway{
		cfg:     cfg,
		log:     log.With().Str("component", "gateway").Str("gateway_id", id).Logger(),
		id:      id,
		closing: make(chan struct{}),
		metrics: newMetrics(),
	}, nil
}

// Start connects to NATS (retrying until ctx ends), declares the streams,
// loads the catalogue and starts serving HTTP. It returns once the listener
// is open.
func (g *Gateway) Start(ctx context.Context) error {
	if g.cfg.NATS.Name == "" {
		g.cfg.NATS.Name = "gateway-" + g.id
	}
	nc, err := natsx.Connect(ctx, g.cfg.NATS, g.log)
	if err != nil {
		return fmt.Errorf("gateway start: %w", err)
	}
	g.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return fmt.Errorf("gateway start: jetstream: %w", err)
	}
	g.js = js
	sctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	if g.b, err = natsx.Setup(sctx, js, g.cfg.Streams); err != nil {
		nc.Close()
		return fmt.Errorf("gateway start: %w", err)
	}
	if g.results, err = js.Stream(sctx, wire.StreamResults); err != nil {
		nc.Close()
		return fmt.Errorf("gateway start: results stream: %w", err)
	}
	if g.infer, err = js.Stream(sctx, wire.StreamInfer); err != nil {
		nc.Close()
		return fmt.Errorf("gateway start: infer stream: %w", err)
	}
	g.ctx, g.cancel = context.WithCancel(context.Background())
	g.cat = newCatalog(g.log.With().Str("component", "catalog").Logger())
	if err := g.cat.run(g.ctx, g.b.Models, g.b.Workers); err != nil {
		g.cancel()
		nc.Close()
		return fmt.Errorf("gateway start: catalogue: %w", err)
	}
	if g.replies, err = newReplyMux(nc); err != nil {
		g.cancel()
		nc.Close()
		return fmt.Errorf("gateway start: %w", err)
	}
	ln, err := net.Listen("tcp", g.cfg.Addr)
	if err != nil {
		g.cancel()
		nc.Close()
		return fmt.Errorf("gateway start: listen %s: %w", g.cfg.Addr, err)
	}
	g.ln = ln
	g.srv = &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		BaseContext:       func(net.Listener) context.Context { return g.ctx },
	}
	go func() {
		if err := g.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			g.log.Error().Err(err).Msg("http server stopped")
		}
	}()
	g.log.Info().Str("addr", ln.Addr().String()).Msg("gateway listening")
	return nil
}

// Addr is the listening address, valid after Start.
func (g *Gateway) Addr() string { return g.ln.Addr().String() }

// Stop stops intake (the listener closes and readiness fails), tells
// WebSocket clients the server is going away, waits for in-flight requests
// until ctx ends, then closes the NATS connection. Nothing is lost: every
// accepted job is already in JetStream.
func (g *Gateway) Stop(ctx context.Context) error {
	var err error
	g.stopOnce.Do(func() {
		close(g.closing)
		if g.srv != nil {
			err = g.srv.Shutdown(ctx)
		}
		done := make(chan struct{})
		go func() { g.wsWG.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			err = errors.Join(err, fmt.Errorf("websockets still open: %w", ctx.Err()))
		}
		if g.cancel != nil {
			g.cancel()
		}
		if g.nc != nil {
			if derr := g.nc.Drain(); derr != nil {
				g.nc.Close()
			}
		}
		g.log.Info().Msg("gateway stopped")
	})
	return err
}

// Handler returns the gateway's HTTP handler.
func (g *Gateway) Handler() http.Handler {
	return g.instrument(jsonFallback(g.routes()))
}

// routes is the API's route table (api/openapi.yaml documents it).
func (g *Gateway) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", g.handleHealth)
	mux.HandleFunc("GET /ready", g.handleReady)
	mux.Handle("GET /metrics", g.metrics.handler())
	mux.HandleFunc("GET /v1/models", g.api(g.handleModels))
	mux.HandleFunc("GET /v1/models/{name}", g.api(g.handleModel))
	mux.HandleFunc("POST /v1/models/{name}/predict", g.api(g.handlePredict))
	mux.HandleFunc("POST /v1/jobs", g.api(g.handleSubmit))
	mux.HandleFunc("GET /v1/jobs", g.api(g.handleListJobs))
	mux.HandleFunc("GET /v1/jobs/{id}", g.api(g.handleJob))
	mux.HandleFunc("GET /v1/jobs/{id}/results", g.api(g.handleResults))
	mux.HandleFunc("POST /v1/jobs/{id}/cancel", g.api(g.handleCancel))
	mux.HandleFunc("GET /v1/cluster", g.api(g.handleCluster))
	mux.HandleFunc("GET /v1/ws", g.handleWS)
	if g.cfg.UIDir != "" {
		mux.Handle("GET /", spaHandler(g.cfg.UIDir))
	}
	return mux
}

// api adapts a handler that returns an error; errors become JSON bodies and
// server faults are logged once, here.
func (g *Gateway) api(h func(http.ResponseWriter, *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			ae := asAPIError(err)
			if ae.Status >= 500 {
				g.log.Error().Err(err).Str("method", r.Method).Str("path", r.URL.Path).Msg("request failed")
			}
			writeError(w, ae)
		}
	}
}

// jsonFallback answers unknown paths and wrong methods with JSON errors
// instead of the mux's plain text.
func jsonFallback(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			if m == r.Method {
				continue
			}
			r2 := r.Clone(r.Context())
			r2.Method = m
			if _, p := mux.Handler(r2); p != "" && p != "GET /" {
				writeError(w, apiErr(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "%s not allowed on %s", r.Method, r.URL.Path))
				return
			}
		}
		writeError(w, apiErr(http.StatusNotFound, CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
	})
}

func (g *Gateway) handleHealth(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": g.cfg.Version})
}

func (g *Gateway) handleReady(w http.ResponseWriter, _ *http.Request) {
	reason := ""
	select {
	case <-g.closing:
		reason = "shutting down"
	default:
		switch {
		case g.nc == nil || !g.nc.IsConnected():
			reason = "not connected to NATS"
		case !g.cat.isSynced():
			reason = "catalogue not loaded"
		}
	}
	if reason != "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not_ready", "reason": reason})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
