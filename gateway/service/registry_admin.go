package service

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// Retire retires a pushed version: no new work is routed to it from now
// on; the registry's upkeep deletes it once what was sent to it is done
// (its jobs' chunks, its queued predictions), and its workers then unload
// it. A version an alias routes to is refused: change the alias first.
func (s *Service) Retire(ctx context.Context, name, version string) (api.RegistryVersion, error) {
	if !model.ValidName(name) || !model.ValidName(version) {
		return api.RegistryVersion{}, api.Errorf(api.CodeBadRequest, "model %s:%s: name and version must be %s", name, version, nameRule)
	}
	if a := s.aliasesTo(name, version); len(a) > 0 {
		return api.RegistryVersion{}, api.Errorf(api.CodeConflict, "model %s:%s is routed to by alias %s: change or delete it first", name, version, strings.Join(a, ", "))
	}
	ctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	v, err := s.reg.Get(ctx, name, version)
	switch {
	case errors.Is(err, store.ErrVersionNotFound) || (err == nil && v.Deleted):
		return api.RegistryVersion{}, s.notInRegistry(name, version)
	case err != nil:
		return api.RegistryVersion{}, registryErr(err, name, version)
	case v.Meta.State == wire.RegistryChecking:
		return api.RegistryVersion{}, api.Errorf(api.CodeConflict, "model %s:%s is being pushed: retire it once its push ends", name, version)
	}
	if v.Meta.State != wire.RegistryRetiring {
		now := time.Now().UTC()
		v.Meta.State, v.Meta.RetiringAt = wire.RegistryRetiring, &now
		if err := s.reg.SetMeta(ctx, name, version, v.NUID, v.Meta); err != nil {
			return api.RegistryVersion{}, registryErr(err, name, version)
		}
		s.log.Info().Str("model", v.ID()).Str("by", caller(ctx).KeyID).Msg("model version retired")
	}
	key := wire.ModelKey(name, version)
	s.awaitCatalog(ctx, v.ID(), func() bool {
		v, ok := s.cat.registry[key]
		return !ok || v.Meta.State == wire.RegistryRetiring
	})
	info := s.versionInfo(v, nil, nil)
	for _, e := range s.cat.entries(name, time.Now()) {
		if e.meta.Version == version {
			info.Workers = e.workers
		}
	}
	return info, nil
}

// notInRegistry answers a registry operation on a version that is not
// pushed: one from a models directory, or none.
func (s *Service) notInRegistry(name, version string) error {
	for _, e := range s.cat.entries(name, time.Now()) {
		if e.meta.Version == version && e.source == wire.SourceDisk {
			return api.Errorf(api.CodeConflict, "model %s:%s is served from the workers' models directory, not the registry: remove it there", name, version)
		}
	}
	return api.Errorf(api.CodeUnknownModel, "model %s:%s is not in the registry", name, version)
}

// aliasesTo names the aliases of a model that route to version.
func (s *Service) aliasesTo(name, version string) []string {
	var out []string
	for _, a := range s.cat.aliasList(name) {
		if a.Weights[version] > 0 {
			out = append(out, a.Name)
		}
	}
	return out
}

// Versions lists a model's versions, pushed or from a models directory,
// with their state; pushes in progress are listed as checking.
func (s *Service) Versions(ctx context.Context, name string) (api.RegistryVersions, error) {
	if !model.ValidName(name) {
		return api.RegistryVersions{}, api.Errorf(api.CodeBadRequest, "model name %q is invalid", name)
	}
	ctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	fresh, err := s.reg.List(ctx)
	if err != nil {
		return api.RegistryVersions{}, registryErr(err, name, "")
	}
	out := api.RegistryVersions{Name: name, Versions: s.mergeFresh(name, fresh)}
	claims, err := s.reg.Claims(ctx)
	if err != nil {
		return out, registryErr(err, name, "")
	}
	now := time.Now()
	for key, c := range claims {
		if v, ok := strings.CutPrefix(key, name+"."); ok && now.Before(c.Until) {
			at := c.Since
			out.Versions = append(out.Versions, api.RegistryVersion{Name: name, Version: v, Source: wire.SourceRegistry,
				State: api.StateChecking, PushedAt: &at, PushedBy: c.By})
		}
	}
	if len(out.Versions) == 0 {
		return out, api.Errorf(api.CodeUnknownModel, "unknown model %s", name)
	}
	slices.SortFunc(out.Versions, func(a, b api.RegistryVersion) int { return model.CompareVersions(a.Version, b.Version) })
	return out, nil
}

