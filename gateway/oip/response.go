package oip

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// Encode answers req from its items' results, in order: the JSON part of
// the response, and the binary data after it (nil when no output is
// binary). An item that failed on the worker fails the request.
func Encode(meta *model.Metadata, req *Request, results []wire.ItemResult) (js, bin []byte, err error) {
	if len(results) != req.Items {
		return nil, nil, fmt.Errorf("oip: %d results for %d items", len(results), req.Items)
	}
	for i, r := range results {
		if r.Error != "" {
			return nil, nil, &api.Error{Code: api.CodeInternal, Message: fmt.Sprintf("item %d failed on the worker: %s", i, r.Error)}
		}
	}
	resp := api.OIPInferResponse{ModelName: meta.Name, ModelVersion: meta.Version, ID: req.ID, Outputs: make([]api.OIPResponseOutput, 0, len(req.Outputs))}
	for _, o := range req.Outputs {
		t, err := o.tensor(meta, results)
		if err != nil {
			return nil, nil, err
		}
		ro := api.OIPResponseOutput{Name: o.Name, Datatype: t.datatype, Shape: t.shape}
		if o.Binary {
			start := len(bin)
			bin = t.appendBinary(bin)
			ro.Parameters = &api.OIPOutputParameters{BinaryDataSize: len(bin) - start}
		} else {
			ro.Data = t.appendJSON(nil)
		}
		resp.Outputs = append(resp.Outputs, ro)
	}
	js, err = json.Marshal(resp)
	return js, bin, err
}

// tensor is an output's values: float32s, int64s or strings.
type tensor struct {
	datatype string
	shape    []int64
	f32      []float32
	i64      []int64
	str      []string
}

// tensor computes the output from the results.
func (o Output) tensor(meta *model.Metadata, results []wire.ItemResult) (*tensor, error) {
	n := int64(len(results))
	switch {
	case o.Classes > 0:
		t := &tensor{datatype: BYTES, shape: []int64{n, int64(o.Classes)}}
		for i, r := range results {
			top, err := topClasses(meta, r, o.Classes)
			if err != nil {
				return nil, fmt.Errorf("item %d: %w", i, err)
			}
			t.str = append(t.str, top...)
		}
		return t, nil
	case o.kind == label:
		t := &tensor{datatype: BYTES, shape: []int64{n}}
		for _, r := range results {
			t.str = append(t.str, r.Label)
		}
		return t, nil
	case o.kind == class:
		t := &tensor{datatype: INT64, shape: []int64{n}}
		for i, r := range results {
			if r.Class == nil {
				return nil, fmt.Errorf("oip: item %d has no class", i)
			}
			t.i64 = append(t.i64, int64(*r.Class))
		}
		return t, nil
	}
	classes := meta.OutputSize()
	t := &tensor{datatype: FP32, shape: []int64{n, int64(classes)}, f32: make([]float32, 0, len(results)*classes)}
	for i, r := range results {
		if len(r.Probabilities) != classes {
			return nil, fmt.Errorf("oip: item %d has %d probabilities, model %s %d classes", i, len(r.Probabilities), meta.ID(), classes)
		}
		t.f32 = append(t.f32, r.Probabilities...)
	}
	return t, nil
}

// topClasses are an item's k best classes as the classification
// extension writes them, "score:index:label", from its probabilities
// (ties in class order, as the worker ranks them) or its top classes.
func topClasses(meta *model.Metadata, r wire.ItemResult, k int) ([]string, error) {
	var top []wire.Class
	if len(r.Probabilities) > 0 {
		order := make([]int, len(r.Probabilities))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmpDesc(r.Probabilities[a], r.Probabilities[b]) })
		for _, c := range order[:min(k, len(order))] {
			l := ""
			if c < len(meta.Labels) {
				l = meta.Labels[c]
			}
			top = append(top, wire.Class{Label: l, Class: c, Score: r.Probabilities[c]})
		}
	} else {
		top = r.Top[:min(k, len(r.Top))]
	}
	if len(top) < k {
		return nil, fmt.Errorf("oip: %d top classes, %d asked", len(top), k)
	}
	out := make([]string, len(top))
	for i, c := range top {
		s := strconv.FormatFloat(float64(c.Score), 'g', -1, 32) + ":" + strconv.Itoa(c.Class)
		if c.Label != "" {
			s += ":" + c.Label
		}
		out[i] = s
	}
	return out, nil
}

func cmpDesc(a, b float32) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// appendJSON appends the values as a flat JSON array (row-major; the
// shape says how to fold it).
func (t *tensor) appendJSON(b []byte) []byte {
	b = append(b, '[')
	switch {
	case t.f32 != nil:
		for i, v := range t.f32 {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendFloat(b, float64(v), 'g', -1, 32)
		}
	case t.i64 != nil:
		for i, v := range t.i64 {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, v, 10)
		}
	default:
		for i, s := range t.str {
			if i > 0 {
				b = append(b, ',')
			}
			q, _ := json.Marshal(s) // a string always encodes
			b = append(b, q...)
		}
	}
	return append(b, ']')
}

// appendBinary appends the values as the binary tensor data extension
// writes them: little-endian, BYTES elements each after its uint32 length.
func (t *tensor) appendBinary(b []byte) []byte {
	switch {
	case t.f32 != nil:
		for _, v := range t.f32 {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	case t.i64 != nil:
		for _, v := range t.i64 {
			b = binary.LittleEndian.AppendUint64(b, uint64(v))
		}
	default:
		for _, s := range t.str {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
	}
	return b
}
