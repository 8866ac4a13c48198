package model

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// DefaultSignature is the serving signature a runtime reads when
// metadata.json names none (or there is no metadata.json).
const DefaultSignature = "serving_default"

// Signature is what a runtime reads from a model file: one serving
// signature's input and output tensors. Shapes put the batch dimension first;
// a dimension the file leaves open is -1.
type Signature struct {
	// Source names the kind of model file in errors: "SavedModel",
	// "TFLite model".
	Source string
	// Name is the signature's key.
	Name    string
	Inputs  []TensorSpec
	Outputs []TensorSpec
}

// ErrSignatureMismatch is matched (errors.Is) when a model file's signature
// does not agree with metadata.json: the signature or a key is missing, or a
// dtype or shape differs. The error is a *SignatureError.
var ErrSignatureMismatch = errors.New("model signature does not match metadata")

// SignatureError says how a model file's signature differs from the model's
// metadata. It matches ErrSignatureMismatch.
type SignatureError struct {
	// Source is the kind of model file (Signature.Source).
	Source string
	// Tensor is "input" or "output", or "" when the signature itself is
	// missing or malformed.
	Tensor string
	// Key is the metadata's key for Tensor, or the signature name when Tensor
	// is "".
	Key string
	// Field is what differs: "signature", "key", "dtype", "shape",
	// "encoding", "inputs" or "outputs".
	Field string
	// Metadata and Model are the two values, formatted.
	Metadata, Model string
}

// Error formats the mismatch, e.g.
// input "pixels": shape [-1 8 8 1] in metadata, [-1 64] in SavedModel.
func (e *SignatureError) Error() string {
	switch {
	case e.Field == "signature":
		return fmt.Sprintf("signature %q: not in %s (it has %s)", e.Key, e.Source, e.Model)
	case e.Tensor == "":
		return fmt.Sprintf("signature %q: %s %s in metadata, %s in %s", e.Key, e.Field, e.Metadata, e.Model, e.Source)
	case e.Field == "key":
		return fmt.Sprintf("%s %q: key not in %s signature (it has %s)", e.Tensor, e.Key, e.Source, e.Model)
	default:
		return fmt.Sprintf("%s %q: %s %s in metadata, %s in %s", e.Tensor, e.Key, e.Field, e.Metadata, e.Model, e.Source)
	}
}

// Unwrap returns ErrSignatureMismatch.
func (e *SignatureError) Unwrap() error { return ErrSignatureMismatch }

// QuotedKeys formats names for errors: sorted, quoted, in brackets; names
// starting with "__" (internal ones such as __saved_model_init_op) are left
// out.
func QuotedKeys(names []string) string {
	keys := make([]string, 0, len(names))
	for _, k := range names {
		if !strings.HasPrefix(k, "__") {
			keys = append(keys, strconv.Quote(k))
		}
	}
	slices.Sort(keys)
	return "[" + strings.Join(keys, " ") + "]"
}

func tensorKeys(ts []TensorSpec) []string {
	keys := make([]string, len(ts))
	for i, t := range ts {
		keys[i] = t.Key
	}
	return keys
}

// match finds the signature tensor that spec (from metadata.json, possibly
// partial) names, checks the fields spec gives and returns the spec with the
// missing ones filled from the signature. With no key in spec, the signature
// must have exactly one tensor of the kind.
func (s *Signature) match(what string, spec TensorSpec, ts []TensorSpec) (TensorSpec, error) {
	var got *TensorSpec
	switch {
	case spec.Key != "":
		for i := range ts {
			if ts[i].Key == spec.Key {
				got = &ts[i]
			}
		}
		if got == nil {
			return spec, &SignatureError{Source: s.Source, Tensor: what, Key: spec.Key, Field: "key", Model: QuotedKeys(tensorKeys(ts))}
		}
	case len(ts) == 1:
		got = &ts[0]
	default:
		return spec, &SignatureError{Source: s.Source, Key: s.Name, Field: what + "s", Metadata: "no " + what + ".key",
			Model: fmt.Sprintf("%d (%s)", len(ts), QuotedKeys(tensorKeys(ts)))}
	}
	if spec.DType != "" && spec.DType != got.DType {
		return spec, &SignatureError{Source: s.Source, Tensor: what, Key: got.Key, Field: "dtype", Metadata: spec.DType, Model: got.DType}
	}
	if spec.Shape != nil && !shapeFits(spec.Shape, got.Shape) {
		return spec, &SignatureError{Source: s.Source, Tensor: what, Key: got.Key, Field: "shape", Metadata: fmt.Sprint(spec.Shape), Model: shapeString(got.Shape)}
	}
	spec.Key, spec.DType = got.Key, got.DType
	if spec.Shape == nil {
		spec.Shape = slices.Clone(got.Shape)
	}
	return spec, nil
}

// shapeFits reports whether a model file's shape fits the metadata shape
// [-1, d1, d2, ...]: same rank, a variable batch dimension, and each other
// dimension equal or unknown (-1) in the file. A nil file shape is an
// unknown rank.
func shapeFits(meta, file []int64) bool {
	if file == nil || len(meta) != len(file) || len(file) == 0 || file[0] != -1 {
		return false
	}
	for i, d := range file[1:] {
		if d != -1 && d != meta[i+1] {
			return false
		}
	}
	return true
}

func shapeString(s []int64) string {
	if s == nil {
		return "unknown rank"
	}
	return fmt.Sprint(s)
}
