package tfmodel

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"batchinfer/model"
)

// Registry holds loaded model versions by name and version. Its methods are
// safe for concurrent use; Close must not run concurrently with the others.
type Registry struct {
	byName map[string][]*Model // versions sorted ascending (CompareVersions)
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
	dirs, err := model.Discover(root)
	if err != nil {
		return nil, err
	}
	matched := make([]bool, len(only))
	var selected []string
	for _, dir := range dirs {
		meta, err := model.ReadMetadata(dir)
		if err != nil {
			return nil, fmt.Errorf("load models in %q: %w", root, err)
		}
		if name, version := filepath.Base(filepath.Dir(dir)), filepath.Base(dir); meta.Name != name || meta.Version != version {
			return nil, fmt.Errorf("load models in %q: %s says %s, its directory %s:%s", root, filepath.Join(dir, model.MetadataFile), meta.ID(), name, version)
		}
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

func compareModels(a, b *Model) int {
	if c := strings.Compare(a.meta.Name, b.meta.Name); c != 0 {
		return c
	}
	return CompareVersions(a.meta.Version, b.meta.Version)
}

// Get returns the model version name:version. An empty version selects the
// highest version, compared with CompareVersions (so "10" is above "9").
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

// CompareVersions orders version strings naturally: runs of digits compare as
// numbers ("2" < "10"), everything else byte by byte. It returns -1, 0 or +1.
func CompareVersions(a, b string) int {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			// Compare the runs as numbers without overflow: strip leading
			// zeros, then the longer run is larger.
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if c := len(ta) - len(tb); c != 0 {
				return sign(c)
			}
			if c := strings.Compare(ta, tb); c != 0 {
				return c
			}
			if c := len(na) - len(nb); c != 0 {
				return sign(c)
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			if da != db {
				// Numbers sort before other characters.
				if da {
					return -1
				}
				return 1
			}
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return sign(len(a) - len(b))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitRun(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
