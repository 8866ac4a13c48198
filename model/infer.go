package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// ReadMetadataFile reads dir/metadata.json as given, without requiring what
// a model file can supply (see Complete): every field may be missing. With
// no metadata.json it returns empty metadata. Unknown fields are refused, so
// that a misspelt one is not silently ignored.
func ReadMetadataFile(dir string) (*Metadata, error) {
	path := filepath.Join(dir, MetadataFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &Metadata{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read metadata: %w", err)
	}
	var m Metadata
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return &m, nil
}

// SignatureName is the serving signature the metadata names, or
// DefaultSignature.
func (m *Metadata) SignatureName() string {
	if m.Signature == "" {
		return DefaultSignature
	}
	return m.Signature
}

// Complete returns the metadata of the model version in dir: given (from
// ReadMetadataFile; it is not modified) with what it leaves out taken from
// the signature sig that the model file has.
//
//   - name and version: the directory's names, dir being <name>/<version>;
//   - signature: DefaultSignature;
//   - input and output: key, dtype and shape from the signature (with no
//     key, the signature must have exactly one input, or output); what the
//     metadata gives must agree with the signature, or the error is a
//     *SignatureError naming the field;
//   - kind: "image" for an input of rank 4 (batch, height, width,
//     channels), "tabular" otherwise;
//   - labels: "0", "1", ... one per output class;
//   - features of a tabular model: "f0", "f1", ... one per input element.
//
// Value ranges, image preprocessing, top-k, chunk size and the rest are
// only what the metadata gives. The result is validated.
func Complete(given *Metadata, sig *Signature, dir string) (*Metadata, error) {
	m := *given
	if err := m.checkGivenDTypes(); err != nil {
		return nil, err
	}
	if m.Name == "" {
		m.Name = filepath.Base(filepath.Dir(dir))
	}
	if m.Version == "" {
		m.Version = filepath.Base(dir)
	}
	m.Signature = m.SignatureName()
	if len(sig.Inputs) != 1 {
		want := "1"
		if m.Input.Key != "" {
			want += " (" + strconv.Quote(m.Input.Key) + ")"
		}
		return nil, &SignatureError{Source: sig.Source, Key: m.Signature, Field: "inputs", Metadata: want,
			Model: fmt.Sprintf("%d (%s)", len(sig.Inputs), QuotedKeys(tensorKeys(sig.Inputs)))}
	}
	var err error
	if m.Input, err = sig.match("input", m.Input, sig.Inputs); err != nil {
		return nil, err
	}
	if m.Output, err = sig.match("output", m.Output, sig.Outputs); err != nil {
		return nil, err
	}
	if err := m.checkKnownShapes(sig.Source); err != nil {
		return nil, err
	}
	m.fillDefaults()
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("metadata of %s: %w", dir, err)
	}
	return &m, nil
}

// checkGivenDTypes refuses a dtype the system cannot serve before it is
// compared with the model file.
func (m *Metadata) checkGivenDTypes() error {
	for _, t := range []struct {
		what string
		spec TensorSpec
	}{{"input", m.Input}, {"output", m.Output}} {
		if t.spec.DType != "" && t.spec.DType != "float32" {
			return fmt.Errorf("%s.dtype %q: only float32 is supported", t.what, t.spec.DType)
		}
	}
	return nil
}

// checkKnownShapes requires every dimension but the batch to be known, from
// the model file or the metadata.
func (m *Metadata) checkKnownShapes(source string) error {
	for _, t := range []struct {
		what string
		spec TensorSpec
	}{{"input", m.Input}, {"output", m.Output}} {
		for _, d := range t.spec.Shape[1:] {
			if d < 0 {
				return fmt.Errorf("%s %q: shape %v has unknown dimensions after the batch in the %s: give %s.shape in %s",
					t.what, t.spec.Key, t.spec.Shape, source, t.what, MetadataFile)
			}
		}
	}
	return nil
}

// fillDefaults sets kind, labels and feature names where the metadata has
// none.
func (m *Metadata) fillDefaults() {
	if m.Kind == "" {
		m.Kind = KindTabular
		if len(m.Input.Shape) == 4 {
			m.Kind = KindImage
		}
	}
	if m.Labels == nil && len(m.Output.Shape) == 2 {
		m.Labels = numbered("", int(m.Output.Shape[1]))
	}
	if m.Kind == KindTabular && m.Features == nil {
		m.Features = numbered("f", m.ItemSize())
	}
}

func numbered(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}

// DirID is "name:version" of the version in dir as far as the given
// metadata and the directory say, for errors before the metadata is
// complete.
func DirID(given *Metadata, dir string) string {
	name, version := given.Name, given.Version
	if name == "" {
		name = filepath.Base(filepath.Dir(dir))
	}
	if version == "" {
		version = filepath.Base(dir)
	}
	return name + ":" + version
}

// CheckDirNames checks that the metadata given for the version in dir, laid
// out as <name>/<version>, names the same name and version as the
// directories, where it names them.
func CheckDirNames(given *Metadata, dir string) error {
	name, version := filepath.Base(filepath.Dir(dir)), filepath.Base(dir)
	if (given.Name != "" && given.Name != name) || (given.Version != "" && given.Version != version) {
		return fmt.Errorf("%s says %s, its directory %s:%s", filepath.Join(dir, MetadataFile), DirID(given, dir), name, version)
	}
	return nil
}
