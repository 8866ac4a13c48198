package service

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

var errClosedWatch = errors.New("watch closed")

// entry is one model version as the catalogue knows it.
type entry struct {
	meta    *model.Metadata
	source  string
	state   string // api.State*
	workers int
	reg     *store.Version // its registry record (a pushed version)
}

// routable says whether new work may go to the version: a worker loaded
// and warmed it up once, and it is not retired.
func (e entry) routable() bool { return e.state == api.StateReady || e.state == api.StateUnserved }

// entries are the catalogue's versions (of one model, or every one with
// name ""), sorted by name then version. A version pushed to the registry
// is listed from its commit (loading) until it is deleted; one announced
// from a registry version no longer in the registry is not.
func (c *catalog) entries(name string, now time.Time) []entry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	counts := map[string]int{}
	for _, w := range c.liveLocked(now) {
		for _, id := range w.Models {
			counts[id]++
		}
	}
	out := append(c.announcedLocked(name, counts), c.unannouncedLocked(name)...)
	slices.SortFunc(out, func(a, b entry) int {
		if a.meta.Name != b.meta.Name {
			return strings.Compare(a.meta.Name, b.meta.Name)
		}
		return model.CompareVersions(a.meta.Version, b.meta.Version)
	})
	return out
}

// announcedLocked are the versions workers announced (once loaded and
// warmed up), with their live worker counts.
func (c *catalog) announcedLocked(name string, counts map[string]int) []entry {
	var out []entry
	for key, a := range c.models {
		if name != "" && a.meta.Name != name {
			continue
		}
		e := entry{meta: a.meta, source: a.source, workers: counts[a.meta.ID()], state: api.StateUnserved}
		if v, ok := c.registry[key]; ok {
			e.source, e.reg = wire.SourceRegistry, &v
		} else if a.source == wire.SourceRegistry {
			continue // retired and deleted: the announcement goes next
		}
		if e.workers > 0 {
			e.state = api.StateReady
		}
		if e.reg != nil && e.reg.Meta.State == wire.RegistryRetiring {
			e.state = api.StateRetiring
		}
		out = append(out, e)
	}
	return out
}

// unannouncedLocked are the committed registry versions no worker has
// announced yet.
func (c *catalog) unannouncedLocked(name string) []entry {
	var out []entry
	for key, v := range c.registry {
		if _, ok := c.models[key]; ok || (name != "" && v.Name != name) || v.Meta.State == wire.RegistryChecking {
			continue
		}
		e := entry{source: wire.SourceRegistry, state: api.StateLoading, reg: &v, meta: registryMeta(v)}
		if v.Meta.State == wire.RegistryRetiring {
			e.state = api.StateRetiring
		}
		out = append(out, e)
	}
	return out
}

// registryMeta is a pushed version's metadata as its check completed it
// (its name and version alone if the record has none).
func registryMeta(v store.Version) *model.Metadata {
	var m model.Metadata
	if len(v.Meta.Model) == 0 || json.Unmarshal(v.Meta.Model, &m) != nil {
		m = model.Metadata{}
	}
	m.Name, m.Version = v.Name, v.Version
	return &m
}

// list returns every model version with its live worker count, sorted by
// name then version (numeric-aware).
func (c *catalog) list(now time.Time) []api.ModelInfo {
	es := c.entries("", now)
	out := make([]api.ModelInfo, 0, len(es))
	for _, e := range es {
		out = append(out, api.ModelInfo{Metadata: *e.meta, ItemSize: e.meta.ItemSize(), Workers: e.workers,
			Ready: e.state == api.StateReady, Source: e.source, State: e.state})
	}
	return out
}

// aliasList returns the aliases (of one model, or all with name ""),
// sorted by model then name.
func (c *catalog) aliasList(name string) []api.Alias {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := []api.Alias{}
	for _, a := range c.aliases {
		if name == "" || a.Model == name {
			out = append(out, api.Alias{Model: a.Model, Name: a.Name, Weights: a.Weights, UpdatedAt: a.UpdatedAt})
		}
	}
	slices.SortFunc(out, func(a, b api.Alias) int {
		if a.Model != b.Model {
			return strings.Compare(a.Model, b.Model)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// alias returns the alias name.alias, if there is one.
func (c *catalog) alias(name, alias string) (wire.Alias, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	a, ok := c.aliases[wire.AliasKey(name, alias)]
	return a, ok
}

// resolve routes a request for name and version: an alias (a version of
// its drawn by weight among those routable), a version (routable: a
// worker loaded and warmed it once, and it is not retired), or, with no
// version, the highest version a live worker serves (the highest routable
// when none is served now, so that work queues while workers restart).
// Otherwise it answers unknown_model or not_ready, saying why.
func (c *catalog) resolve(name, version string, now time.Time) (*model.Metadata, error) {
	es := c.entries(name, now)
	if a, ok := c.alias(name, version); ok {
		return c.resolveAlias(a, es)
	}
	if version != "" {
		return resolveVersion(name, version, es)
	}
	var best, bestReady *entry
	for i := range es {
		if e := &es[i]; e.routable() {
			best = e
			if e.state == api.StateReady {
				bestReady = e
			}
		}
	}
	switch {
	case bestReady != nil:
		return bestReady.meta, nil
	case best != nil:
		return best.meta, nil
	case len(es) > 0:
		return nil, notRoutable(es[len(es)-1])
	}
	return nil, api.Errorf(api.CodeUnknownModel, "unknown model %s", name)
}

func resolveVersion(name, version string, es []entry) (*model.Metadata, error) {
	for _, e := range es {
		if e.meta.Version != version {
			continue
		}
		if e.routable() {
			return e.meta, nil
		}
		return nil, notRoutable(e)
	}
	return nil, api.Errorf(api.CodeUnknownModel, "unknown model %s version %s", name, version)
}

// notRoutable says why a version takes no new work.
func notRoutable(e entry) error {
	if e.state == api.StateRetiring {
		return api.Errorf(api.CodeUnknownModel, "model %s is retired: it takes no new work", e.meta.ID())
	}
	return api.RetryLater(api.CodeNotReady, 2*time.Second, nil,
		"model %s is registered but no worker has loaded and warmed it up yet: retry shortly", e.meta.ID())
}

// resolveAlias draws one of an alias's routable versions by weight.
func (c *catalog) resolveAlias(a wire.Alias, es []entry) (*model.Metadata, error) {
	byVersion := map[string]entry{}
	for _, e := range es {
		byVersion[e.meta.Version] = e
	}
	versions := make([]string, 0, len(a.Weights))
	total := 0
	for v, w := range a.Weights {
		if e, ok := byVersion[v]; ok && e.routable() && w > 0 {
			versions = append(versions, v)
			total += w
		}
	}
	if total == 0 {
		return nil, api.RetryLater(api.CodeNotReady, 2*time.Second, nil,
			"alias %s of model %s: none of its versions takes work now", a.Name, a.Model)
	}
	slices.SortFunc(versions, model.CompareVersions)
	n := c.pick(total)
	for _, v := range versions {
		if n -= a.Weights[v]; n < 0 {
			return byVersion[v].meta, nil
		}
	}
	return byVersion[versions[len(versions)-1]].meta, nil
}