// mergeFresh lists a model's versions from the catalogue, brought up to
// date with the registry's records just read (the catalogue follows them
// a moment later): a listing right after a push or a retirement shows it.
func (s *Service) mergeFresh(name string, fresh []store.Version) []api.RegistryVersion {
	now := time.Now()
	errs := s.loadErrors(now)
	byVersion := map[string]store.Version{}
	for _, v := range fresh {
		if v.Name == name && !v.Deleted && v.Meta.State != wire.RegistryChecking {
			byVersion[v.Version] = v
		}
	}
	out := []api.RegistryVersion{}
	for _, e := range s.cat.entries(name, now) {
		v, ok := byVersion[e.meta.Version]
		if e.source == wire.SourceRegistry && !ok {
			continue // deleted meanwhile
		}
		info := s.entryInfo(e, errs[e.meta.ID()])
		if ok && v.Meta.State == wire.RegistryRetiring {
			info.State, info.RetiringAt = api.StateRetiring, v.Meta.RetiringAt
		}
		delete(byVersion, e.meta.Version)
		out = append(out, info)
	}
	for _, v := range byVersion {
		out = append(out, s.versionInfo(v, nil, errs[v.ID()]))
	}
	return out
}

// loadErrors are the live workers' load errors, by version then worker.
func (s *Service) loadErrors(now time.Time) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, w := range s.cat.liveWorkers(now) {
		for id, msg := range w.LoadErrors {
			if out[id] == nil {
				out[id] = map[string]string{}
			}
			out[id][w.ID] = msg
		}
	}
	return out
}

// entryInfo is a catalogue entry as the registry lists it.
func (s *Service) entryInfo(e entry, loadErrs map[string]string) api.RegistryVersion {
	var v api.RegistryVersion
	if e.reg != nil {
		v = s.versionInfo(*e.reg, e.meta, loadErrs)
	} else {
		v = api.RegistryVersion{Name: e.meta.Name, Version: e.meta.Version, Metadata: e.meta}
	}
	v.Source, v.State, v.Workers = e.source, e.state, e.workers
	v.Aliases = s.aliasesTo(e.meta.Name, e.meta.Version)
	return v
}

// versionInfo is a pushed version as the registry lists it.
func (s *Service) versionInfo(v store.Version, meta *model.Metadata, loadErrs map[string]string) api.RegistryVersion {
	if meta == nil && len(v.Meta.Model) > 0 {
		meta = registryMeta(v)
	}
	state := api.StateLoading
	if v.Meta.State == wire.RegistryRetiring {
		state = api.StateRetiring
	}
	at := v.Meta.PushedAt
	return api.RegistryVersion{
		Name: v.Name, Version: v.Version, Source: wire.SourceRegistry, State: state, Format: v.Meta.Format,
		Size: v.Size, Digest: v.Digest, Runtimes: v.Meta.Runtimes, PushedAt: &at, PushedBy: v.Meta.PushedBy,
		RetiringAt: v.Meta.RetiringAt, LoadErrors: loadErrs, Metadata: meta,
	}
}

