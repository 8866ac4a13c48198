package service

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// catalog mirrors the models, workers and aliases buckets and the model
// registry in memory. It is a cache rebuilt from JetStream at start, never
// a source of truth.
type catalog struct {
	log zerolog.Logger

	mu      sync.RWMutex
	models  map[string]announced       // by name.version: announced by a worker
	workers map[string]wire.WorkerInfo // by worker id
	// registry holds the registry's versions (not deleted), by
	// name.version; aliases the aliases, by name.alias.
	registry map[string]store.Version
	aliases  map[string]wire.Alias
	synced   [4]bool // models, workers, registry, aliases
	// pick draws an integer in [0, n) for weighted aliases.
	pick func(n int) int
	// published is closed, and replaced, each time a registry watch
	// publishes what it loaded (await waits on it).
	published chan struct{}
}

// announced is a model version a worker announced, and where it came from.
type announced struct {
	meta   *model.Metadata
	source string
}

// Which initial load each synced flag is.
const (
	syncModels = iota
	syncWorkers
	syncRegistry
	syncAliases
)

func newCatalog(log zerolog.Logger) *catalog {
	return &catalog{
		log: log, models: map[string]announced{}, workers: map[string]wire.WorkerInfo{},
		registry: map[string]store.Version{}, aliases: map[string]wire.Alias{}, pick: rand.IntN,
		published: make(chan struct{}),
	}
}

// run watches the buckets and the registry until ctx ends.
func (c *catalog) run(ctx context.Context, models, workers jetstream.KeyValue, reg *store.Registry, ep *natsx.Epoch) error {
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
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-mw.Updates():
				if !ok {
					return
				}
				c.applyKV(e, syncModels, c.applyModel)
			case e, ok := <-ww.Updates():
				if !ok {
					return
				}
				c.applyKV(e, syncWorkers, c.applyWorker)
			}
		}
	}()
	go c.followRegistry(ctx, reg, ep)
	return nil
}

// applyKV applies a bucket's entry, or marks its initial load done (nil).
func (c *catalog) applyKV(e jetstream.KeyValueEntry, which int, apply func(jetstream.KeyValueEntry)) {
	if e != nil {
		apply(e)
		return
	}
	c.mu.Lock()
	c.synced[which] = true
	c.mu.Unlock()
}

func (c *catalog) applyModel(e jetstream.KeyValueEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(c.models, e.Key())
		return
	}
	var v struct {
		model.Metadata
		wire.ModelAnnouncement
	}
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		c.log.Warn().Err(err).Str("key", e.Key()).Msg("ignoring bad model metadata")
		return
	}
	if err := v.Metadata.Validate(); err != nil {
		c.log.Warn().Err(err).Str("key", e.Key()).Msg("ignoring invalid model metadata")
		return
	}
	if v.Source == "" {
		v.Source = wire.SourceDisk
	}
	c.models[e.Key()] = announced{meta: &v.Metadata, source: v.Source}
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

// followRegistry watches the registry and the aliases, again after each
// reconnect (a deletion may have been missed meanwhile): what the new
// watches load replaces what was known.
func (c *catalog) followRegistry(ctx context.Context, reg *store.Registry, ep *natsx.Epoch) {
	unsynced := 0 // watches in a row that did not sync in time
	for ctx.Err() == nil {
		err := c.watchRegistry(ctx, reg, ep.Changed(), store.WatchSyncWait(unsynced))
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, store.ErrNotSynced):
			unsynced++
			c.log.Warn().Int("tries", unsynced).Msg("registry watch not synced in time, watching again")
		case err != nil:
			unsynced = 0
			c.log.Warn().Err(err).Msg("registry watch failed, watching again")
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		default:
			unsynced = 0
		}
	}
}

