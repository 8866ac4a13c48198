package service

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// keeper is the registry's upkeep, run by the gateway whose scheduler
// leads (one at a time; every step is idempotent, so a change of leader
// only repeats some): a retired version is deleted once drained, then,
// once no worker serves it, its consumers and announcement go and, a
// little later, its deleted record; pushes whose gateway died are cleaned
// up.
type keeper struct {
	cfg     RegistryConfig
	reg     *store.Registry
	cat     *catalog
	in      consumerInfo
	leading func() bool
	pinned  func(name, version string) int
	log     zerolog.Logger
	// unannounced are the deleted versions (by NUID) whose consumers and
	// announcement are gone already.
	unannounced map[string]bool
	// quiet is what the last sweep found, when it found nothing to do.
	quiet quietMark
}

// quietMark is a registry found with nothing to do, at stamp, since when.
type quietMark struct {
	ok    bool
	stamp store.Stamp
	since time.Time
}

// quietRecheck is the longest a quiet registry goes without a sweep.
const quietRecheck = time.Minute

// consumerInfo reads a consumer's state (the work queue's streams).
type consumerInfo func(ctx context.Context, stream, consumer string) (*jetstream.ConsumerInfo, error)

// markerAges is how many sweep intervals the record of a deleted version
// (and its announcement's delete marker) stays, for watchers to see it.
const markerAges = 10

// StartKeeper starts the registry's upkeep; it acts while leading()
// (the scheduler's lead) and asks pinned for the unfinished jobs of a
// version. It stops with the Service.
func (s *Service) StartKeeper(leading func() bool, pinned func(name, version string) int) {
	k := &keeper{
		cfg: s.cfg.Registry, reg: s.reg, cat: s.cat, leading: leading, pinned: pinned, unannounced: map[string]bool{},
		log: s.log.With().Str("component", "registry-keeper").Logger(),
		in: func(ctx context.Context, stream, consumer string) (*jetstream.ConsumerInfo, error) {
			c, err := s.in.JS.Consumer(ctx, stream, consumer)
			if err != nil {
				return nil, err
			}
			return c.Info(ctx)
		},
	}
	s.keeperDone = make(chan struct{})
	go func() {
		defer close(s.keeperDone)
		k.run(s.ctx)
	}()
}

func (k *keeper) run(ctx context.Context) {
	t := time.NewTicker(k.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !k.leading() {
			k.quiet = quietMark{} // a new lead starts with a sweep
			continue
		}
		if err := k.tick(ctx); err != nil && ctx.Err() == nil {
			k.log.Warn().Err(err).Msg("registry upkeep failed, trying again")
		}
	}
}

// tick sweeps, unless the registry is quiet: the last sweep found nothing
// to do, and the registry's stamp (two stream infos, where a sweep lists
// with consumers of its own) has not changed since, for at most
// quietRecheck. Only a change to the registry gives a quiet registry
// something to do: every upkeep that waits for time (a drain's grace, a
// claim's deadline, a young orphan, a deleted version's markers) keeps it
// from being quiet.
func (k *keeper) tick(ctx context.Context) error {
	var st store.Stamp
	stampErr := k.op(ctx, func(ctx context.Context) (err error) {
		st, err = k.reg.Stamp(ctx)
		return err
	})
	now := time.Now()
	if stampErr == nil && k.quiet.ok && k.quiet.stamp == st && now.Sub(k.quiet.since) < quietRecheck {
		return nil
	}
	busy, err := k.sweep(ctx)
	if stampErr != nil || err != nil || busy {
		k.quiet = quietMark{}
	} else {
		k.quiet = quietMark{ok: true, stamp: st, since: now}
	}
	return errors.Join(stampErr, err)
}

