// Package upload serves resumable uploads over tus 1.0.0 at /v1/uploads:
// the core protocol and the creation, creation-with-upload, termination,
// checksum and expiration extensions. tusd's handler (github.com/tus/tusd/v2)
// speaks the protocol; this package gives it a data store over
// store.Uploads (upload state in NATS JetStream, so any gateway resumes any
// upload), scopes every upload to the caller's tenant, adds what tusd
// lacks (checksums, Upload-Expires, per-tenant limits, JSON errors), and
// sweeps expired uploads.
//
// What tusd v2.9.1 has and has not: creation, creation-with-upload and
// termination, body read deadlines, metrics; no checksum extension (added
// here: the store's atomic writes discard a body whose digest does not
// match), no expiration extension (Upload-Expires is added to its answers),
// errors as plain text (rewritten as the API's JSON), and locks only within
// one process or on a shared disk. No tusd locker is used: two gateways
// writing one upload are ordered by the store instead (a claim by
// compare-and-set, parts chained on their subject, commits by
// compare-and-set), which stays correct when a writer stalls past any lease;
// a writer that lost the upload learns it at its next part and stops.
package upload

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/internal/store"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	tusd "github.com/tus/tusd/v2/pkg/handler"
)

// BasePath is where uploads are created; an upload's URL is BasePath + id.
const BasePath = "/v1/uploads"

// Config shapes the upload endpoint (the retention of uploads is the
// shared stream settings').
type Config struct {
	// MaxSize is the largest upload in bytes (Tus-Max-Size).
	MaxSize int64
	// PartBytes is the size of a stored part (under NATS max_payload).
	PartBytes int
	// MaxTenantBytes bounds the declared sizes of a tenant's stored
	// uploads, MaxTenantUploads its unfinished ones.
	MaxTenantBytes   int64
	MaxTenantUploads int
	// MaxMetadataBytes bounds the Upload-Metadata header.
	MaxMetadataBytes int
	// ReadTimeout ends a body that sends nothing for that long (what
	// arrived is kept).
	ReadTimeout time.Duration
	// SweepInterval is how often expired uploads are deleted.
	SweepInterval time.Duration
}

// Validate checks that every limit is set.
func (c Config) Validate() error {
	if c.MaxSize <= 0 || c.PartBytes <= 0 || c.MaxTenantBytes <= 0 || c.MaxTenantUploads <= 0 ||
		c.MaxMetadataBytes <= 0 || c.ReadTimeout <= 0 || c.SweepInterval <= 0 {
		return fmt.Errorf("upload limits must be positive")
	}
	return nil
}

// Handler is the tus endpoint. Create it with New, give it its store with
// Start, and call Interrupt then Stop when the gateway stops.
type Handler struct {
	cfg Config
	log zerolog.Logger
	tus *tusd.UnroutedHandler
	st  *store.Uploads

	mu       sync.Mutex
	inflight map[*reqState]struct{}
	closing  bool
	swept    chan struct{}
	cancel   context.CancelFunc
}

// New returns a Handler whose tusd metrics are registered on reg.
func New(cfg Config, reg prometheus.Registerer, log zerolog.Logger) (*Handler, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h := &Handler{cfg: cfg, log: log.With().Str("component", "uploads").Logger(), inflight: map[*reqState]struct{}{}}
	comp := tusd.NewStoreComposer()
	ds := dataStore{h}
	comp.UseCore(ds)
	comp.UseTerminater(ds)
	t, err := tusd.NewUnroutedHandler(tusd.Config{
		StoreComposer:      comp,
		BasePath:           BasePath + "/",
		MaxSize:            cfg.MaxSize,
		DisableDownload:    true,
		Cors:               &tusd.CorsConfig{Disable: true},
		Logger:             newSlogger(h.log),
		NetworkTimeout:     cfg.ReadTimeout,
		AcquireLockTimeout: time.Second, // no locker: the store's compare-and-set orders writers
	})
	if err != nil {
		return nil, fmt.Errorf("tus handler: %w", err)
	}
	h.tus = t
	reg.MustRegister(newTusCollector(t.Metrics))
	return h, nil
}

// Start gives the handler its store and sweeps expired uploads every
// SweepInterval until Stop.
func (h *Handler) Start(st *store.Uploads) {
	h.st = st
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.swept = cancel, make(chan struct{})
	go h.sweep(ctx)
}

// Stop ends the sweeps.
func (h *Handler) Stop() {
	if h.cancel != nil {
		h.cancel()
		<-h.swept
	}
}

func (h *Handler) sweep(ctx context.Context) {
	defer close(h.swept)
	t := time.NewTicker(h.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := h.st.Sweep(ctx)
			if err != nil && ctx.Err() == nil {
				h.log.Warn().Err(err).Msg("sweeping expired uploads failed")
			}
			if n > 0 {
				h.log.Info().Int("deleted", n).Msg("expired uploads deleted")
			}
		}
	}
}

// Routes returns the endpoint's routes (method and path patterns of
// http.ServeMux) and their handlers; wrap authenticates them.
func (h *Handler) Routes() map[string]http.Handler {
	return map[string]http.Handler{
		"OPTIONS " + BasePath:          h.serve(h.tus.PostFile), // answered by tusd's middleware
		"POST " + BasePath:             h.serve(h.tus.PostFile),
		"HEAD " + BasePath + "/{id}":   h.serve(h.tus.HeadFile),
		"PATCH " + BasePath + "/{id}":  h.serve(h.tus.PatchFile),
		"DELETE " + BasePath + "/{id}": h.serve(h.tus.DelFile),
	}
}

// serve runs one tus request: its state (tenant, answers of the store) in
// the context, the body guarded, tusd's errors turned into JSON.
func (h *Handler) serve(next http.HandlerFunc) http.Handler {
	inner := h.tus.Middleware(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.From(r.Context())
		if p == nil {
			p = auth.Anonymous
		}
		st := &reqState{tenant: p.Tenant, id: r.PathValue("id"), header: r.Header, contentLength: r.ContentLength, rc: http.NewResponseController(w)}
		if !h.track(st) {
			api.WriteError(w, api.RetryLater(api.CodeUnavailable, time.Second, nil, "the gateway is shutting down: retry on another"))
			return
		}
		defer h.untrack(st)
		r2 := r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
		r2.URL = &url.URL{Path: "/" + st.id, RawQuery: r.URL.RawQuery}
		r2.Header.Del("X-HTTP-Method-Override")
		if r.Body != nil && r.Body != http.NoBody {
			st.body = &guardedBody{rc: r.Body, st: st, chunked: r.ContentLength < 0}
			st.body.limit.Store(-1)
			r2.Body = st.body
		}
		tw := &tusWriter{ResponseWriter: w, st: st, h: h, method: r.Method, path: r.URL.Path}
		inner.ServeHTTP(tw, r2)
		tw.finish()
	})
}

func (h *Handler) track(st *reqState) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.inflight[st] = struct{}{}
	return true
}

func (h *Handler) untrack(st *reqState) {
	h.mu.Lock()
	delete(h.inflight, st)
	h.mu.Unlock()
}

// Interrupt ends the bodies being received (what arrived is stored and
// committed, and the client told to resume elsewhere) and refuses new
// requests: the gateway is stopping.
func (h *Handler) Interrupt() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closing = true
	for st := range h.inflight {
		st.interrupt()
	}
}

// InFlight counts the requests being served (for leak tests).
func (h *Handler) InFlight() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.inflight)
}
