package service

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"time"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// catalog mirrors the models and workers buckets in memory. It is a cache
// rebuilt from JetStream at start, never a source of truth.
type catalog struct {
	log zerolog.Logger

	mu      sync.RWMutex
	models  map[string]*model.Metadata // by name.version
	workers map[string]wire.WorkerInfo // by worker id
	synced  bool
}

func newCatalog(log zerolog.Logger) *catalog {
	return &catalog{log: log, models: map[string]*model.Metadata{}, workers: map[string]wire.WorkerInfo{}}
}

// run watches both buckets until ctx ends.
func (c *catalog) run(ctx context.Context, models, workers jetstream.KeyValue) error {
	mw, err := models.WatchAll(ctx)
	if err != nil {
		return err
	}
	ww, err := workers.WatchAll(ctx)
	if err != nil {
		_ = mw.Stop()
		return err
	}
	go func() {
		defer func() { _ = mw.Stop(); _ = ww.Stop() }()
		mSynced, wSynced := false, false
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-mw.Updates():
				if !ok {
					return
				}
				if e == nil {
					mSynced = true
				} else {
					c.applyModel(e)
				}
			case e, ok := <-ww.Updates():
				if !ok {
					return
				}
				if e == nil {
					wSynced = true
				} else {
					c.applyWorker(e)
				}
			}
			if mSynced && wSynced {
				c.mu.Lock()
				c.synced = true
				c.mu.Unlock()
			}
		}
	}()
	return nil
}

func (c *catalog) applyModel(e jetstream.KeyValueEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(c.models, e.Key())
		return
	}
	var m model.Metadata
	if err := json.Unmarshal(e.Value(), &m); err != nil {
		c.log.Warn().Err(err).Str("key", e.Key()).Msg("ignoring bad model metadata")
		return
	}
	if err := m.Validate(); err != nil {
		c.log.Warn().Err(err).Str("key", e.Key()).Msg("ignoring invalid model metadata")
		return
	}
	c.models[e.Key()] = &m
}

func (c *catalog) applyWorker(e jetstream.KeyValueEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(c.workers, e.Key())
		return
	}
	var w wire.WorkerInfo
	if err := json.Unmarshal(e.Value(), &w); err != nil {
		c.log.Warn().Err(err).Str("key", e.Key()).Msg("ignoring bad worker info")
		return
	}
	c.workers[e.Key()] = w
}

// isSynced reports whether the initial state of both buckets was loaded.
func (c *catalog) isSynced() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.synced
}

// liveWorkers returns workers seen within the TTL, sorted by id.
func (c *catalog) liveWorkers(now time.Time) []wire.WorkerInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]wire.WorkerInfo, 0, len(c.workers))
	for _, w := range c.workers {
		if now.Sub(w.LastSeen) <= wire.DefaultWorkerTTL {
			out = append(out, w)
		}
	}
	slices.SortFunc(out, func(a, b wire.WorkerInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// rate is the items/s the live workers last ran of model ("name:version").
func (c *catalog) rate(model string, now time.Time) float64 {
	r := 0.0
	for _, w := range c.liveWorkers(now) {
		r += w.ItemsPerSecByModel[model]
	}
	return r
}

// list returns every model version with its live worker count, sorted by
// name then version (numeric-aware).
func (c *catalog) list(now time.Time) []api.ModelInfo {
	counts := map[string]int{}
	for _, w := range c.liveWorkers(now) {
		for _, id := range w.Models {
			counts[id]++
		}
	}
	c.mu.RLock()
	out := make([]api.ModelInfo, 0, len(c.models))
	for _, m := range c.models {
		n := counts[m.ID()]
		out = append(out, api.ModelInfo{Metadata: *m, ItemSize: m.ItemSize(), Workers: n, Ready: n > 0})
	}
	c.mu.RUnlock()
	slices.SortFunc(out, func(a, b api.ModelInfo) int {
		if a.Name != b.Name {
			return strings.Compare(a.Name, b.Name)
		}
		return model.CompareVersions(a.Version, b.Version)
	})
	return out
}

// resolve finds name:version; an empty version means the highest one.
func (c *catalog) resolve(name, version string) (*model.Metadata, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if version != "" {
		m, ok := c.models[wire.ModelKey(name, version)]
		return m, ok
	}
	var best *model.Metadata
	for _, m := range c.models {
		if m.Name == name && (best == nil || model.CompareVersions(m.Version, best.Version) > 0) {
			best = m
		}
	}
	return best, best != nil
}
