package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
)

const natsOpTimeout = 10 * time.Second

// Worker runs models for the queue. Create it with New, run it with Start,
// stop it with Stop; it never touches OS signals.
type Worker struct {
	cfg     Config
	log     zerolog.Logger
	models  []Predictor
	metrics *metrics

	nc      *nats.Conn
	js      jetstream.JetStream
	b       *natsx.Buckets
	results jetstream.Stream
	infer   jetstream.Stream
	lanes   []*lane

	ctx       context.Context
	cancel    context.CancelFunc
	ready     atomic.Bool
	killed    atomic.Bool
	started   time.Time
	batches   atomic.Uint64
	itemsDone atomic.Uint64
	// rate window of the announcements (used by announce only, serially)
	lastItems uint64
	lastAt    time.Time

	cancelMu  sync.RWMutex
	cancelled map[string]struct{}

	finalizeCh chan finalizeReq
	finalWG    sync.WaitGroup
	dlqSub     *nats.Subscription

	ln       net.Listener
	srv      *http.Server
	stopOnce sync.Once
	bgWG     sync.WaitGroup
}

type finalizeReq struct {
	l *lane
	t *task
}

// New returns a worker serving models; it is not started.
func New(cfg Config, models []Predictor, log zerolog.Logger) (*Worker, error) {
	cfg = cfg.withDefaults()
	if cfg.NATS.URL == "" {
		return nil, errors.New("worker: NATS URL is required")
	}
	if len(models) == 0 {
		return nil, errors.New("worker: no models to serve")
	}
	if cfg.ID == "" {
		host, _ := os.Hostname()
		cfg.ID = host + "-" + strings.ToLower(nuid.Next()[:8])
	}
	return &Worker{
		cfg: cfg, models: models, metrics: newMetrics(),
		log:        log.With().Str("component", "worker").Str("worker_id", cfg.ID).Logger(),
		cancelled:  map[string]struct{}{},
		finalizeCh: make(chan finalizeReq, 1024),
	}, nil
}

// ID is the worker's name in the catalogue.
func (w *Worker) ID() string { return w.cfg.ID }

// Addr is the health server's address, or "" when disabled.
func (w *Worker) Addr() string {
	if w.ln == nil {
		return ""
	}
	return w.ln.Addr().String()
}

// Start connects to NATS (retrying until ctx ends), announces the models and
// starts pulling work.
func (w *Worker) Start(ctx context.Context) error {
	w.started = time.Now().UTC()
	w.ctx, w.cancel = context.WithCancel(context.Background())
	if w.cfg.HealthAddr != "" {
		ln, err := net.Listen("tcp", w.cfg.HealthAddr)
		if err != nil {
			return fmt.Errorf("worker start: listen %s: %w", w.cfg.HealthAddr, err)
		}
		w.ln = ln
		mux := http.NewServeMux()
		mux.HandleFunc("GET /health", func(rw http.ResponseWriter, _ *http.Request) { writeStatus(rw, http.StatusOK, "ok", "") })
		mux.HandleFunc("GET /ready", w.handleReady)
		mux.Handle("GET /metrics", promhttp.HandlerFor(w.metrics.reg, promhttp.HandlerOpts{}))
		w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = w.srv.Serve(ln) }()
	}
	if w.cfg.NATS.Name == "" {
		w.cfg.NATS.Name = "worker-" + w.cfg.ID
	}
	nc, err := natsx.Connect(ctx, w.cfg.NATS, w.log)
	if err != nil {
		return fmt.Errorf("worker start: %w", err)
	}
	w.nc = nc
	if w.js, err = jetstream.New(nc); err != nil {
		return fmt.Errorf("worker start: jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	if w.b, err = natsx.Setup(sctx, w.js, w.cfg.Streams); err != nil {
		return fmt.Errorf("worker start: %w", err)
	}
	if w.results, err = w.js.Stream(sctx, wire.StreamResults); err != nil {
		return fmt.Errorf("worker start: %w", err)
	}
	if w.infer, err = w.js.Stream(sctx, wire.StreamInfer); err != nil {
		return fmt.Errorf("worker start: %w", err)
	}
	if err := w.watchCancels(sctx); err != nil {
		return fmt.Errorf("worker start: %w", err)
	}
	for _, p := range w.models {
		m := p.Meta()
		if _, err := w.b.Models.Put(sctx, wire.ModelKey(m.Name, m.Version), wire.Marshal(m)); err != nil {
			return fmt.Errorf("worker start: announce model %s: %w", m.ID(), err)
		}
	}
	for i := 0; i < w.cfg.Finalizers; i++ {
		w.finalWG.Add(1)
		go w.finalizer()
	}
	if w.dlqSub, err = w.nc.QueueSubscribe(maxDeliveriesAdvisory, "dead-letter", w.onMaxDeliveries); err != nil {
		return fmt.Errorf("worker start: subscribe advisories: %w", err)
	}
	for _, p := range w.models {
		l := newLane(w, p)
		if err := l.start(sctx); err != nil {
			return fmt.Errorf("worker start: %w", err)
		}
		w.lanes = append(w.lanes, l)
	}
	w.announce(sctx)
	w.bgWG.Add(1)
	go w.heartbeat()
	w.ready.Store(true)
	w.log.Info().Int("models", len(w.models)).Str("health", w.Addr()).Msg("worker started")
	return nil
}

