package model

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
)

// MetadataFile is the name of the metadata file in each model version directory.
const MetadataFile = "metadata.json"

// Model kinds.
const (
	KindImage   = "image"
	KindTabular = "tabular"
)

// Metadata describes one version of a model. It is written by the Python
// export pipeline next to the SavedModel and checked against the SavedModel's
// signature when the worker loads it.
type Metadata struct {
	Name          string     `json:"name"`
	Version       string     `json:"version"`
	Description   string     `json:"description"`
	Kind          string     `json:"kind"`
	BenchmarkOnly bool       `json:"benchmark_only,omitempty"`
	Signature     string     `json:"signature"`
	Input         TensorSpec `json:"input"`
	Output        TensorSpec `json:"output"`
	Labels        []string   `json:"labels"`
	Features      []string   `json:"features,omitempty"`
	// FeatureRanges, when set, has one range per input value, from the
	// training data; Examples are real inputs to try (see examples.go).
	FeatureRanges []FeatureRange `json:"feature_ranges,omitempty"`
	Examples      []Example      `json:"examples,omitempty"`
	Preprocessing Preprocessing  `json:"preprocessing"`
	TopK          int            `json:"top_k,omitempty"`
	ChunkSize     int            `json:"chunk_size,omitempty"`
	// MaxBatch, when set, is the largest batch worth running: past it
	// items/s stop growing (large inputs) and latency only grows.
	MaxBatch  int                `json:"max_batch,omitempty"`
	Metrics   map[string]float64 `json:"metrics,omitempty"`
	TFVersion string             `json:"tensorflow_version,omitempty"`
}

// TensorSpec describes a signature tensor. Shape includes the batch dimension
// first, as -1.
type TensorSpec struct {
	Key   string   `json:"key"`
	DType string   `json:"dtype"`
	Shape []int64  `json:"shape"`
	Min   *float64 `json:"min,omitempty"`
	Max   *float64 `json:"max,omitempty"`
}

// Preprocessing says how raw inputs become the model's input tensor.
type Preprocessing struct {
	// Note is a human description of the expected input scale.
	Note string `json:"note,omitempty"`
	// Image is set for image models that accept encoded images.
	Image *ImagePreprocessing `json:"image,omitempty"`
}

// ImagePreprocessing turns an encoded image into the input tensor: decode,
// convert to Channels, resize to Width×Height (area average), optionally
// invert (for dark ink on a light background), then scale 0..255 linearly to
// [RangeMin, RangeMax].
type ImagePreprocessing struct {
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Channels int     `json:"channels"`
	Invert   bool    `json:"invert,omitempty"`
	RangeMin float64 `json:"range_min"`
	RangeMax float64 `json:"range_max"`
}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidName reports whether s may be used as a model name or version: it is
// used in NATS subjects and URLs.
func ValidName(s string) bool { return namePattern.MatchString(s) }

// ItemSize is the number of elements of one input item (the product of the
// input shape without the batch dimension).
func (m *Metadata) ItemSize() int { return elems(m.Input.Shape) }

// OutputSize is the number of elements of one output item.
func (m *Metadata) OutputSize() int { return elems(m.Output.Shape) }

func elems(shape []int64) int {
	if len(shape) < 2 {
		return 0
	}
	n := 1
	for _, d := range shape[1:] {
		n *= int(d)
	}
	return n
}

// ID is "name:version".
func (m *Metadata) ID() string { return m.Name + ":" + m.Version }

// Validate checks the metadata for internal consistency.
func (m *Metadata) Validate() error {
	var errs []error
	if !ValidName(m.Name) {
		errs = append(errs, fmt.Errorf("name %q must match %s", m.Name, namePattern))
	}
	if !ValidName(m.Version) {
		errs = append(errs, fmt.Errorf("version %q must match %s", m.Version, namePattern))
	}
	if m.Kind != KindImage && m.Kind != KindTabular {
		errs = append(errs, fmt.Errorf("kind %q must be %q or %q", m.Kind, KindImage, KindTabular))
	}
	errs = append(errs, m.Input.check("input"), m.Output.check("output"), m.checkOutputs(), m.checkInputs(), m.checkExamples())
	if m.TopK < 0 || m.ChunkSize < 0 || m.MaxBatch < 0 {
		errs = append(errs, errors.New("top_k, chunk_size and max_batch must not be negative"))
	}
	return errors.Join(errs...)
}

