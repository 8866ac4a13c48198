package oip

import (
	"fmt"
	"strconv"
	"unsafe"

	"batchinfer/internal/wire"

	"github.com/valyala/fastjson"
)

// parsers parse the workers' results: fastjson, without reflection, reads
// 64 results several times faster than encoding/json, the gateway's main
// cost of an inference here beyond /v1's (BenchmarkCodec).
var parsers fastjson.ParserPool

// DecodeResults reads a JSON array of wire.ItemResult as the worker
// writes it, the fields the outputs need: label, class, probabilities
// (parsed as float32, as encoding/json would), top and error.
func DecodeResults(b []byte) ([]wire.ItemResult, error) {
	p := parsers.Get()
	defer parsers.Put(p)
	v, err := p.ParseBytes(b)
	if err != nil {
		return nil, fmt.Errorf("oip: results: %w", err)
	}
	arr, err := v.Array()
	if err != nil {
		return nil, fmt.Errorf("oip: results: %w", err)
	}
	out := make([]wire.ItemResult, len(arr))
	d := &resultDecoder{}
	for i, o := range arr {
		if err := d.result(o, &out[i]); err != nil {
			return nil, fmt.Errorf("oip: result %d: %w", i, err)
		}
	}
	return out, nil
}

// resultDecoder reads results, the text of each number in its scratch.
type resultDecoder struct{ scratch []byte }

func (d *resultDecoder) result(o *fastjson.Value, r *wire.ItemResult) error {
	r.Label = string(o.GetStringBytes("label"))
	r.Error = string(o.GetStringBytes("error"))
	if c := o.Get("class"); c != nil {
		n, err := c.Int()
		if err != nil {
			return fmt.Errorf("class: %w", err)
		}
		r.Class = &n
	}
	var err error
	if ps := o.GetArray("probabilities"); ps != nil {
		r.Probabilities = make([]float32, len(ps))
		for j, p := range ps {
			if r.Probabilities[j], err = d.float32(p); err != nil {
				return fmt.Errorf("probability %d: %w", j, err)
			}
		}
	}
	for _, t := range o.GetArray("top") {
		c := wire.Class{Label: string(t.GetStringBytes("label")), Class: t.GetInt("class")}
		if c.Score, err = d.float32(t.Get("score")); err != nil {
			return fmt.Errorf("top: %w", err)
		}
		r.Top = append(r.Top, c)
	}
	return nil
}

// float32 parses a JSON number's text as float32, exactly as the
// worker's shortest float32 text means it.
func (d *resultDecoder) float32(v *fastjson.Value) (float32, error) {
	if v == nil || v.Type() != fastjson.TypeNumber {
		return 0, fmt.Errorf("not a number: %v", v)
	}
	d.scratch = v.MarshalTo(d.scratch[:0])
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(d.scratch), len(d.scratch)), 32)
	return float32(f), err
}
