package webhook

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/internal/config"
	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/tracing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Timing of the consumer loop.
const (
	// ackSlack is added to an attempt's timeout for the event's ack wait:
	// the time to record the attempt. An event not settled by then goes to
	// another gateway.
	ackSlack = 30 * time.Second
	// fetchWait is how long one fetch waits for events.
	fetchWait = 5 * time.Second
	// tenantBusyDelay is when an event whose tenant has all its attempts
	// in flight comes back (jittered).
	tenantBusyDelay = time.Second
	// backlogEvery is how often the retry queue's depth is read.
	backlogEvery = 5 * time.Second
	// fetchBatch bounds the events taken by one fetch.
	fetchBatch = 64
)

// Dispatcher delivers webhook events. Create it with New, run it with
// Start and stop it with Stop.
type Dispatcher struct {
	cfg     Config
	log     zerolog.Logger
	guard   *Guard
	tenants *Tenants
	client  *http.Client
	metrics *metrics

	hooks *store.Webhooks
	cons  jetstream.Consumer

	slots   chan struct{} // one per attempt in flight on this gateway
	mu      sync.Mutex
	busy    map[string]int // attempts in flight per tenant
	backlog atomic.Int64
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}

	// Tracer, when set (before Start), makes a span per attempt, in its
	// job's trace, whose context the request carries (nil: tracing off).
	Tracer *tracing.Tracer
}

// New checks cfg and loads the webhooks file; every configuration error
// wraps config.ErrInvalid.
func New(cfg Config, reg prometheus.Registerer, log zerolog.Logger) (*Dispatcher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log = log.With().Str("component", "webhooks").Logger()
	g, err := NewGuard(cfg)
	if err != nil {
		return nil, invalid(err)
	}
	t, err := OpenTenants(cfg.File, g, log)
	if err != nil {
		return nil, invalid(err)
	}
	d := &Dispatcher{
		cfg: cfg, log: log, guard: g, tenants: t, client: newClient(cfg, g),
		slots: make(chan struct{}, cfg.Concurrency), busy: map[string]int{}, done: make(chan struct{}),
	}
	d.backlog.Store(-1)
	d.metrics = newMetrics(reg, d.InFlight, func() float64 { return float64(max(d.backlog.Load(), 0)) })
	return d, nil
}

// Start binds the shared consumer and starts delivering; on error nothing
// is left running.
func (d *Dispatcher) Start(ctx context.Context, in *natsx.Infra) error {
	d.hooks = store.NewWebhooks(in)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := natsx.Retry(cctx, func(ctx context.Context) (err error) {
		d.cons, err = d.hooks.Consumer(ctx, d.cfg.Timeout+ackSlack)
		return err
	})
	if err != nil {
		return err
	}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	if err := d.tenants.Watch(d.ctx); err != nil {
		d.cancel()
		return err
	}
	go d.run()
	return nil
}

// Stop ends the deliveries: attempts in flight are cut short and their
// events given back at once, for this or another gateway to make.
func (d *Dispatcher) Stop() {
	if d.cancel == nil {
		return
	}
	d.cancel()
	<-d.done
	d.wg.Wait()
	d.client.CloseIdleConnections()
}

// Reload reads the webhooks file again (the command calls it on SIGHUP).
func (d *Dispatcher) Reload() error { return d.tenants.Reload() }

// InFlight is the number of attempts in flight on this gateway.
func (d *Dispatcher) InFlight() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, b := range d.busy {
		n += b
	}
	return n
}

// run fetches events while slots are free, until Stop.
func (d *Dispatcher) run() {
	defer close(d.done)
	var lastBacklog time.Time
	for d.ctx.Err() == nil {
		n := d.acquire()
		if n == 0 {
			return
		}
		fctx, cancel := context.WithTimeout(d.ctx, fetchWait)
		batch, err := d.cons.Fetch(n, jetstream.FetchContext(fctx))
		got := 0
		if err == nil {
			for m := range batch.Messages() {
				got++
				d.dispatch(m)
			}
		}
		cancel()
		d.release(n - got)
		if err != nil && d.ctx.Err() == nil {
			d.log.Debug().Err(err).Msg("fetching webhook events failed, retrying")
			sleep(d.ctx, time.Second)
		}
		if time.Since(lastBacklog) > backlogEvery {
			lastBacklog = time.Now()
			d.readBacklog()
		}
	}
}

// acquire waits for a free attempt slot and takes as many more as are
// free (up to fetchBatch); 0 when stopping.
func (d *Dispatcher) acquire() int {
	select {
	case d.slots <- struct{}{}:
	case <-d.ctx.Done():
		return 0
	}
	n := 1
	for n < fetchBatch {
		select {
		case d.slots <- struct{}{}:
			n++
		default:
			return n
		}
	}
	return n
}

func (d *Dispatcher) release(n int) {
	for range n {
		<-d.slots
	}
}

// dispatch starts an attempt at m's event in its slot, or gives the event
// back for later when its tenant has all its attempts in flight.
func (d *Dispatcher) dispatch(m jetstream.Msg) {
	ev, err := decodeEvent(m.Data())
	if err != nil {
		d.log.Error().Err(err).Str("subject", m.Subject()).Msg("undecodable webhook event dropped")
		_ = m.Term()
		d.release(1)
		return
	}
	if !d.take(ev.Tenant) {
		d.metrics.deliveries.WithLabelValues(outcomeDeferred).Inc()
		_ = m.NakWithDelay(jitter(tenantBusyDelay))
		d.release(1)
		return
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer d.release(1)
		defer d.drop(ev.Tenant)
		d.deliver(m, ev)
	}()
}

// take reserves one of tenant's attempts; false when all are in flight.
func (d *Dispatcher) take(tenant string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy[tenant] >= d.cfg.TenantConcurrency {
		return false
	}
	d.busy[tenant]++
	return true
}

func (d *Dispatcher) drop(tenant string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.busy[tenant]--; d.busy[tenant] <= 0 {
		delete(d.busy, tenant)
	}
}

// readBacklog reads the consumer's events not yet settled.
func (d *Dispatcher) readBacklog() {
	ctx, cancel := context.WithTimeout(d.ctx, time.Second)
	defer cancel()
	info, err := d.cons.Info(ctx)
	if err != nil {
		return
	}
	d.backlog.Store(int64(info.NumPending) + int64(info.NumAckPending))
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + rand.Float64()))
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// isTimeout says whether err is a timeout (net or context).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func invalid(err error) error { return fmt.Errorf("%w: webhooks: %w", config.ErrInvalid, err) }