// sweep runs one round of upkeep, each step with a timeout of its own. It
// says whether anything is left for later sweeps.
func (k *keeper) sweep(ctx context.Context) (busy bool, err error) {
	var versions []store.Version
	var claims map[string]wire.PushClaim
	err = k.op(ctx, func(ctx context.Context) (err error) {
		if versions, err = k.reg.List(ctx); err == nil {
			claims, err = k.reg.Claims(ctx)
		}
		return err
	})
	if err != nil {
		return true, err
	}
	now := time.Now()
	busy = len(claims) > 0
	var errs []error
	for _, v := range versions {
		busy = busy || v.Deleted || v.Meta.State == wire.RegistryRetiring || v.Meta.State == wire.RegistryChecking
		errs = append(errs, k.op(ctx, func(ctx context.Context) error { return k.version(ctx, v, claims, now) }))
	}
	for key, c := range claims {
		if now.After(c.Until) {
			name, version, _ := strings.Cut(key, ".")
			errs = append(errs, k.op(ctx, func(ctx context.Context) error { return k.reg.Release(ctx, name, version) }))
		}
	}
	errs = append(errs, k.op(ctx, func(ctx context.Context) error {
		_, left, err := k.reg.SweepOrphans(ctx, k.cfg.PushTimeout)
		busy = busy || left > 0
		return err
	}))
	return busy, errors.Join(errs...)
}

// op runs one step of upkeep with its own timeout.
func (k *keeper) op(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	return f(ctx)
}

// version moves one version on, if its time has come.
func (k *keeper) version(ctx context.Context, v store.Version, claims map[string]wire.PushClaim, now time.Time) error {
	switch {
	case v.Deleted:
		return k.finish(ctx, v, now)
	case v.Meta.State == wire.RegistryRetiring:
		if v.Meta.RetiringAt == nil || now.Sub(*v.Meta.RetiringAt) < k.cfg.DrainGrace {
			return nil
		}
		drained, err := k.drained(ctx, v)
		if err != nil || !drained {
			return err
		}
		k.log.Info().Str("model", v.ID()).Msg("retired model version drained: deleted")
		return k.reg.Remove(ctx, v.Name, v.Version)
	case v.Meta.State == wire.RegistryChecking:
		if c, ok := claims[wire.ModelKey(v.Name, v.Version)]; ok && now.Before(c.Until) {
			return nil // its push is under way
		}
		cur, err := k.reg.Get(ctx, v.Name, v.Version)
		if err != nil || cur.NUID != v.NUID || cur.Meta.State != wire.RegistryChecking {
			return nil // committed or gone meanwhile
		}
		k.log.Warn().Str("model", v.ID()).Msg("abandoned push discarded")
		return k.reg.Discard(ctx, v)
	}
	return nil
}

// drained says whether a retired version has no work left: no unfinished
// job uses it, and its queues hold nothing waiting or in flight.
func (k *keeper) drained(ctx context.Context, v store.Version) (bool, error) {
	if k.pinned(v.Name, v.Version) > 0 {
		return false, nil
	}
	for _, prio := range wire.Priorities {
		info, err := k.in(ctx, wire.StreamInfer, wire.ConsumerName(prio, v.Name, v.Version))
		if errors.Is(err, jetstream.ErrConsumerNotFound) {
			continue
		}
		if err != nil {
			return false, err
		}
		if info.NumPending > 0 || info.NumAckPending > 0 {
			return false, nil
		}
	}
	return true, nil
}

// finish cleans up after a deleted version: once no live worker serves
// it, its consumers, queued leftovers and announcement go; markerAges
// sweeps after its deletion, the markers and its record go too.
func (k *keeper) finish(ctx context.Context, v store.Version, now time.Time) error {
	for _, w := range k.cat.liveWorkers(now) {
		if slices.Contains(w.Models, v.ID()) {
			return nil // still draining there
		}
	}
	if !k.unannounced[v.NUID] {
		if err := k.reg.Unannounce(ctx, v.Name, v.Version); err != nil {
			return err
		}
		k.unannounced[v.NUID] = true
	}
	if now.Sub(v.ModTime) < markerAges*k.cfg.SweepInterval {
		return nil
	}
	if err := k.reg.DropModelMarkers(ctx, []string{wire.ModelKey(v.Name, v.Version)}); err != nil {
		return err
	}
	if err := k.reg.Forget(ctx, v); err != nil {
		return err
	}
	delete(k.unannounced, v.NUID)
	k.log.Info().Str("model", v.ID()).Msg("retired model version gone")
	return nil
}
