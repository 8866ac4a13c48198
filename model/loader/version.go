package loader

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"batchinfer/model"
)

// ErrNoRuntime is matched when none of the runtimes given loads a version's
// files (a LiteRT-only process given a SavedModel).
var ErrNoRuntime = errors.New("no runtime for the model's files")

// ModelFiles are the files that make a directory a model version, by the
// runtime that loads them.
var ModelFiles = map[string]string{model.SavedModelFile: "tensorflow", model.TFLiteFile: "litert"}

// LoadVersion loads the version in dir, laid out as <name>/<version>, with
// the first runtime whose file it holds, and warms it up. Its metadata.json,
// if any, must name the same name and version as the directories.
func LoadVersion(dir string, runtimes []Runtime, warmup model.Warmup) (Loaded, error) {
	if err := checkNames(dir); err != nil {
		return Loaded{}, err
	}
	rt, ok := runtimeFor(dir, runtimes)
	if !ok {
		return Loaded{}, fmt.Errorf("%w: %s holds no files that %s load", ErrNoRuntime, filepath.Base(dir), runtimeNames(runtimes))
	}
	m, err := rt.Load(dir)
	if err != nil {
		return Loaded{}, fmt.Errorf("%s: %w", rt.Name, err)
	}
	if err := warmup.Run(m); err != nil {
		return Loaded{}, errors.Join(err, m.Close())
	}
	return Loaded{Model: m, Runtime: rt.Name, Dir: dir}, nil
}

func checkNames(dir string) error {
	given, err := model.ReadMetadataFile(dir)
	if err != nil {
		return err
	}
	return model.CheckDirNames(given, dir)
}

// Checked is what Check found of a version.
type Checked struct {
	// Meta is the version's metadata, completed from its model file.
	Meta *model.Metadata
	// Runtimes loaded and warmed the version up; Unchecked are the model
	// files it holds that no runtime given loads.
	Runtimes  []string
	Unchecked []string
}

// Check loads the version in dir (laid out as <name>/<version>) with every
// runtime given whose file it holds, warms each up and closes it again: a
// version that passes loads on any worker that links one of them. When it
// holds several model files (a SavedModel and model.tflite), they must
// agree on the input, the output and the labels. A version none of the
// runtimes can load is refused with an error matching ErrNoRuntime.
func Check(dir string, runtimes []Runtime, warmup model.Warmup) (*Checked, error) {
	if err := checkNames(dir); err != nil {
		return nil, err
	}
	c := &Checked{}
	for _, rt := range runtimes {
		if !hasFile(dir, rt.File) || slices.Contains(c.Runtimes, rt.Name) {
			continue
		}
		meta, err := checkOne(dir, rt, warmup)
		if err != nil {
			return nil, err
		}
		if c.Meta != nil {
			if err := agree(c.Meta, meta, c.Runtimes[0], rt.Name); err != nil {
				return nil, err
			}
		} else {
			c.Meta = meta
		}
		c.Runtimes = append(c.Runtimes, rt.Name)
	}
	for file := range ModelFiles {
		if hasFile(dir, file) && !slices.ContainsFunc(runtimes, func(rt Runtime) bool { return rt.File == file }) {
			c.Unchecked = append(c.Unchecked, file)
		}
	}
	slices.Sort(c.Unchecked)
	if c.Meta == nil {
		return nil, fmt.Errorf("%w: %s holds no files that %s load", ErrNoRuntime, model.DirID(&model.Metadata{}, dir), runtimeNames(runtimes))
	}
	return c, nil
}

func checkOne(dir string, rt Runtime, warmup model.Warmup) (*model.Metadata, error) {
	m, err := rt.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rt.Name, err)
	}
	err = warmup.Run(m)
	meta := m.Meta()
	return meta, errors.Join(err, m.Close())
}

// agree checks that two runtimes read the same model from a version's two
// files.
func agree(a, b *model.Metadata, ra, rb string) error {
	switch {
	case !slices.Equal(a.Input.Shape, b.Input.Shape):
		return fmt.Errorf("the %s and %s models disagree: input shape %v and %v", ra, rb, a.Input.Shape, b.Input.Shape)
	case !slices.Equal(a.Output.Shape, b.Output.Shape):
		return fmt.Errorf("the %s and %s models disagree: output shape %v and %v", ra, rb, a.Output.Shape, b.Output.Shape)
	case !slices.Equal(a.Labels, b.Labels):
		return fmt.Errorf("the %s and %s models disagree on the labels", ra, rb)
	}
	return nil
}

func hasFile(dir, file string) bool {
	fi, err := os.Stat(filepath.Join(dir, file))
	return err == nil && !fi.IsDir()
}
