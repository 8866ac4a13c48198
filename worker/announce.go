package worker

import (
	"context"
	"os"
	"time"

	"batchinfer/internal/wire"
)

// announcer publishes the worker's WorkerInfo in the workers bucket every
// HeartbeatInterval, with its items/s over the last interval.
type announcer struct {
	w         *Worker
	lastItems uint64
	lastAt    time.Time
}

func (a *announcer) run(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(a.w.cfg.HeartbeatInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			actx, cancel := context.WithTimeout(ctx, natsOpTimeout)
			a.announce(actx)
			cancel()
		}
	}
}

func (a *announcer) announce(ctx context.Context) {
	w := a.w
	now := time.Now().UTC()
	ids := make([]string, len(w.models))
	for i, p := range w.models {
		ids[i] = p.Meta().ID()
	}
	held := 0
	for _, l := range w.lanes {
		held += l.leases.count()
	}
	host, _ := os.Hostname()
	items := w.metrics.itemsRun.Load()
	info := wire.WorkerInfo{
		ID: w.cfg.ID, Host: host, Models: ids, StartedAt: w.started, LastSeen: now,
		ItemsTotal: items, BatchesTotal: w.metrics.batches.Load(), InFlight: held,
	}
	if !a.lastAt.IsZero() {
		if d := now.Sub(a.lastAt).Seconds(); d > 0 {
			info.ItemsPerSec = float64(items-a.lastItems) / d
		}
	}
	a.lastItems, a.lastAt = items, now
	if _, err := w.in.Buckets.Workers.Put(ctx, w.cfg.ID, wire.Marshal(info)); err != nil && !w.killed.Load() {
		w.log.Warn().Err(err).Msg("announce failed")
	}
}
