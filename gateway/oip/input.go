package oip

import (
	"encoding/json"

	"batchinfer/api"
	"batchinfer/model"
)

// input reads the request's one input tensor, from its JSON data or from
// tail, the binary data after the JSON, which it must use up exactly.
func (req *Request) input(ins []api.OIPRequestInput, tail []byte, meta *model.Metadata, l Limits) error {
	if len(ins) != 1 {
		return api.Errorf(api.CodeInvalidInput, "%d inputs: %s", len(ins), describe(meta))
	}
	in := ins[0]
	if in.Name != meta.Input.Key {
		return api.Errorf(api.CodeInvalidInput, "unknown input %q: %s", in.Name, describe(meta))
	}
	num, err := datatype(in.Name, in.Datatype)
	if err != nil {
		return err
	}
	n, err := checkShape(in.Name, in.Shape, meta, l)
	if err != nil {
		return err
	}
	size, hasBinary, err := binaryDataSize(in.Name, in.Parameters)
	if err != nil {
		return err
	}
	want := n * meta.ItemSize()
	var dst []byte
	width := 4
	switch {
	case hasBinary && len(in.Data) > 0:
		return api.Errorf(api.CodeInvalidInput, "input %q has both data and parameters.binary_data_size", in.Name)
	case hasBinary:
		if dst, width, tail, err = binaryInput(in, num, size, want, tail); err != nil {
			return err
		}
	case len(in.Data) > 0 && string(in.Data) != "null":
		if dst, err = fromJSON(num, in.Data, in.Shape, want, make([]byte, 0, 4*want)); err != nil {
			return api.Errorf(api.CodeInvalidInput, "input %q: %v", in.Name, err)
		}
	default:
		return api.Errorf(api.CodeInvalidInput, "input %q has neither data nor parameters.binary_data_size", in.Name)
	}
	if len(tail) > 0 {
		return api.Errorf(api.CodeInvalidInput, "%d bytes after the binary data of the inputs: %s or binary_data_size is wrong", len(tail), api.InferenceHeaderLength)
	}
	req.Items, req.Tensor, req.Width = n, dst, width
	return nil
}

// binaryInput takes an input's want values, size bytes of binary data,
// from the head of tail, and returns the rest of tail: UINT8 values as
// they came, one byte each (width 1), the others as float32 (width 4).
func binaryInput(in api.OIPRequestInput, num numeric, size int64, want int, tail []byte) (dst []byte, width int, rest []byte, err error) {
	if size != int64(want*num.width) {
		return nil, 0, nil, api.Errorf(api.CodeInvalidInput, "input %q: binary_data_size %d where %d %s values of shape %v take %d bytes",
			in.Name, size, want, in.Datatype, in.Shape, want*num.width)
	}
	if size > int64(len(tail)) {
		return nil, 0, nil, api.Errorf(api.CodeInvalidInput, "input %q: binary_data_size %d but %d bytes follow the JSON (is %s set?)",
			in.Name, size, len(tail), api.InferenceHeaderLength)
	}
	data, rest := tail[:size], tail[size:]
	if in.Datatype == UINT8 {
		return data, 1, rest, nil // the body's own bytes: the decoder copies them into the items
	}
	if dst, err = fromBinary(num, data, make([]byte, 0, 4*want)); err != nil {
		return nil, 0, nil, api.Errorf(api.CodeInvalidInput, "input %q: %v", in.Name, err)
	}
	return dst, 4, rest, nil
}

// binaryDataSize reads an input's parameters: binary_data_size (a
// non-negative integer) when given; shared memory is refused, anything
// else ignored.
func binaryDataSize(name string, p api.OIPParameters) (int64, bool, error) {
	if _, ok := p["shared_memory_region"]; ok {
		return 0, false, sharedMemory()
	}
	raw, ok := p["binary_data_size"]
	if !ok {
		return 0, false, nil
	}
	var size int64
	if err := json.Unmarshal(raw, &size); err != nil || size < 0 {
		return 0, false, api.Errorf(api.CodeInvalidInput, "input %q: parameters.binary_data_size must be a length in bytes, not %s", name, raw)
	}
	return size, true, nil
}
