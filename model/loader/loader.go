// Package loader loads the model versions under a directory with the
// runtime each version's files call for: a version directory holding a
// SavedModel (saved_model.pb) runs on TensorFlow, one holding model.tflite
// on LiteRT. It knows no runtime itself: the caller passes the runtimes it
// links (package tfmodel, package litert), in order of preference, so that
// a command that links only LiteRT serves only TFLite models. Each loaded
// version is warmed up before LoadDir returns.
//
// A runtime's Load takes a version directory; a registry that receives
// versions from elsewhere later can hand it a directory it wrote (a
// SavedModel, or a .tflite file as model.tflite, with or without
// metadata.json).
package loader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"batchinfer/model"
)

// Model is a loaded model version of any runtime.
type Model interface {
	model.Predictor
	Close() error
}

// Runtime loads model versions stored in one format.
type Runtime struct {
	// Name names the runtime in logs and errors: "tensorflow", "litert".
	Name string
	// File is the file whose presence in a version directory makes the
	// version this runtime's: model.SavedModelFile, model.TFLiteFile.
	File string
	// Load loads the version in a directory.
	Load func(dir string) (Model, error)
}

// Options selects and prepares the versions LoadDir loads.
type Options struct {
	// Only, when given, restricts loading to the listed models: "name"
	// selects every version of a model, "name:version" one version; naming
	// a model that does not exist, or that no runtime given can load, is an
	// error. Models marked benchmark_only are skipped unless Only names
	// them.
	Only []string
	// Warmup runs on each version after it loads.
	Warmup model.Warmup
}

// Loaded is a loaded version and the runtime that runs it.
type Loaded struct {
	Model
	Runtime string
	Dir     string
}

// Registry holds loaded model versions, sorted by name, then version.
type Registry struct {
	all []Loaded
}

// LoadDir loads the versions under root, laid out as root/<name>/<version>/
// (see model.Discover), each with the first runtime in runtimes whose file
// it holds; versions no runtime can load are skipped unless Only names
// them. Each loaded version is warmed up (opts.Warmup). If any selected
// version fails to load or warm up, LoadDir closes those it loaded and
// returns the error.
func LoadDir(root string, runtimes []Runtime, opts Options) (*Registry, error) {
	selected, err := selectVersions(root, runtimes, opts.Only)
	if err != nil {
		return nil, err
	}
	r := &Registry{}
	for _, s := range selected {
		m, err := s.rt.Load(s.dir)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%s: %w", s.rt.Name, err), r.Close())
		}
		r.all = append(r.all, Loaded{Model: m, Runtime: s.rt.Name, Dir: s.dir})
		if err := opts.Warmup.Run(m); err != nil {
			return nil, errors.Join(err, r.Close())
		}
	}
	slices.SortFunc(r.all, func(a, b Loaded) int {
		if c := strings.Compare(a.Meta().Name, b.Meta().Name); c != 0 {
			return c
		}
		return model.CompareVersions(a.Meta().Version, b.Meta().Version)
	})
	return r, nil
}

type version struct {
	dir string
	rt  Runtime
}

// selectVersions finds the versions under root that only names (or all but
// benchmark-only ones) and the runtime of each.
func selectVersions(root string, runtimes []Runtime, only []string) ([]version, error) {
	dirs, err := model.Discover(root)
	if err != nil {
		return nil, err
	}
	matched := make([]bool, len(only))
	var selected []version
	for _, dir := range dirs {
		given, err := model.ReadMetadataFile(dir)
		if err != nil {
			return nil, fmt.Errorf("load models in %q: %w", root, err)
		}
		if err := model.CheckDirNames(given, dir); err != nil {
			return nil, fmt.Errorf("load models in %q: %w", root, err)
		}
		id := model.DirID(given, dir)
		named := false
		for i, o := range only {
			if o == filepath.Base(filepath.Dir(dir)) || o == id {
				matched[i], named = true, true
			}
		}
		if !named && (len(only) > 0 || given.BenchmarkOnly) {
			continue
		}
		rt, ok := runtimeFor(dir, runtimes)
		if !ok {
			if named {
				return nil, fmt.Errorf("load models in %q: %s has no files that %s load", root, id, runtimeNames(runtimes))
			}
			continue
		}
		selected = append(selected, version{dir: dir, rt: rt})
	}
	for i, o := range only {
		if !matched[i] {
			return nil, fmt.Errorf("load models in %q: no model %q", root, o)
		}
	}
	return selected, nil
}

// runtimeFor is the first runtime whose file dir holds.
func runtimeFor(dir string, runtimes []Runtime) (Runtime, bool) {
	for _, rt := range runtimes {
		if fi, err := os.Stat(filepath.Join(dir, rt.File)); err == nil && !fi.IsDir() {
			return rt, true
		}
	}
	return Runtime{}, false
}

func runtimeNames(runtimes []Runtime) string {
	var names []string
	for _, rt := range runtimes {
		names = append(names, fmt.Sprintf("%s (%s)", rt.Name, rt.File))
	}
	return strings.Join(names, " or ")
}

// Get returns the version name:version. An empty version selects the
// highest version, compared with model.CompareVersions (so "10" is above
// "9").
func (r *Registry) Get(name, version string) (Loaded, bool) {
	var found Loaded
	ok := false
	for _, l := range r.all {
		if l.Meta().Name == name && (version == "" || l.Meta().Version == version) {
			found, ok = l, true
		}
	}
	return found, ok
}

// Models returns the loaded versions sorted by name, then version.
func (r *Registry) Models() []Loaded { return slices.Clone(r.all) }

// Close closes every version and returns their errors joined.
func (r *Registry) Close() error {
	var errs []error
	for _, l := range r.all {
		errs = append(errs, l.Close())
	}
	return errors.Join(errs...)
}
