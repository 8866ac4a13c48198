package worker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"sync"
	"time"

	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"
	"batchinfer/model/loader"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// RegistrySource is how a worker serves the versions pushed to the model
// registry: it watches the registry and loads each version committed
// there (that Only selects and its runtimes load) without a restart,
// warms it up, starts a lane for it and announces it; a version deleted
// from the registry (retired, then drained) has its lane stopped, once
// what it holds is finished, and is unloaded. It also checks pushed
// versions for the gateways: a worker whose runtimes load SavedModels
// checks any, the others TFLite ones.
type RegistrySource struct {
	// Runtimes load the versions, in order of preference (package
	// loader's; a version runs on the first whose file it holds).
	Runtimes []loader.Runtime
	// Warmup runs on each version loaded or checked, before it serves.
	Warmup model.Warmup
	// Only, when given, restricts the versions loaded to these models:
	// "name" or "name:version" (as WORKER_MODELS).
	Only []string
	// Dir is where versions are unpacked while they load ("": the system's
	// temporary directory); each is removed once loaded.
	Dir string
	// Check checks a pushed version (nil: InProcessChecker with Runtimes
	// and Warmup). The commands check in a subprocess (SubprocessChecker):
	// a model file that crashes its runtime must not crash the worker.
	Check Checker
}

func (s *RegistrySource) validate() error {
	if len(s.Runtimes) == 0 {
		return errors.New("registry: no runtimes to load versions with")
	}
	if s.Dir == "" {
		s.Dir = os.TempDir()
	}
	if fi, err := os.Stat(s.Dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("registry: %s is not a directory", s.Dir)
	}
	if s.Check == nil {
		s.Check = InProcessChecker(s.Runtimes, s.Warmup)
	}
	return nil
}

// full says whether the runtimes load SavedModels (and so can check any
// version).
func (s *RegistrySource) full() bool {
	return slices.ContainsFunc(s.Runtimes, func(rt loader.Runtime) bool { return rt.File == model.SavedModelFile })
}

// wants says whether the worker loads v: Only selects it and one of the
// runtimes loads one of its files.
func (s *RegistrySource) wants(v store.Version) bool {
	if len(s.Only) > 0 && !slices.Contains(s.Only, v.Name) && !slices.Contains(s.Only, v.ID()) {
		return false
	}
	return slices.ContainsFunc(s.Runtimes, func(rt loader.Runtime) bool { return slices.Contains(v.Meta.Runtimes, rt.Name) })
}

// registry is a worker's side of the model registry.
type registry struct {
	w     *Worker
	src   RegistrySource
	store *store.Registry
	log   zerolog.Logger

	mu      sync.Mutex
	want    map[string]store.Version // the registry's versions, by id, as last seen
	synced  bool
	loaded  map[string]*served
	failed  map[string]failure
	closing bool
	// loading is the version being loaded (nil: none): its load stops
	// when the registry deletes it meanwhile.
	loading *inLoad

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	checks []*nats.Subscription
}

// served is a registry version the worker serves.
type served struct {
	nuid  string
	lane  *lane
	model loader.Model
}

// inLoad is a version being loaded, and how to stop its load.
type inLoad struct {
	id, nuid string
	stop     context.CancelCauseFunc
}

// failure is a version that did not load here, and why.
type failure struct {
	nuid string
	err  string
}

// startRegistry starts watching the registry and answering checks.
func (w *Worker) startRegistry(ctx context.Context) error {
	if w.regSrc == nil {
		return nil
	}
	st, err := store.NewRegistry(ctx, w.in)
	if err != nil {
		return err
	}
	r := &registry{
		w: w, src: *w.regSrc, store: st, log: w.log.With().Str("component", "registry").Logger(),
		want: map[string]store.Version{}, loaded: map[string]*served{}, failed: map[string]failure{},
		wake: make(chan struct{}, 1),
	}
	r.ctx, r.cancel = context.WithCancel(w.ctx)
	w.registry = r
	if err := r.subscribeChecks(); err != nil {
		return err
	}
	r.wg.Add(2)
	go r.watch()
	go r.apply()
	return nil
}

// stop ends the watch and the checks; loads and unloads under way finish.
func (r *registry) stop() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.closing = true
	r.mu.Unlock()
	r.cancel()
	for _, s := range r.checks {
		_ = s.Drain()
	}
	r.wg.Wait()
}

// close unloads every version once its lane is done (after the worker
// drained or killed them).
func (r *registry) close() {
	if r == nil {
		return
	}
	r.mu.Lock()
	all := slices.Collect(maps.Values(r.loaded))
	clear(r.loaded)
	r.mu.Unlock()
	for _, s := range all {
		go func() {
			<-s.lane.done
			_ = s.model.Close()
		}()
	}
}