func (c *catalog) watchRegistry(ctx context.Context, reg *store.Registry, changed <-chan struct{}, syncWait time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	rw, err := reg.Watch(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = rw.Stop() }()
	aw, err := reg.WatchAliases(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = aw.Stop() }()
	v := &registryView{versions: map[string]store.Version{}, aliases: map[string]wire.Alias{}}
	syncBy := time.After(syncWait)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			return nil
		case <-syncBy:
			if !v.vSynced {
				return store.ErrNotSynced
			}
		case info, ok := <-rw.Updates():
			if !ok {
				return errClosedWatch
			}
			v.version(info)
		case e, ok := <-aw.Updates():
			if !ok {
				return errClosedWatch
			}
			v.alias(e)
		}
		c.publish(v)
	}
}

// registryView is what a registry watch has loaded so far.
type registryView struct {
	versions         map[string]store.Version
	aliases          map[string]wire.Alias
	vSynced, aSynced bool
}

func (v *registryView) version(info *jetstream.ObjectInfo) {
	if info == nil {
		v.vSynced = true
		return
	}
	applyVersion(v.versions, info)
}

func (v *registryView) alias(e jetstream.KeyValueEntry) {
	if e == nil {
		v.aSynced = true
		return
	}
	applyAlias(v.aliases, e)
}

// publish makes what a watch loaded the catalogue's, once it is whole.
func (c *catalog) publish(v *registryView) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v.vSynced {
		c.registry, c.synced[syncRegistry] = maps.Clone(v.versions), true
	}
	if v.aSynced {
		c.aliases, c.synced[syncAliases] = maps.Clone(v.aliases), true
	}
	close(c.published)
	c.published = make(chan struct{})
}

// await waits until the catalogue shows what seen looks for (called with
// the catalogue read-locked), or until ctx ends, and says which. A
// registry write this gateway made waits for its own watch to deliver it,
// so that the caller's next request here sees the write (a retired
// version takes no prediction once its retirement is answered).
func (c *catalog) await(ctx context.Context, seen func() bool) bool {
	for {
		c.mu.RLock()
		ok, next := seen(), c.published
		c.mu.RUnlock()
		if ok {
			return true
		}
		select {
		case <-next:
		case <-ctx.Done():
			return false
		}
	}
}

func applyVersion(versions map[string]store.Version, info *jetstream.ObjectInfo) {
	v, ok := store.VersionOf(info)
	if !ok {
		return
	}
	if v.Deleted {
		delete(versions, wire.ModelKey(v.Name, v.Version))
		return
	}
	versions[wire.ModelKey(v.Name, v.Version)] = v
}

func applyAlias(aliases map[string]wire.Alias, e jetstream.KeyValueEntry) {
	var a wire.Alias
	if e.Operation() != jetstream.KeyValuePut || json.Unmarshal(e.Value(), &a) != nil {
		delete(aliases, e.Key())
		return
	}
	aliases[e.Key()] = a
}

// isSynced reports whether the initial state of every watch was loaded.
func (c *catalog) isSynced() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return !slices.Contains(c.synced[:], false)
}

// liveWorkers returns workers seen within the TTL, sorted by id.
func (c *catalog) liveWorkers(now time.Time) []wire.WorkerInfo {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.liveLocked(now)
}

func (c *catalog) liveLocked(now time.Time) []wire.WorkerInfo {
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

// workersByModel is the live worker count of every registered model
// version (name:version), 0 for one that none serves.
func (c *catalog) workersByModel(now time.Time) map[string]int {
	out := map[string]int{}
	for _, m := range c.list(now) {
		out[m.ID()] = m.Workers
	}
	return out
}

// storesJSON reports whether a live worker of model ("name:version")
// stores its results as JSON (WORKER_RESULT_FORMAT=json, or a worker older
// than the compact form, which names no format): admission then sizes the
// model's results as JSON, ~6 times the compact form.
func (c *catalog) storesJSON(model string, now time.Time) bool {
	for _, w := range c.liveWorkers(now) {
		if w.ResultFormat != wire.ResultFormatCompact && slices.Contains(w.Models, model) {
			return true
		}
	}
	return false
}
