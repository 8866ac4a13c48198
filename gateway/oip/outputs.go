package oip

import (
	"encoding/json"
	"fmt"
	"strings"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// Names of the outputs a model has besides its own (the probabilities
// tensor, named by its signature): the top class's label and index.
const (
	LabelOutput = "label"
	ClassOutput = "class"
)

// Extensions are the protocol extensions served, for the server metadata.
var Extensions = []string{"binary_tensor_data", "classification"}

// Platform is the model metadata's platform.
const Platform = "batchinfer"

type outputKind int

const (
	probabilities outputKind = iota
	label
	class
)

// Output is an output tensor to answer with.
type Output struct {
	Name   string
	kind   outputKind
	Binary bool
	// Classes, when set (the classification extension), answers the top
	// Classes of the probabilities as "score:index:label" strings.
	Classes int
}

// available are the model's outputs: its probabilities tensor, the top
// label (BYTES) and the top class (INT64), one per item.
func available(meta *model.Metadata) []api.OIPTensorMetadata {
	out := []api.OIPTensorMetadata{{Name: meta.Output.Key, Datatype: FP32, Shape: meta.Output.Shape}}
	for _, o := range []api.OIPTensorMetadata{{Name: LabelOutput, Datatype: BYTES, Shape: []int64{-1}}, {Name: ClassOutput, Datatype: INT64, Shape: []int64{-1}}} {
		if o.Name != meta.Output.Key {
			out = append(out, o)
		}
	}
	return out
}

func kindOf(meta *model.Metadata, name string) (outputKind, bool) {
	switch name {
	case meta.Output.Key:
		return probabilities, true
	case LabelOutput:
		return label, true
	case ClassOutput:
		return class, true
	}
	return 0, false
}

// fullProbabilities: the worker sends every class's probability of
// models with at most wire.MaxProbabilities classes, the top ones only of
// others.
func fullProbabilities(meta *model.Metadata) bool { return meta.OutputSize() <= wire.MaxProbabilities }

// topK is how many top classes the worker sends with each item (its rule:
// the model's top_k, else up to 5).
func topK(meta *model.Metadata) int {
	k, classes := meta.TopK, meta.OutputSize()
	if k <= 0 || k > classes {
		k = min(classes, 5)
	}
	return k
}

// outputs resolves the outputs asked for (none: all of them, but a
// probabilities tensor the worker does not send), binary when binaryOut
// unless an output's parameters.binary_data says otherwise.
func outputs(asked []api.OIPRequestOutput, meta *model.Metadata, binaryOut bool) ([]Output, error) {
	if len(asked) == 0 {
		var out []Output
		for _, o := range available(meta) {
			k, _ := kindOf(meta, o.Name)
			if k != probabilities || fullProbabilities(meta) {
				out = append(out, Output{Name: o.Name, kind: k, Binary: binaryOut})
			}
		}
		return out, nil
	}
	out := make([]Output, 0, len(asked))
	seen := map[string]bool{}
	for _, a := range asked {
		k, ok := kindOf(meta, a.Name)
		if !ok {
			return nil, api.Errorf(api.CodeInvalidInput, "unknown output %q: model %s has outputs %s", a.Name, meta.ID(), outputNames(meta))
		}
		if seen[a.Name] {
			return nil, api.Errorf(api.CodeInvalidInput, "output %q is asked for twice", a.Name)
		}
		seen[a.Name] = true
		o := Output{Name: a.Name, kind: k, Binary: binaryOut}
		if err := o.parameters(a.Parameters, meta); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// parameters reads an output's parameters: binary_data, classification;
// shared memory is refused, anything else ignored.
func (o *Output) parameters(p api.OIPParameters, meta *model.Metadata) error {
	if _, ok := p["shared_memory_region"]; ok {
		return sharedMemory()
	}
	if raw, ok := p["binary_data"]; ok {
		b, err := boolParam("binary_data", raw)
		if err != nil {
			return err
		}
		o.Binary = b
	}
	if raw, ok := p["classification"]; ok {
		return o.classification(raw, meta)
	}
	if o.kind == probabilities && !fullProbabilities(meta) {
		return api.Errorf(api.CodeInvalidInput, "output %q: model %s has %d classes and only the top %d of each item are kept: ask for parameters.classification up to %d, or the %q output",
			o.Name, meta.ID(), meta.OutputSize(), topK(meta), topK(meta), LabelOutput)
	}
	return nil
}

func (o *Output) classification(raw json.RawMessage, meta *model.Metadata) error {
	if o.kind != probabilities {
		return api.Errorf(api.CodeInvalidInput, "output %q: classification applies to the probabilities output, %q", o.Name, meta.Output.Key)
	}
	var k int
	most := meta.OutputSize()
	if !fullProbabilities(meta) {
		most = topK(meta)
	}
	if err := json.Unmarshal(raw, &k); err != nil || k < 1 || k > most {
		return api.Errorf(api.CodeInvalidInput, "output %q: parameters.classification must be an integer in [1, %d], not %s", o.Name, most, raw)
	}
	o.Classes = k
	return nil
}

func outputNames(meta *model.Metadata) string {
	var names []string
	for _, o := range available(meta) {
		names = append(names, fmt.Sprintf("%q", o.Name))
	}
	return strings.Join(names, ", ")
}

// ModelMetadata describes meta in the protocol's terms, with the model's
// versions.
func ModelMetadata(meta *model.Metadata, versions []string) api.OIPModelMetadata {
	return api.OIPModelMetadata{
		Name: meta.Name, Versions: versions, Platform: Platform,
		Inputs:  []api.OIPTensorMetadata{{Name: meta.Input.Key, Datatype: FP32, Shape: meta.Input.Shape}},
		Outputs: available(meta),
	}
}
