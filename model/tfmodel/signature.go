package tfmodel

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"batchinfer/model"

	tspb "github.com/galeone/tensorflow/tensorflow/go/core/framework/tensor_shape_go_proto"
	dtpb "github.com/galeone/tensorflow/tensorflow/go/core/framework/types_go_proto"
	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// ErrSignatureMismatch is matched (errors.Is) by Load's error when the
// SavedModel's signature does not agree with metadata.json: the signature or a
// key is missing, or a dtype or shape differs. The error is a
// *SignatureError.
var ErrSignatureMismatch = errors.New("SavedModel signature does not match metadata")

// SignatureError says how a SavedModel's signature differs from the model's
// metadata. It matches ErrSignatureMismatch.
type SignatureError struct {
	// Tensor is "input" or "output", or "" when the signature itself is
	// missing or malformed.
	Tensor string
	// Key is the metadata's key for Tensor, or the signature name when Tensor
	// is "".
	Key string
	// Field is what differs: "signature", "key", "dtype", "shape" or
	// "inputs".
	Field string
	// Metadata and SavedModel are the two values, formatted.
	Metadata, SavedModel string
}

// Error formats the mismatch, e.g.
// input "pixels": shape [-1 8 8 1] in metadata, [-1 64] in SavedModel.
func (e *SignatureError) Error() string {
	switch {
	case e.Field == "signature":
		return fmt.Sprintf("signature %q: not in SavedModel (it has %s)", e.Key, e.SavedModel)
	case e.Tensor == "":
		return fmt.Sprintf("signature %q: %s %s in metadata, %s in SavedModel", e.Key, e.Field, e.Metadata, e.SavedModel)
	case e.Field == "key":
		return fmt.Sprintf("%s %q: key not in SavedModel signature (it has %s)", e.Tensor, e.Key, e.SavedModel)
	default:
		return fmt.Sprintf("%s %q: %s %s in metadata, %s in SavedModel", e.Tensor, e.Key, e.Field, e.Metadata, e.SavedModel)
	}
}

// Unwrap returns ErrSignatureMismatch.
func (e *SignatureError) Unwrap() error { return ErrSignatureMismatch }

// readSignature reads the signature named name from the "serve" meta graph of
// the SavedModel in dir. The galeone binding's LoadSavedModel would return the
// signatures, but tfgo hides them; reading saved_model.pb also lets Load
// refuse a mismatch before it spends time loading the variables.
func readSignature(dir, name string) (*corepb.SignatureDef, error) {
	path := filepath.Join(dir, "saved_model.pb")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read SavedModel: %w", err)
	}
	var sm corepb.SavedModel
	if err := (proto.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(b, &sm); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	var mg *corepb.MetaGraphDef
	var tagSets []string
	for _, g := range sm.GetMetaGraphs() {
		tags := g.GetMetaInfoDef().GetTags()
		tagSets = append(tagSets, fmt.Sprint(tags))
		if len(tags) == 1 && tags[0] == ServeTag {
			mg = g
			break
		}
	}
	if mg == nil {
		return nil, fmt.Errorf("%s: no meta graph tagged %q (tag sets: %s)", path, ServeTag, strings.Join(tagSets, ", "))
	}
	sigs := mg.GetSignatureDef()
	sig, ok := sigs[name]
	if !ok {
		return nil, &SignatureError{Key: name, Field: "signature", Metadata: name, SavedModel: quotedKeys(sigs)}
	}
	return sig, nil
}

// checkSignature compares sig with meta's input and output specs and returns
// the graph tensor names ("op:index") of the input and the output.
func checkSignature(meta *model.Metadata, sig *corepb.SignatureDef) (input, output string, err error) {
	ins := sig.GetInputs()
	if len(ins) != 1 {
		return "", "", &SignatureError{Key: meta.Signature, Field: "inputs", Metadata: "1 (" + strconv.Quote(meta.Input.Key) + ")", SavedModel: fmt.Sprintf("%d (%s)", len(ins), quotedKeys(ins))}
	}
	if input, err = checkTensor("input", meta.Input, ins); err != nil {
		return "", "", err
	}
	if output, err = checkTensor("output", meta.Output, sig.GetOutputs()); err != nil {
		return "", "", err
	}
	return input, output, nil
}