// SetAlias points alias of model name at versions with weights (in
// percent, summing to 100), each a version that takes work now.
func (s *Service) SetAlias(ctx context.Context, name, alias string, weights map[string]int) (api.Alias, error) {
	if err := s.checkAlias(name, alias, weights); err != nil {
		return api.Alias{}, err
	}
	a := wire.Alias{Model: name, Name: alias, Weights: maps.Clone(weights), UpdatedAt: time.Now().UTC(), UpdatedBy: caller(ctx).KeyID}
	ctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	if err := s.reg.SetAlias(ctx, a); err != nil {
		return api.Alias{}, queueErr(err)
	}
	s.log.Info().Str("model", name).Str("alias", alias).Interface("weights", weights).Str("by", a.UpdatedBy).Msg("model alias set")
	key := wire.AliasKey(name, alias)
	s.awaitCatalog(ctx, key, func() bool {
		got, ok := s.cat.aliases[key]
		return ok && !got.UpdatedAt.Before(a.UpdatedAt)
	})
	return api.Alias{Model: name, Name: alias, Weights: a.Weights, UpdatedAt: a.UpdatedAt}, nil
}

func (s *Service) checkAlias(name, alias string, weights map[string]int) error {
	if !model.ValidName(name) || !model.ValidName(alias) {
		return api.Errorf(api.CodeBadRequest, "model %q, alias %q: each must be %s", name, alias, nameRule)
	}
	if len(weights) == 0 {
		return api.Errorf(api.CodeBadRequest, `weights are missing: give {"weights": {"VERSION": PERCENT, ...}}`)
	}
	byVersion := map[string]entry{}
	for _, e := range s.cat.entries(name, time.Now()) {
		byVersion[e.meta.Version] = e
	}
	if _, ok := byVersion[alias]; ok {
		return api.Errorf(api.CodeConflict, "model %s has a version %s: an alias may not have a version's name", name, alias)
	}
	sum := 0
	for _, v := range slices.Sorted(maps.Keys(weights)) {
		w := weights[v]
		e, ok := byVersion[v]
		switch {
		case w < 0 || w > 100:
			return api.Errorf(api.CodeBadRequest, "weight of version %s is %d: weights are percentages, 0 to 100", v, w)
		case !ok:
			return api.Errorf(api.CodeUnknownModel, "alias %s: model %s has no version %s", alias, name, v)
		case e.state == api.StateRetiring:
			return api.Errorf(api.CodeConflict, "alias %s: model %s:%s is retired", alias, name, v)
		}
		sum += w
	}
	if sum != 100 {
		return api.Errorf(api.CodeBadRequest, "alias %s: the weights sum to %d, not 100", alias, sum)
	}
	return nil
}

// DeleteAlias removes an alias.
func (s *Service) DeleteAlias(ctx context.Context, name, alias string) error {
	if !model.ValidName(name) || !model.ValidName(alias) {
		return api.Errorf(api.CodeBadRequest, "model %q, alias %q: each must be %s", name, alias, nameRule)
	}
	ctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	err := s.reg.DeleteAlias(ctx, name, alias)
	switch {
	case errors.Is(err, store.ErrAliasNotFound):
		return api.Errorf(api.CodeNotFound, "model %s has no alias %s", name, alias)
	case err != nil:
		return queueErr(err)
	}
	s.log.Info().Str("model", name).Str("alias", alias).Str("by", caller(ctx).KeyID).Msg("model alias deleted")
	key := wire.AliasKey(name, alias)
	s.awaitCatalog(ctx, key, func() bool {
		_, ok := s.cat.aliases[key]
		return !ok
	})
	return nil
}

// awaitCatalog waits until this gateway's catalogue shows a registry
// write it just made (seen runs with the catalogue read-locked), so that
// the caller's next request sees it. The write is done either way: if the
// watch lags past ctx, that is logged and the answer goes out.
func (s *Service) awaitCatalog(ctx context.Context, what string, seen func() bool) {
	if !s.cat.await(ctx, seen) {
		s.log.Warn().Str("key", what).Msg("registry write not yet seen by the catalogue")
	}
}
