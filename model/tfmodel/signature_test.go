package tfmodel

import (
	"errors"
	"testing"

	"batchinfer/model"

	tspb "github.com/galeone/tensorflow/tensorflow/go/core/framework/tensor_shape_go_proto"
	dtpb "github.com/galeone/tensorflow/tensorflow/go/core/framework/types_go_proto"
	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
)

func tensorInfo(name string, dt dtpb.DataType, dims ...int64) *corepb.TensorInfo {
	s := &tspb.TensorShapeProto{}
	for _, d := range dims {
		s.Dim = append(s.Dim, &tspb.TensorShapeProto_Dim{Size: d})
	}
	return &corepb.TensorInfo{Encoding: &corepb.TensorInfo_Name{Name: name}, Dtype: dt, TensorShape: s}
}

// TestCheckSignature covers SavedModel signatures that the committed models
// cannot produce: other dtypes, fixed or unknown dimensions, several inputs.
func TestCheckSignature(t *testing.T) {
	meta := &model.Metadata{
		Name: "m", Version: "1", Kind: model.KindImage, Signature: "serving_default",
		Input:  model.TensorSpec{Key: "x", DType: "float32", Shape: []int64{-1, 8, 8, 1}},
		Output: model.TensorSpec{Key: "y", DType: "float32", Shape: []int64{-1, 10}},
	}
	out := map[string]*corepb.TensorInfo{"y": tensorInfo("StatefulPartitionedCall:0", dtpb.DataType_DT_FLOAT, -1, 10)}
	for _, tc := range []struct {
		name string
		in   map[string]*corepb.TensorInfo
		out  map[string]*corepb.TensorInfo
		want string // "" for no error
	}{
		{"match", map[string]*corepb.TensorInfo{"x": tensorInfo("serving_default_x:0", dtpb.DataType_DT_FLOAT, -1, 8, 8, 1)}, out, ""},
		{"unknown inner dimension", map[string]*corepb.TensorInfo{"x": tensorInfo("serving_default_x:0", dtpb.DataType_DT_FLOAT, -1, -1, -1, 1)}, out, ""},
		{"input dtype", map[string]*corepb.TensorInfo{"x": tensorInfo("serving_default_x:0", dtpb.DataType_DT_DOUBLE, -1, 8, 8, 1)}, out,
			`input "x": dtype float32 in metadata, float64 in SavedModel`},
		{"output dtype", map[string]*corepb.TensorInfo{"x": tensorInfo("serving_default_x:0", dtpb.DataType_DT_FLOAT, -1, 8, 8, 1)},
			map[string]*corepb.TensorInfo{"y": tensorInfo("Identity:0", dtpb.DataType_DT_INT64, -1, 10)},
			`output "y": dtype float32 in metadata, int64 in SavedModel`},
		{"fixed batch", map[string]*corepb.TensorInfo{"x": tensorInfo("serving_default_x:0", dtpb.DataType_DT_FLOAT, 1, 8, 8, 1)}, out,
			`input "x": shape [-1 8 8 1] in metadata, [1 8 8 1] in SavedModel`},
		{"rank", map[string]*corepb.TensorInfo{"x": tensorInfo("serving_default_x:0", dtpb.DataType_DT_FLOAT, -1, 64)}, out,
			`input "x": shape [-1 8 8 1] in metadata, [-1 64] in SavedModel`},
		{"unknown rank", map[string]*corepb.TensorInfo{"x": {Encoding: &corepb.TensorInfo_Name{Name: "x:0"}, Dtype: dtpb.DataType_DT_FLOAT, TensorShape: &tspb.TensorShapeProto{UnknownRank: true}}}, out,
			`input "x": shape [-1 8 8 1] in metadata, unknown rank in SavedModel`},
		{"two inputs", map[string]*corepb.TensorInfo{
			"x": tensorInfo("a:0", dtpb.DataType_DT_FLOAT, -1, 8, 8, 1),
			"z": tensorInfo("b:0", dtpb.DataType_DT_FLOAT, -1, 1),
		}, out, `signature "serving_default": inputs 1 ("x") in metadata, 2 (["x" "z"]) in SavedModel`},
		{"sparse input", map[string]*corepb.TensorInfo{"x": {Dtype: dtpb.DataType_DT_FLOAT}}, out,
			`input "x": encoding dense in metadata, not a dense tensor in SavedModel`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, in, outName, err := checkSignature("m/1", meta, &corepb.SignatureDef{Inputs: tc.in, Outputs: tc.out})
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if outName != "StatefulPartitionedCall:0" || in != "serving_default_x:0" {
					t.Fatalf("names %q %q", in, outName)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrSignatureMismatch) {
				t.Errorf("%v does not match ErrSignatureMismatch", err)
			}
			var se *SignatureError
			if !errors.As(err, &se) {
				t.Errorf("%v is not a *SignatureError", err)
			}
			if err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
		})
	}
}

func TestSplitTensorName(t *testing.T) {
	for _, tc := range []struct {
		in   string
		op   string
		idx  int
		fail bool
	}{
		{"StatefulPartitionedCall:0", "StatefulPartitionedCall", 0, false},
		{"a/b:2", "a/b", 2, false},
		{"plain", "plain", 0, false},
		{"bad:x", "", 0, true},
		{"bad:-1", "", 0, true},
	} {
		op, idx, err := splitTensorName(tc.in)
		if (err != nil) != tc.fail || op != tc.op || idx != tc.idx {
			t.Errorf("splitTensorName(%q) = %q, %d, %v", tc.in, op, idx, err)
		}
	}
}