// loadErrors are the versions that did not load here, with the reason.
func (r *registry) loadErrors() map[string]string {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.failed) == 0 {
		return nil
	}
	out := make(map[string]string, len(r.failed))
	for id, f := range r.failed {
		out[id] = f.err
	}
	return out
}

func (r *registry) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// watch follows the registry's records into want. It watches again after
// each reconnect (a record deleted meanwhile may have been missed), and the
// versions then seen replace want.
func (r *registry) watch() {
	defer r.wg.Done()
	unsynced := 0 // watches in a row that did not sync in time
	for r.ctx.Err() == nil {
		err := r.watchOnce(store.WatchSyncWait(unsynced))
		switch {
		case r.ctx.Err() != nil:
		case errors.Is(err, store.ErrNotSynced):
			unsynced++
			r.log.Warn().Int("tries", unsynced).Msg("registry watch not synced in time, watching again")
		case err != nil:
			unsynced = 0
			r.log.Warn().Err(err).Msg("registry watch failed, watching again")
			select {
			case <-r.ctx.Done():
			case <-time.After(time.Second):
			}
		default:
			unsynced = 0
		}
	}
}

func (r *registry) watchOnce(syncWait time.Duration) error {
	changed := r.w.in.Epoch.Changed()
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	wt, err := r.store.Watch(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = wt.Stop() }()
	seen, synced := map[string]store.Version{}, false
	syncBy := time.After(syncWait)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
			return nil
		case <-syncBy:
			if !synced {
				return store.ErrNotSynced
			}
		case info, ok := <-wt.Updates():
			if !ok {
				return errors.New("registry watch closed")
			}
			if info != nil {
				if v, ok := store.VersionOf(info); ok {
					seen[v.ID()] = v
				}
			} else {
				synced = true
			}
			if synced {
				r.mu.Lock()
				r.want, r.synced = maps.Clone(seen), true
				r.stopGoneLoadLocked()
				r.mu.Unlock()
				r.poke()
			}
		}
	}
}

// apply loads and unloads versions until want is served, one at a time.
func (r *registry) apply() {
	defer r.wg.Done()
	for {
		select {
		case <-r.ctx.Done():
			return
		case <-r.wake:
		}
		for r.step() {
		}
	}
}

// step makes one change towards want and says whether there may be more.
func (r *registry) step() bool {
	r.mu.Lock()
	if r.closing || !r.synced {
		r.mu.Unlock()
		return false
	}
	for id, s := range r.loaded {
		if v, ok := r.want[id]; !ok || v.Deleted || v.NUID != s.nuid {
			delete(r.loaded, id)
			r.mu.Unlock()
			r.unload(id, s)
			return true
		}
	}
	for id, f := range r.failed {
		if v, ok := r.want[id]; !ok || v.Deleted || v.NUID != f.nuid {
			delete(r.failed, id)
		}
	}
	next := r.nextLocked()
	r.mu.Unlock()
	if next == nil {
		return false
	}
	r.load(*next)
	return true
}

// nextLocked is the next version to load: an active one first (a retired
// one is loaded too, for the work left for it, if no active one waits).
func (r *registry) nextLocked() *store.Version {
	var next *store.Version
	for id, v := range r.want {
		_, isLoaded := r.loaded[id]
		_, isFailed := r.failed[id]
		if isLoaded || isFailed || v.Deleted || v.Meta.State == wire.RegistryChecking || !r.src.wants(v) {
			continue
		}
		if v.Meta.State == wire.RegistryActive {
			return &v
		}
		next = &v
	}
	return next
}

// startLoading records v as the version being loaded, with stop to end its
// load; it returns errDeleted when v is gone from the registry already.
func (r *registry) startLoading(v store.Version, stop context.CancelCauseFunc) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.loading = &inLoad{id: v.ID(), nuid: v.NUID, stop: stop}
	if r.stopGoneLoadLocked() {
		return fmt.Errorf("%s: %w", v.ID(), errDeleted)
	}
	return nil
}

func (r *registry) doneLoading() {
	r.mu.Lock()
	r.loading = nil
	r.mu.Unlock()
}

// stopGoneLoadLocked stops the load under way when its version was deleted
// from the registry (or replaced) meanwhile: a read of a version whose
// files the registry purged as it was read would otherwise wait for them
// until loadTimeout, and the worker load nothing else. It reports whether
// it stopped one.
func (r *registry) stopGoneLoadLocked() bool {
	l := r.loading
	if l == nil {
		return false
	}
	if v, ok := r.want[l.id]; ok && !v.Deleted && v.NUID == l.nuid {
		return false
	}
	l.stop(errDeleted)
	return true
}
