package litert

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"batchinfer/model"
)

// source names TFLite models in errors.
const source = "TFLite model"

// signature is the serving signature of a TFLite model, found by name.
type signature struct {
	index    C.LiteRtParamIndex
	sig      C.LiteRtSignature
	spec     model.Signature
	outTypes []C.LiteRtElementType // of spec.Outputs
}

// findSignature finds the signature named name in lm and reads its tensors.
func findSignature(lm C.LiteRtModel, name string) (*signature, error) {
	var n C.LiteRtParamIndex
	if err := check("LiteRtGetNumModelSignatures", C.LiteRtGetNumModelSignatures(lm, &n)); err != nil {
		return nil, err
	}
	var keys []string
	for i := range n {
		var sig C.LiteRtSignature
		var key *C.char
		if err := check("LiteRtGetModelSignature", C.LiteRtGetModelSignature(lm, i, &sig)); err != nil {
			return nil, err
		}
		if err := check("LiteRtGetSignatureKey", C.LiteRtGetSignatureKey(sig, &key)); err != nil {
			return nil, err
		}
		keys = append(keys, cString(key))
		if keys[len(keys)-1] != name {
			continue
		}
		s := &signature{index: i, sig: sig, spec: model.Signature{Source: source, Name: name}}
		var err error
		if s.spec.Inputs, _, err = s.tensors("input"); err != nil {
			return nil, err
		}
		if s.spec.Outputs, s.outTypes, err = s.tensors("output"); err != nil {
			return nil, err
		}
		return s, nil
	}
	return nil, &model.SignatureError{Source: source, Key: name, Field: "signature", Metadata: name, Model: model.QuotedKeys(keys)}
}

// tensors reads the signature's inputs or outputs, in the signature's order.
func (s *signature) tensors(what string) ([]model.TensorSpec, []C.LiteRtElementType, error) {
	var n C.LiteRtParamIndex
	var st C.LiteRtStatus
	if what == "input" {
		st = C.LiteRtGetNumSignatureInputs(s.sig, &n)
	} else {
		st = C.LiteRtGetNumSignatureOutputs(s.sig, &n)
	}
	if err := check("LiteRtGetNumSignature"+what+"s", st); err != nil {
		return nil, nil, err
	}
	specs := make([]model.TensorSpec, n)
	types := make([]C.LiteRtElementType, n)
	for i := range n {
		key, t, err := s.tensor(what, i)
		if err != nil {
			return nil, nil, err
		}
		if specs[i], types[i], err = tensorSpec(key, t); err != nil {
			return nil, nil, fmt.Errorf("%s %q: %w", what, key, err)
		}
	}
	return specs, types, nil
}

// tensor returns the name and tensor of input or output i.
func (s *signature) tensor(what string, i C.LiteRtParamIndex) (string, C.LiteRtTensor, error) {
	var key *C.char
	var t C.LiteRtTensor
	var st1, st2 C.LiteRtStatus
	if what == "input" {
		st1, st2 = C.LiteRtGetSignatureInputName(s.sig, i, &key), C.LiteRtGetSignatureInputTensorByIndex(s.sig, i, &t)
	} else {
		st1, st2 = C.LiteRtGetSignatureOutputName(s.sig, i, &key), C.LiteRtGetSignatureOutputTensorByIndex(s.sig, i, &t)
	}
	if err := check("LiteRtGetSignature"+what+"Name", st1); err != nil {
		return "", nil, err
	}
	if err := check("LiteRtGetSignature"+what+"TensorByIndex", st2); err != nil {
		return "", nil, err
	}
	return cString(key), t, nil
}

// tensorSpec reads a tensor's element type and shape; an unranked tensor
// has a nil shape.
func tensorSpec(key string, t C.LiteRtTensor) (model.TensorSpec, C.LiteRtElementType, error) {
	var id C.LiteRtTensorTypeId
	if err := check("LiteRtGetTensorTypeId", C.LiteRtGetTensorTypeId(t, &id)); err != nil {
		return model.TensorSpec{}, 0, err
	}
	if id != C.kLiteRtRankedTensorType {
		return model.TensorSpec{Key: key, DType: "unknown"}, 0, nil
	}
	var rt C.LiteRtRankedTensorType
	if err := check("LiteRtGetRankedTensorType", C.LiteRtGetRankedTensorType(t, &rt)); err != nil {
		return model.TensorSpec{}, 0, err
	}
	dims := layoutDims(&rt.layout)
	for i := range dims {
		dims[i] = max(dims[i], -1)
	}
	return model.TensorSpec{Key: key, DType: dtypeName(rt.element_type), Shape: dims}, rt.element_type, nil
}

// customOps lists the custom (non-builtin) ops of the signature's subgraph,
// sorted and without repeats: what a runtime without them cannot run.
func (s *signature) customOps() []string {
	var sg C.LiteRtSubgraph
	var n C.LiteRtParamIndex
	if C.LiteRtGetSignatureSubgraph(s.sig, &sg) != C.kLiteRtStatusOk || C.LiteRtGetNumSubgraphOps(sg, &n) != C.kLiteRtStatusOk {
		return nil
	}
	var ops []string
	for i := range n {
		var op C.LiteRtOp
		var code C.LiteRtOpCode
		var name *C.char
		if C.LiteRtGetSubgraphOp(sg, i, &op) != C.kLiteRtStatusOk || C.LiteRtGetOpCode(op, &code) != C.kLiteRtStatusOk ||
			code != C.kLiteRtOpCodeTflCustom || C.LiteRtGetCustomCode(op, &name) != C.kLiteRtStatusOk {
			continue
		}
		ops = append(ops, strconv.Quote(cString(name)))
	}
	slices.Sort(ops)
	return slices.Compact(ops)
}

// unsupportedOps explains a compilation failure by the custom ops, if any.
func (s *signature) unsupportedOps() string {
	ops := s.customOps()
	if len(ops) == 0 {
		return ""
	}
	return "unsupported custom ops " + strings.Join(ops, ", ") + " (LiteRT runs TFLite builtin ops only: convert with them)"
}
