package worker

import (
	"context"
	"os"
	"time"

	"batchinfer/internal/wire"
)

// announcer publishes the worker's WorkerInfo in the workers bucket. It
// samples the items run every RateInterval: while the worker runs items
// (and once more after, to show it stopped) it announces at each sample,
// so rates follow the work within about one interval; idle, it announces
// every HeartbeatInterval.
type announcer struct {
	w       *Worker
	meter   rateMeter
	lastPut time.Time
	// force asks for an announcement now (the models served changed).
	force chan struct{}
}

// now asks for an announcement at once.
func (a *announcer) now() {
	select {
	case a.force <- struct{}{}:
	default:
	}
}

// tick is how often the announcer samples: the rate interval, or the
// heartbeat when that is shorter.
func (a *announcer) tick() time.Duration {
	return min(a.w.cfg.RateInterval, a.w.cfg.HeartbeatInterval)
}

func (a *announcer) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(a.tick())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			actx, cancel := context.WithTimeout(ctx, natsOpTimeout)
			a.announce(actx, false)
			cancel()
		case <-a.force:
			actx, cancel := context.WithTimeout(ctx, natsOpTimeout)
			a.announce(actx, true)
			cancel()
		}
	}
}

// announce samples the rates and puts the announcement when it is due (or
// always, with force).
func (a *announcer) announce(ctx context.Context, force bool) {
	w := a.w
	now := time.Now().UTC()
	lanes := w.servedLanes()
	ids := make([]string, len(lanes))
	byModel := make(map[string]uint64, len(lanes))
	held := 0
	for i, l := range lanes {
		ids[i] = l.id
		held += l.leases.count()
		byModel[l.id] = l.items.Load()
	}
	items := w.metrics.itemsRun.Load()
	r := a.meter.sample(now, items, byModel)
	// A heartbeat is due a little early rather than one tick late.
	if !force && !r.due && now.Sub(a.lastPut) < w.cfg.HeartbeatInterval-a.tick()/2 {
		return
	}
	host, _ := os.Hostname()
	info := wire.WorkerInfo{
		ID: w.cfg.ID, Host: host, Models: ids, StartedAt: w.started, LastSeen: now,
		ItemsTotal: items, BatchesTotal: w.metrics.batches.Load(), InFlight: held,
		ItemsPerSec: r.total, ItemsPerSecByModel: r.byModel, LoadErrors: w.registry.loadErrors(),
		ResultFormat: w.cfg.ResultFormat,
	}
	if _, err := w.in.Buckets.Workers.Put(ctx, w.cfg.ID, wire.Marshal(info)); err != nil && !w.killed.Load() {
		w.log.Warn().Err(err).Msg("announce failed")
		return
	}
	a.lastPut = now
}

// rateMeter turns counters of items run into rates over the time between
// two samples.
type rateMeter struct {
	at      time.Time
	total   uint64
	byModel map[string]uint64
	// busy: the last rates were not all zero.
	busy bool
}

// rates are one sample's items/s, in total and per model; due says that
// they should be announced now (items ran, or ran until the last sample).
type rates struct {
	total   float64
	byModel map[string]float64
	due     bool
}

// sample returns the rates since the previous sample (zero at the first)
// and keeps the counters for the next.
func (m *rateMeter) sample(now time.Time, total uint64, byModel map[string]uint64) rates {
	r := rates{byModel: make(map[string]float64, len(byModel))}
	d := now.Sub(m.at).Seconds()
	first := m.at.IsZero() || d <= 0
	for id, n := range byModel {
		r.byModel[id] = 0
		if prev, ok := m.byModel[id]; ok && !first && n >= prev {
			r.byModel[id] = float64(n-prev) / d
		}
	}
	if !first && total >= m.total {
		r.total = float64(total-m.total) / d
	}
	busy := r.total > 0
	r.due = busy || m.busy
	m.at, m.total, m.byModel, m.busy = now, total, byModel, busy
	return r
}
