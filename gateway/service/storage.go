package service

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go/jetstream"
)

// Admission against the results store.
const (
	// storageRefresh is how old the results stream's size may be when a job
	// is admitted against it.
	storageRefresh = time.Second
	// storageRetry is the retry hint of a job refused for want of room.
	storageRetry = time.Minute
)

// storageGate admits jobs against the room left in the results store: a
// job whose results (estimated from its model's output) would not fit
// beside what is stored and what the unfinished jobs of every gateway
// still have to store is refused up front, 507, rather than failing item
// by item once the store is full. It learns the unfinished jobs and their
// estimates from the active-jobs bucket, and their progress from the
// job-record feed, so the reservations are the cluster's, not this
// gateway's. Estimates are upper bounds; when the store fills anyway
// (another writer, a lagging view) the workers retry and then fail the
// items that cannot be stored with the reason: never a hang.
type storageGate struct {
	usage func(ctx context.Context) (bytes uint64, maxBytes int64, err error)

	mu     sync.Mutex
	read   time.Time // when used and limit were read
	used   uint64
	limit  int64
	active map[string]*reservation // unfinished job → what it may still store

	refused func()
	fill    func(used uint64, limit int64)
}

// reservation is an unfinished job's estimated results and its progress.
type reservation struct {
	est              int64
	processed, total int
}

func (r *reservation) left() int64 {
	if r.total <= 0 || r.processed <= 0 {
		return r.est
	}
	return r.est * int64(max(r.total-r.processed, 0)) / int64(r.total)
}

func newStorageGate(usage func(context.Context) (uint64, int64, error), refused func(), fill func(uint64, int64)) *storageGate {
	return &storageGate{usage: usage, refused: refused, fill: fill, active: map[string]*reservation{}}
}

// resultBytes estimates the stored size of the results of n items of meta
// in chunks of chunkSize, in the form the model's workers store them in.
func (s *Service) resultBytes(meta *model.Metadata, n, chunkSize int) int64 {
	return jobResultBytes(meta, n, chunkSize, s.cat.storesJSON(meta.ID(), time.Now()))
}

// jobResultBytes estimates the stored size of the results of n items of
// meta in chunks of chunkSize, compact or asJSON.
func jobResultBytes(meta *model.Metadata, n, chunkSize int, asJSON bool) int64 {
	chunkSize = max(chunkSize, 1)
	chunks := int64((n + chunkSize - 1) / chunkSize)
	if asJSON {
		return int64(n)*int64(wire.ResultJSONBytes(meta.Labels, meta.OutputSize(), meta.TopK)) + chunks*int64(wire.ResultChunkJSONBytes())
	}
	per := wire.ResultBytes(meta.Labels, meta.OutputSize(), meta.TopK)
	return int64(n)*int64(per) + chunks*int64(wire.ResultChunkBytes(meta.Labels, meta.TopK, min(n, chunkSize)))
}

// admit reserves need bytes of the results store for job, or refuses it.
func (g *storageGate) admit(ctx context.Context, job string, need int64, items int) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.read) > storageRefresh {
		used, limit, err := g.usage(ctx)
		if err != nil {
			return queueErr(err)
		}
		g.read, g.used, g.limit = time.Now(), used, limit
		g.fill(used, limit)
	}
	if g.limit <= 0 { // unbounded
		return nil
	}
	reserved := g.reservedLocked()
	if free := g.limit - int64(g.used) - reserved; need > free {
		g.refused()
		return api.RetryLater(api.CodeInsufficientStorage, storageRetry, nil,
			"the results store (RESULT_MAX_BYTES %d bytes) holds %d bytes and unfinished jobs will add about %d; "+
				"this job's %d items need about %d more. Results expire RESULT_TTL after their job finishes: retry later, or submit fewer items",
			g.limit, g.used, reserved, items, need)
	}
	g.active[job] = &reservation{est: need, total: items}
	return nil
}

func (g *storageGate) reservedLocked() int64 {
	var n int64
	for _, r := range g.active {
		n += r.left()
	}
	return n
}

// release drops job's reservation (it was not created after all).
func (g *storageGate) release(job string) {
	g.mu.Lock()
	delete(g.active, job)
	g.mu.Unlock()
}

// watchActive follows the active-jobs bucket until ctx ends, handing each
// entry to every apply (each unfinished job's estimate in, each finished
// one out). It returns once the current content is loaded, or ready ends.
func watchActive(ctx, ready context.Context, kv jetstream.KeyValue, apply ...func(jetstream.KeyValueEntry)) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch active jobs: %w", err)
	}
	synced := make(chan struct{})
	go func() {
		defer func() { _ = w.Stop() }()
		var once sync.Once
		for e := range w.Updates() {
			if e == nil {
				once.Do(func() { close(synced) })
				continue
			}
			for _, f := range apply {
				f(e)
			}
		}
	}()
	select {
	case <-synced:
		return nil
	case <-ready.Done():
		return fmt.Errorf("watch active jobs: %w", ready.Err())
	}
}

func (g *storageGate) applyActive(e jetstream.KeyValueEntry) {
	job := e.Key()[strings.LastIndexByte(e.Key(), '.')+1:]
	g.mu.Lock()
	defer g.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(g.active, job)
		return
	}
	a, ok := store.ParseActive(e.Value())
	if !ok {
		return
	}
	r := g.active[job]
	if r == nil {
		r = &reservation{}
		g.active[job] = r
	}
	r.est, r.total = a.ResultBytes, a.Items
}

// record takes a job record as written (from the job feed): the progress
// of an unfinished job shrinks its reservation.
func (g *storageGate) record(job string, data []byte) {
	g.mu.Lock()
	r := g.active[job]
	g.mu.Unlock()
	if r == nil {
		return
	}
	var c struct{ Total, Done, Failed, Skipped int }
	if json.Unmarshal(data, &c) != nil {
		return
	}
	g.mu.Lock()
	r.processed, r.total = c.Done+c.Failed+c.Skipped, max(c.Total, r.total)
	g.mu.Unlock()
}

// detail is the store's fill as last read, for /ready (nil before any).
func (g *storageGate) detail() *api.StoreFill {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.read.IsZero() {
		return nil
	}
	fill := 0.0
	if g.limit > 0 {
		fill = float64(g.used) / float64(g.limit)
	}
	return &api.StoreFill{Bytes: g.used, MaxBytes: g.limit, Fill: fill}
}
