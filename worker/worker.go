package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/internal/config"
	"batchinfer/internal/natsx"
	"batchinfer/internal/runx"
	"batchinfer/internal/store"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go"
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

	in      *natsx.Infra
	conn    atomic.Pointer[nats.Conn] // in.NC, for the metrics (served before NATS is reached)
	lanesMu sync.Mutex
	lanes   []*lane // the disk models' and the registry versions' loaded
	// registry loads the versions pushed to the model registry (nil
	// without WithRegistry).
	registry *registry
	regSrc   *RegistrySource
	cancels  cancels
	fin      *finisher
	dlqSub   *nats.Subscription

	tracer   *tracing.Tracer // nil: tracing off
	ann      *announcer
	ctx      context.Context
	cancel   context.CancelFunc
	bgDone   []<-chan struct{} // background loops (cancel watch, announcements)
	ready    atomic.Bool
	killed   atomic.Bool
	started  time.Time
	ln       net.Listener
	srv      *http.Server
	errc     chan error
	teardown runx.Teardown
	stopOnce sync.Once
}

// Option configures a Worker beyond its Config.
type Option func(*Worker)

// WithRegistry makes the worker serve the versions pushed to the model
// registry as well (see RegistrySource), and check pushed versions.
func WithRegistry(src RegistrySource) Option {
	return func(w *Worker) { w.regSrc = &src }
}

// New checks cfg (zero fields take Defaults) and returns a worker serving
// models (the caller keeps them, and closes them after Stop); it is not
// started. Without models, it needs WithRegistry. Every error wraps
// config.ErrInvalid.
func New(cfg Config, models []Predictor, log zerolog.Logger, opts ...Option) (*Worker, error) {
	config.FillDefaults(&cfg, Defaults())
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		host, _ := os.Hostname()
		cfg.ID = host + "-" + strings.ToLower(nuid.Next()[:8])
	}
	if cfg.NATS.Name == "" {
		cfg.NATS.Name = "worker-" + cfg.ID
	}
	w := &Worker{
		cfg: cfg, models: models, errc: make(chan error, 1),
		log: log.With().Str("component", "worker").Str("worker_id", cfg.ID).Logger(),
	}
	w.metrics = newMetrics(w.natsConnected)
	for _, o := range opts {
		o(w)
	}
	if w.regSrc != nil {
		if err := w.regSrc.validate(); err != nil {
			return nil, fmt.Errorf("%w: worker: %w", config.ErrInvalid, err)
		}
	}
	if len(models) == 0 && w.regSrc == nil {
		return nil, fmt.Errorf("%w: worker: no models to serve (and no model registry)", config.ErrInvalid)
	}
	return w, nil
}

// natsConnected reports whether the worker's NATS connection is up.
func (w *Worker) natsConnected() bool {
	c := w.conn.Load()
	return c != nil && c.IsConnected()
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

// Err reports a failure that ends the worker while it runs (its health
// listener died): the process should stop with it.
func (w *Worker) Err() <-chan error { return w.errc }

// Start connects to NATS (retrying until ctx ends), announces the models
// and starts pulling work; on error everything acquired is released.
func (w *Worker) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			w.killed.Store(true) // nothing half-started acks or announces
			_ = w.teardown.Run()
			err = fmt.Errorf("worker start: %w", err)
		}
	}()
	w.started = time.Now().UTC()
	w.ctx, w.cancel = context.WithCancel(context.Background())
	w.teardown.Add("context", func() error { w.cancel(); return nil })
	if err := w.serveHealth(); err != nil {
		return err
	}
	if err := w.startTracing(); err != nil {
		return err
	}
	if w.in, err = natsx.Open(ctx, w.cfg.NATS, w.cfg.Streams, w.log); err != nil {
		return err
	}
	w.teardown.Add("nats", func() error { w.in.Close(); return nil })
	w.conn.Store(w.in.NC)
	if err := w.startWork(ctx); err != nil {
		return err
	}
	w.ready.Store(true)
	w.log.Info().Int("models", len(w.models)).Bool("registry", w.regSrc != nil).Str("health", w.Addr()).Msg("worker started")
	return nil
}

// startWork watches cancellations, announces the models, and starts the
// finishers, the dead-letter handler and a lane per model.
func (w *Worker) startWork(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	done, err := w.cancels.watch(w.ctx, w.in.Buckets.Cancel, sctx)
	if err != nil {
		return err
	}
	w.bgDone = append(w.bgDone, done)
	for _, p := range w.models {
		if err := w.announceModel(sctx, p.Meta(), wire.SourceDisk); err != nil {
			return err
		}
	}
	w.fin = &finisher{nc: w.in.NC, epoch: w.in.Epoch, jobs: store.NewJobs(w.in), results: store.NewResults(w.in.JS, w.in.Results), inputs: store.NewInputs(w.in),
		letters: store.NewDeadLetters(w.in), syncLetterTTL: w.cfg.Streams.WithDefaults().ResultTTL,
		metrics: w.metrics, log: w.log, worker: w.cfg.ID, killed: w.killed.Load, storeRetry: w.cfg.StoreRetry, tracer: w.tracer,
		jsonResults: w.cfg.ResultFormat == ResultFormatJSON}
	w.fin.counts = newCounter(w.fin.jobs, w.in.Epoch, w.cfg.CountLinger, w.cfg.CountBatch, w.cfg.MaxBatch, w.killed.Load)
	w.fin.start(w.cfg.Finalizers)
	if w.dlqSub, err = w.in.NC.QueueSubscribe(maxDeliveriesAdvisory, "dead-letter", w.onMaxDeliveries); err != nil {
		return fmt.Errorf("subscribe advisories: %w", err)
	}
	w.teardown.Add("dead-letter subscription", w.dlqSub.Unsubscribe)
	w.teardown.Add("lanes", func() error {
		for _, l := range w.servedLanes() {
			l.kill()
		}
		return nil
	})
	for _, p := range w.models {
		l := newLane(w.laneDeps(), p)
		w.addLane(l)
		if err := l.start(sctx); err != nil {
			return err
		}
	}
	w.ann = &announcer{w: w, force: make(chan struct{}, 1)}
	w.ann.announce(sctx, true)
	announced := make(chan struct{})
	w.bgDone = append(w.bgDone, announced)
	go w.ann.run(w.ctx, announced)
	return w.startRegistry(sctx)
}