func checkTensor(what string, spec model.TensorSpec, infos map[string]*corepb.TensorInfo) (string, error) {
	info, ok := infos[spec.Key]
	if !ok {
		return "", &SignatureError{Tensor: what, Key: spec.Key, Field: "key", SavedModel: quotedKeys(infos)}
	}
	if info.GetName() == "" {
		// A sparse or composite tensor: it has no single dense name.
		return "", &SignatureError{Tensor: what, Key: spec.Key, Field: "encoding", Metadata: "dense", SavedModel: "not a dense tensor"}
	}
	if dt := dtypeName(info.GetDtype()); dt != spec.DType {
		return "", &SignatureError{Tensor: what, Key: spec.Key, Field: "dtype", Metadata: spec.DType, SavedModel: dt}
	}
	if s := info.GetTensorShape(); s.GetUnknownRank() || !shapeCompatible(spec.Shape, s.GetDim()) {
		got := "unknown rank"
		if !s.GetUnknownRank() {
			dims := make([]int64, len(s.GetDim()))
			for i, d := range s.GetDim() {
				dims[i] = d.GetSize()
			}
			got = fmt.Sprint(dims)
		}
		return "", &SignatureError{Tensor: what, Key: spec.Key, Field: "shape", Metadata: fmt.Sprint(spec.Shape), SavedModel: got}
	}
	return info.GetName(), nil
}

// shapeCompatible reports whether a SavedModel shape fits the metadata shape
// [-1, d1, d2, ...]: same rank, a variable batch dimension, and each other
// dimension equal or unknown (-1) in the SavedModel.
func shapeCompatible(meta []int64, dims []*tspb.TensorShapeProto_Dim) bool {
	if len(meta) != len(dims) || len(dims) == 0 || dims[0].GetSize() != -1 {
		return false
	}
	for i, d := range dims[1:] {
		if s := d.GetSize(); s != -1 && s != meta[i+1] {
			return false
		}
	}
	return true
}

// dtypeName names a TensorFlow dtype as metadata.json does (NumPy names).
func dtypeName(dt dtpb.DataType) string {
	switch dt {
	case dtpb.DataType_DT_FLOAT:
		return "float32"
	case dtpb.DataType_DT_DOUBLE:
		return "float64"
	case dtpb.DataType_DT_HALF:
		return "float16"
	case dtpb.DataType_DT_BFLOAT16:
		return "bfloat16"
	case dtpb.DataType_DT_INT8:
		return "int8"
	case dtpb.DataType_DT_INT16:
		return "int16"
	case dtpb.DataType_DT_INT32:
		return "int32"
	case dtpb.DataType_DT_INT64:
		return "int64"
	case dtpb.DataType_DT_UINT8:
		return "uint8"
	case dtpb.DataType_DT_UINT16:
		return "uint16"
	case dtpb.DataType_DT_UINT32:
		return "uint32"
	case dtpb.DataType_DT_UINT64:
		return "uint64"
	case dtpb.DataType_DT_BOOL:
		return "bool"
	case dtpb.DataType_DT_STRING:
		return "string"
	}
	return dt.String()
}

// splitTensorName splits a graph tensor name "op:index" ("op" means index 0).
func splitTensorName(name string) (string, int, error) {
	i := strings.LastIndexByte(name, ':')
	if i < 0 {
		return name, 0, nil
	}
	idx, err := strconv.Atoi(name[i+1:])
	if err != nil || idx < 0 {
		return "", 0, fmt.Errorf("bad tensor name %q", name)
	}
	return name[:i], idx, nil
}

func quotedKeys[V any](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		if strings.HasPrefix(k, "__") {
			continue // internal, such as __saved_model_init_op
		}
		keys = append(keys, strconv.Quote(k))
	}
	slices.Sort(keys)
	return "[" + strings.Join(keys, " ") + "]"
}
