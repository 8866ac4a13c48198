package autoscaler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"batchinfer/internal/natsx"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// tickTimeout bounds one reading and decision (and the scale it takes).
const tickTimeout = 15 * time.Second

// Autoscaler runs the loop: every Interval it reads the backlog, decides,
// and sets the worker service's replica count.
type Autoscaler struct {
	cfg     Config
	log     zerolog.Logger
	now     func() time.Time
	scaler  Scaler
	nc      *nats.Conn
	reader  *reader
	metrics *metrics
	srv     *server
	errc    chan error

	state      State
	lastReason string

	cancel context.CancelFunc
	done   chan struct{}
}

// Option changes how New builds an Autoscaler; for tests and embedding.
type Option func(*Autoscaler)

// WithScaler replaces the Docker scaler (or the dry run's).
func WithScaler(s Scaler) Option { return func(a *Autoscaler) { a.scaler = s } }

// WithClock replaces time.Now in the policy's decisions.
func WithClock(now func() time.Time) Option { return func(a *Autoscaler) { a.now = now } }

// New validates cfg and returns a stopped Autoscaler. Start from
// Defaults(): zero is a meaningful minimum, dead band and cooldown.
func New(cfg Config, log zerolog.Logger, opts ...Option) (*Autoscaler, error) {
	if err := cfg.resolve(); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.NATS.Name == "" {
		cfg.NATS.Name = "autoscaler"
	}
	a := &Autoscaler{cfg: cfg, log: log, now: time.Now, metrics: newMetrics(), errc: make(chan error, 1), done: make(chan struct{})}
	for _, o := range opts {
		o(a)
	}
	return a, nil
}

// Start serves the metrics, creates the Docker client unless a scaler was
// given or it is a dry run, connects to NATS (retrying until ctx ends) and
// starts the loop.
func (a *Autoscaler) Start(ctx context.Context) (err error) {
	if a.cfg.MetricsAddr != "" {
		if a.srv, err = startServer(a.cfg.MetricsAddr, a.metrics, 3*a.cfg.Interval+tickTimeout, a.errc); err != nil {
			return err
		}
	}
	defer func() {
		if err != nil {
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err = errors.Join(err, a.release(rctx))
		}
	}()
	if a.scaler == nil && !a.cfg.DryRun {
		if a.scaler, err = NewDockerScaler(a.cfg.Service); err != nil {
			return err
		}
	}
	if a.nc, err = natsx.Connect(ctx, a.cfg.NATS, a.log); err != nil {
		return err
	}
	js, err := jetstream.New(a.nc)
	if err != nil {
		return fmt.Errorf("jetstream: %w", err)
	}
	a.reader = newReader(js)
	lctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go a.loop(lctx)
	a.log.Info().Str("service", a.cfg.Service).Bool("dry_run", a.cfg.DryRun).Str("metrics", a.MetricsAddr()).Msg("autoscaler started")
	return nil
}

// MetricsAddr is the address /metrics is served on ("" if none).
func (a *Autoscaler) MetricsAddr() string {
	if a.srv == nil {
		return ""
	}
	return a.srv.addr()
}

// Err reports a failure of the metrics server.
func (a *Autoscaler) Err() <-chan error { return a.errc }

// Stop ends the loop (a scale in progress finishes, within ctx), the
// metrics server and the connections. The workers are left as they are.
func (a *Autoscaler) Stop(ctx context.Context) error {
	if a.cancel == nil {
		return nil
	}
	a.cancel()
	select {
	case <-a.done:
	case <-ctx.Done():
		return fmt.Errorf("autoscaler stop: %w", ctx.Err())
	}
	err := a.release(ctx)
	a.log.Info().Msg("autoscaler stopped")
	return err
}

// release closes what Start opened.
func (a *Autoscaler) release(ctx context.Context) error {
	var err error
	if a.srv != nil {
		err = a.srv.stop(ctx)
	}
	if a.nc != nil {
		a.nc.Close()
	}
	if a.scaler != nil {
		err = errors.Join(err, a.scaler.Close())
	}
	return err
}

func (a *Autoscaler) loop(ctx context.Context) {
	defer close(a.done)
	t := time.NewTicker(a.cfg.Interval)
	defer t.Stop()
	for {
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tickTimeout)
		a.tick(tctx)
		cancel()
		a.srv.ticked()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick reads, decides and scales once. A failed read or scale changes
// nothing: the next tick tries again.
func (a *Autoscaler) tick(ctx context.Context) {
	snap, err := a.reader.read(ctx)
	if err != nil {
		a.fail("backlog", err, "backlog not read")
		return
	}
	if a.scaler == nil { // dry run: start from the workers seen
		a.scaler = NewMemScaler(snap.Workers)
	}
	current, err := a.scaler.Replicas(ctx)
	if err != nil {
		a.fail("replicas", err, "replica count not read")
		return
	}
	d, st := a.cfg.Policy.Decide(Inputs{Backlog: snap.Backlog, Rate: snap.Rate, Current: current}, a.state, a.now())
	if d.Action != ActionHold {
		if err := a.scaler.Scale(ctx, d.Replicas); err != nil {
			a.fail("scale", err, "scale failed")
			a.logDecision(snap, d, current, "failed")
			return
		}
	}
	a.state = st
	a.metrics.observe(snap, d)
	a.logDecision(snap, d, current, "")
}

func (a *Autoscaler) fail(stage string, err error, msg string) {
	a.metrics.errors.WithLabelValues(stage).Inc()
	a.log.Warn().Err(err).Str("stage", stage).Msg(msg)
}

// logDecision logs every decision with its inputs (current is the count
// before it, replicas the one decided): a change at info, a
// hold at info when its reason differs from the previous decision's, else
// at debug (one line per interval would bury the changes).
func (a *Autoscaler) logDecision(s Snapshot, d Decision, current int, outcome string) {
	lvl := zerolog.InfoLevel
	msg := "scaling"
	if d.Action == ActionHold {
		msg = "holding"
		if d.Reason == a.lastReason {
			lvl = zerolog.DebugLevel
		}
	}
	a.lastReason = d.Reason
	if outcome != "" {
		lvl, msg = zerolog.ErrorLevel, "scaling failed"
	}
	a.log.WithLevel(lvl).Str("action", d.Action).Int64("backlog", s.Backlog).Float64("rate", d.Rate).
		Int("current", current).Int("desired", d.Desired).Int("replicas", d.Replicas).
		Float64("drain_s", d.Drain).Int("workers", s.Workers).Str("reason", d.Reason).
		Bool("dry_run", a.cfg.DryRun).Msg(msg)
}