// announceModel puts a model version's metadata in the models bucket:
// gateways route to it from then on.
func (w *Worker) announceModel(ctx context.Context, m *model.Metadata, source string) error {
	v := struct {
		*model.Metadata
		wire.ModelAnnouncement
	}{m, wire.ModelAnnouncement{Source: source}}
	if _, err := w.in.Buckets.Models.Put(ctx, wire.ModelKey(m.Name, m.Version), wire.Marshal(v)); err != nil {
		return fmt.Errorf("announce model %s: %w", m.ID(), err)
	}
	return nil
}

// addLane adds a lane to those served (and announced).
func (w *Worker) addLane(l *lane) {
	w.lanesMu.Lock()
	defer w.lanesMu.Unlock()
	w.lanes = append(w.lanes, l)
}

// removeLane takes a lane out of those served and announced.
func (w *Worker) removeLane(l *lane) {
	w.lanesMu.Lock()
	defer w.lanesMu.Unlock()
	w.lanes = slices.DeleteFunc(w.lanes, func(x *lane) bool { return x == l })
}

// servedLanes returns the lanes served now.
func (w *Worker) servedLanes() []*lane {
	w.lanesMu.Lock()
	defer w.lanesMu.Unlock()
	return slices.Clone(w.lanes)
}

func (w *Worker) laneDeps() laneDeps {
	return laneDeps{
		cfg: w.cfg, nc: w.in.NC, js: w.in.JS, epoch: w.in.Epoch, metrics: w.metrics, log: w.log,
		killed: w.killed.Load, isCancelled: w.cancels.has, redelivered: w.fin.redelivered, finish: w.fin.submit,
		inputs: w.fin.inputs, tracer: w.tracer, goneReason: w.fin.goneReason,
	}
}

// serveHealth serves /health, /ready and /metrics when HealthAddr is set.
func (w *Worker) serveHealth() error {
	if w.cfg.HealthAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", w.cfg.HealthAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", w.cfg.HealthAddr, err)
	}
	w.ln = ln
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(rw http.ResponseWriter, _ *http.Request) { writeStatus(rw, http.StatusOK, "ok", "") })
	mux.HandleFunc("GET /ready", w.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(w.metrics.reg, promhttp.HandlerOpts{}))
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	w.teardown.Add("health server", w.srv.Close)
	go func() {
		if err := w.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			w.log.Error().Err(err).Msg("health server stopped")
			w.errc <- fmt.Errorf("worker: health server: %w", err)
		}
	}()
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
		w.registry.stop()
		err = w.drain(ctx)
		if w.cancel != nil {
			w.cancel()
		}
		for _, d := range w.bgDone {
			<-d
		}
		if w.in != nil {
			dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_ = w.in.Buckets.Workers.Delete(dctx, w.cfg.ID)
			cancel()
		}
		err = errors.Join(err, w.teardown.Run())
		w.registry.close()
		w.log.Info().Msg("worker stopped")
	})
	return err
}

// drain stops pulling and waits for what is held to be finished.
func (w *Worker) drain(ctx context.Context) error {
	lanes := w.servedLanes()
	for _, l := range lanes {
		l.drain()
	}
	done := make(chan struct{})
	go func() {
		for _, l := range lanes {
			<-l.done
		}
		if w.fin != nil {
			w.fin.close()
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		for _, l := range lanes {
			l.giveBack()
		}
		return fmt.Errorf("worker stop: in-flight work not finished: %w", ctx.Err())
	}
}

// Kill stops the worker abruptly, as a crash would: nothing it holds is
// acked or given back; JetStream redelivers it after AckWait.
func (w *Worker) Kill() {
	w.stopOnce.Do(func() {
		w.killed.Store(true)
		w.ready.Store(false)
		w.registry.stop()
		if w.in != nil {
			w.in.NC.Close()
		}
		_ = w.teardown.Run()
		w.registry.close()
	})
}

func (w *Worker) handleReady(rw http.ResponseWriter, _ *http.Request) {
	switch {
	case !w.ready.Load():
		writeStatus(rw, http.StatusServiceUnavailable, "not_ready", "starting or stopping")
	case w.in == nil || !w.in.NC.IsConnected():
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
