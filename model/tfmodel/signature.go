package tfmodel

import (
	"fmt"
	"os"
	"path/filepath"
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
var ErrSignatureMismatch = model.ErrSignatureMismatch

// SignatureError says how a SavedModel's signature differs from the model's
// metadata (Source "SavedModel"). It matches ErrSignatureMismatch.
type SignatureError = model.SignatureError

// source names SavedModels in errors.
const source = "SavedModel"

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
		return nil, &SignatureError{Source: source, Key: name, Field: "signature", Metadata: name, Model: quotedKeys(sigs)}
	}
	return sig, nil
}

// checkSignature completes the metadata given (see model.Complete) from the
// SavedModel signature sig of the version in dir, and returns it with the
// graph tensor names ("op:index") of the input and the output.
func checkSignature(dir string, given *model.Metadata, sig *corepb.SignatureDef) (meta *model.Metadata, input, output string, err error) {
	ms := model.Signature{Source: source, Name: given.SignatureName()}
	names := map[string]string{} // "input key" or "output key" -> tensor name
	for _, side := range []struct {
		what  string
		infos map[string]*corepb.TensorInfo
		specs *[]model.TensorSpec
	}{{"input", sig.GetInputs(), &ms.Inputs}, {"output", sig.GetOutputs(), &ms.Outputs}} {
		for key, info := range side.infos {
			if info.GetName() == "" {
				// A sparse or composite tensor: it has no single dense name.
				return nil, "", "", &SignatureError{Source: source, Tensor: side.what, Key: key, Field: "encoding", Metadata: "dense", Model: "not a dense tensor"}
			}
			*side.specs = append(*side.specs, model.TensorSpec{Key: key, DType: dtypeName(info.GetDtype()), Shape: shapeOf(info.GetTensorShape())})
			names[side.what+" "+key] = info.GetName()
		}
	}
	if meta, err = model.Complete(given, &ms, dir); err != nil {
		return nil, "", "", err
	}
	return meta, names["input "+meta.Input.Key], names["output "+meta.Output.Key], nil
}

// shapeOf returns a SavedModel shape, -1 for unknown dimensions, nil for an
// unknown rank.
func shapeOf(s *tspb.TensorShapeProto) []int64 {
	if s.GetUnknownRank() {
		return nil
	}
	dims := make([]int64, len(s.GetDim()))
	for i, d := range s.GetDim() {
		dims[i] = d.GetSize()
	}
	return dims
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
		keys = append(keys, k)
	}
	return model.QuotedKeys(keys)
}