// check validates one tensor: key, dtype, and a shape [-1, positive...].
func (t TensorSpec) check(what string) error {
	var errs []error
	if t.Key == "" {
		errs = append(errs, fmt.Errorf("%s.key is empty", what))
	}
	if t.DType != "float32" {
		errs = append(errs, fmt.Errorf("%s.dtype %q: only float32 is supported", what, t.DType))
	}
	if len(t.Shape) < 2 || t.Shape[0] != -1 {
		return errors.Join(append(errs, fmt.Errorf("%s.shape %v must start with the batch dimension -1", what, t.Shape))...)
	}
	for _, d := range t.Shape[1:] {
		if d <= 0 {
			return errors.Join(append(errs, fmt.Errorf("%s.shape %v: dimensions after the batch must be positive", what, t.Shape))...)
		}
	}
	return errors.Join(errs...)
}

// checkOutputs: one label per output class.
func (m *Metadata) checkOutputs() error {
	if len(m.Output.Shape) != 2 {
		return fmt.Errorf("output.shape %v must be [-1, classes]", m.Output.Shape)
	}
	if len(m.Labels) != int(m.Output.Shape[1]) {
		return fmt.Errorf("%d labels for %d output classes", len(m.Labels), m.Output.Shape[1])
	}
	return nil
}

// checkInputs: feature names of a tabular model, image preprocessing of an
// image model, both matching the input's size.
func (m *Metadata) checkInputs() error {
	var errs []error
	if m.Kind == KindTabular && len(m.Features) != m.ItemSize() {
		errs = append(errs, fmt.Errorf("%d feature names for an input of %d elements", len(m.Features), m.ItemSize()))
	}
	if p := m.Preprocessing.Image; p != nil {
		if p.Width*p.Height*p.Channels != m.ItemSize() {
			errs = append(errs, fmt.Errorf("preprocessing.image %dx%dx%d does not match input of %d elements", p.Width, p.Height, p.Channels, m.ItemSize()))
		}
		if p.Channels != 1 && p.Channels != 3 {
			errs = append(errs, fmt.Errorf("preprocessing.image.channels %d must be 1 or 3", p.Channels))
		}
	}
	return errors.Join(errs...)
}

// ReadMetadata reads and validates dir/metadata.json.
func ReadMetadata(dir string) (*Metadata, error) {
	b, err := os.ReadFile(filepath.Join(dir, MetadataFile))
	if err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	var m Metadata
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, MetadataFile), err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("invalid %s: %w", filepath.Join(dir, MetadataFile), err)
	}
	return &m, nil
}

// Model files: a version directory holding SavedModelFile is a TensorFlow
// SavedModel; one holding a file named TFLiteFile (or, given as a path, any
// file ending in TFLiteExt) is a TFLite model. A directory may hold both.
const (
	SavedModelFile = "saved_model.pb"
	TFLiteFile     = "model.tflite"
	TFLiteExt      = ".tflite"
)

// Discover finds model version directories under root, laid out as
// root/<name>/<version>/ holding metadata.json, a SavedModel or a TFLite
// model, and returns their paths in sorted order.
func Discover(root string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, file := range []string{MetadataFile, SavedModelFile, TFLiteFile} {
		found, err := filepath.Glob(filepath.Join(root, "*", "*", file))
		if err != nil {
			return nil, fmt.Errorf("discover models in %q: %w", root, err)
		}
		for _, f := range found {
			if d := filepath.Dir(f); !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