// Stop shuts down in order: stop pulling, finish the chunks already
// received (store, count, ack), withdraw the announcement, close NATS. If
// ctx ends first, the chunks still held are given back (nak) for another
// worker.
func (w *Worker) Stop(ctx context.Context) error {
	var err error
	w.stopOnce.Do(func() {
		w.ready.Store(false)
		for _, l := range w.lanes {
			l.drain()
		}
		lanesDone := make(chan struct{})
		go func() {
			for _, l := range w.lanes {
				<-l.done
			}
			close(w.finalizeCh)
			w.finalWG.Wait()
			close(lanesDone)
		}()
		select {
		case <-lanesDone:
		case <-ctx.Done():
			err = fmt.Errorf("worker stop: in-flight work not finished: %w", ctx.Err())
			for _, l := range w.lanes {
				l.mu.Lock()
				for t := range l.held {
					_ = t.msg.Nak()
				}
				l.mu.Unlock()
			}
		}
		if w.dlqSub != nil {
			_ = w.dlqSub.Unsubscribe()
		}
		w.cancel()
		w.bgWG.Wait()
		if w.b != nil {
			dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = w.b.Workers.Delete(dctx, w.cfg.ID)
			cancel()
		}
		if w.nc != nil {
			if derr := w.nc.Drain(); derr != nil {
				w.nc.Close()
			}
		}
		if w.srv != nil {
			_ = w.srv.Close()
		}
		w.log.Info().Msg("worker stopped")
	})
	return err
}

// Kill stops the worker abruptly, as a crash would: nothing it holds is
// acked or given back; JetStream redelivers it after AckWait.
func (w *Worker) Kill() {
	w.stopOnce.Do(func() {
		w.killed.Store(true)
		w.ready.Store(false)
		if w.nc != nil {
			w.nc.Close()
		}
		for _, l := range w.lanes {
			l.kill()
		}
		if w.cancel != nil {
			w.cancel()
		}
		if w.srv != nil {
			_ = w.srv.Close()
		}
	})
}

func (w *Worker) handleReady(rw http.ResponseWriter, _ *http.Request) {
	switch {
	case !w.ready.Load():
		writeStatus(rw, http.StatusServiceUnavailable, "not_ready", "starting or stopping")
	case w.nc == nil || !w.nc.IsConnected():
		writeStatus(rw, http.StatusServiceUnavailable, "not_ready", "not connected to NATS")
	default:
		writeStatus(rw, http.StatusOK, "ready", "")
	}
}

func writeStatus(rw http.ResponseWriter, code int, status, reason string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(code)
	body := map[string]string{"status": status}
	if reason != "" {
		body["reason"] = reason
	}
	_ = json.NewEncoder(rw).Encode(body)
}

func (w *Worker) watchCancels(ctx context.Context) error {
	kw, err := w.b.Cancel.WatchAll(w.ctx)
	if err != nil {
		return fmt.Errorf("watch cancellations: %w", err)
	}
	synced := make(chan struct{})
	w.bgWG.Add(1)
	go func() {
		defer w.bgWG.Done()
		defer func() { _ = kw.Stop() }()
		once := sync.Once{}
		for {
			select {
			case <-w.ctx.Done():
				return
			case e, ok := <-kw.Updates():
				if !ok {
					return
				}
				if e == nil {
					once.Do(func() { close(synced) })
					continue
				}
				w.cancelMu.Lock()
				if e.Operation() == jetstream.KeyValuePut {
					w.cancelled[e.Key()] = struct{}{}
				} else {
					delete(w.cancelled, e.Key())
				}
				w.cancelMu.Unlock()
			}
		}
	}()
	select {
	case <-synced:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("watch cancellations: %w", ctx.Err())
	}
}

func (w *Worker) isCancelled(job string) bool {
	w.cancelMu.RLock()
	defer w.cancelMu.RUnlock()
	_, ok := w.cancelled[job]
	return ok
}

func (w *Worker) heartbeat() {
	defer w.bgWG.Done()
	tick := time.NewTicker(w.cfg.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-tick.C:
			ctx, cancel := context.WithTimeout(w.ctx, natsOpTimeout)
			w.announce(ctx)
			cancel()
		}
	}
}

func (w *Worker) announce(ctx context.Context) {
	now := time.Now().UTC()
	ids := make([]string, len(w.models))
	for i, p := range w.models {
		ids[i] = p.Meta().ID()
	}
	held := 0
	for _, l := range w.lanes {
		l.mu.Lock()
		held += len(l.held)
		l.mu.Unlock()
	}
	host, _ := os.Hostname()
	items := w.itemsDone.Load()
	info := wire.WorkerInfo{
		ID: w.cfg.ID, Host: host, Models: ids, StartedAt: w.started, LastSeen: now,
		ItemsTotal: items, BatchesTotal: w.batches.Load(), InFlight: held,
	}
	if !w.lastAt.IsZero() {
		if d := now.Sub(w.lastAt).Seconds(); d > 0 {
			info.ItemsPerSec = float64(items-w.lastItems) / d
		}
	}
	w.lastItems, w.lastAt = items, now
	if _, err := w.b.Workers.Put(ctx, w.cfg.ID, wire.Marshal(info)); err != nil && !w.killed.Load() {
		w.log.Warn().Err(err).Msg("announce failed")
	}
}
