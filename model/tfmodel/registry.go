package tfmodel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"batchinfer/model"
)

// Registry holds loaded model versions by name and version. Its methods are
// safe for concurrent use; Close must not run concurrently with the others.
type Registry struct {
	byName map[string][]*Model // versions sorted ascending (CompareVersions in package model)
	all    []*Model
}

// LoadDir loads every model version under root, laid out as
// root/<name>/<version>/ (see model.Discover). Each directory's metadata must
// name the same name and version as its path.
//
// only, when given, restricts loading to the listed models: "name" selects
// every version of a model, "name:version" one version; naming a model that
// does not exist is an error. Models marked benchmark_only are skipped unless
// only names them.
//
// If any selected model fails to load, LoadDir closes those it loaded and
// returns the error.
func LoadDir(root string, opts Options, only ...string) (*Registry, error) {
	selected, err := selectModels(root, only)
	if err != nil {
		return nil, err
	}
	r := &Registry{byName: make(map[string][]*Model)}
	for _, dir := range selected {
		m, err := Load(dir, opts)
		if err != nil {
			return nil, errors.Join(err, r.Close())
		}
		r.all = append(r.all, m)
		r.byName[m.meta.Name] = append(r.byName[m.meta.Name], m)
	}
	slices.SortFunc(r.all, compareModels)
	for _, vs := range r.byName {
		slices.SortFunc(vs, compareModels)
	}
	return r, nil
}

// selectModels reads every model's metadata under root and returns the
// directories of those only names (or all but benchmark-only ones).
func selectModels(root string, only []string) ([]string, error) {
	dirs, err := model.Discover(root)
	if err != nil {
		return nil, err
	}
	matched := make([]bool, len(only))
	var selected []string
	for _, dir := range dirs {
		meta, err := model.ReadMetadataFile(dir)
		if err != nil {
			return nil, fmt.Errorf("load models in %q: %w", root, err)
		}
		if err := model.CheckDirNames(meta, dir); err != nil {
			return nil, fmt.Errorf("load models in %q: %w", root, err)
		}
		if _, err := os.Stat(filepath.Join(dir, model.SavedModelFile)); err != nil {
			continue // not a SavedModel (a TFLite model only): package litert serves it
		}
		meta.Name, meta.Version = filepath.Base(filepath.Dir(dir)), filepath.Base(dir)
		named := false
		for i, o := range only {
			if o == meta.Name || o == meta.ID() {
				matched[i], named = true, true
			}
		}
		if named || (len(only) == 0 && !meta.BenchmarkOnly) {
			selected = append(selected, dir)
		}
	}
	for i, o := range only {
		if !matched[i] {
			return nil, fmt.Errorf("load models in %q: no model %q", root, o)
		}
	}
	return selected, nil
}

func compareModels(a, b *Model) int {
	if c := strings.Compare(a.meta.Name, b.meta.Name); c != 0 {
		return c
	}
	return model.CompareVersions(a.meta.Version, b.meta.Version)
}

// Get returns the model version name:version. An empty version selects the
// highest version, compared with model.CompareVersions (so "10" is above "9").
func (r *Registry) Get(name, version string) (*Model, bool) {
	vs := r.byName[name]
	if len(vs) == 0 {
		return nil, false
	}
	if version == "" {
		return vs[len(vs)-1], true
	}
	for _, m := range vs {
		if m.meta.Version == version {
			return m, true
		}
	}
	return nil, false
}

// Models returns the loaded model versions sorted by name, then version.
func (r *Registry) Models() []*Model { return slices.Clone(r.all) }

// Close closes every model and returns their errors joined.
func (r *Registry) Close() error {
	var errs []error
	for _, m := range r.all {
		errs = append(errs, m.Close())
	}
	return errors.Join(errs...)
}
