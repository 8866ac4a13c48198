package oip

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/input"
	"batchinfer/model"
)

// Limits bound one inference request.
type Limits struct {
	// MaxItems is the most items (the batch dimension) of one request.
	MaxItems int
	// MinTimeout and MaxTimeout bound parameters.timeout.
	MinTimeout, MaxTimeout time.Duration
}

// Request is an inference request read and checked against a model.
type Request struct {
	ID string
	// Items is the batch size, and Tensor its Items × item_size values as
	// little-endian float32, or one byte each when Width is 1 (a UINT8
	// input sent as binary data, kept as it came: the one-byte form the
	// items travel in; then Tensor is a slice of the body ParseRequest
	// was given).
	Items  int
	Tensor []byte
	Width  int
	// Outputs are the tensors to answer with, in order.
	Outputs []Output
	// Timeout is parameters.timeout (0: the gateway's default).
	Timeout time.Duration
}

// HeaderLength reads an Inference-Header-Content-Length value: -1 when
// there is none (the body is all JSON).
func HeaderLength(v string, bodyLen int) (int, error) {
	if v == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, api.Errorf(api.CodeBadRequest, "%s %q is not a length in bytes", api.InferenceHeaderLength, v)
	}
	if n > bodyLen {
		return 0, api.Errorf(api.CodeBadRequest, "%s %d is more than the body's %d bytes", api.InferenceHeaderLength, n, bodyLen)
	}
	return n, nil
}

// ParseRequest reads an inference request for meta from body, whose
// first headerLen bytes are the JSON and the rest the binary data of its
// inputs (headerLen < 0: the body is all JSON).
func ParseRequest(body []byte, headerLen int, meta *model.Metadata, l Limits) (*Request, error) {
	js, tail := body, []byte(nil)
	if headerLen >= 0 {
		if headerLen > len(body) {
			return nil, api.Errorf(api.CodeBadRequest, "%s %d is more than the body's %d bytes", api.InferenceHeaderLength, headerLen, len(body))
		}
		js, tail = body[:headerLen], body[headerLen:]
	}
	var r api.OIPInferRequest
	if err := decodeJSON(js, &r); err != nil {
		return nil, err
	}
	if err := checkModel(&r, meta); err != nil {
		return nil, err
	}
	req := &Request{ID: r.ID}
	binaryOut, err := req.parameters(r.Parameters, l)
	if err != nil {
		return nil, err
	}
	if err := req.input(r.Inputs, tail, meta, l); err != nil {
		return nil, err
	}
	if req.Outputs, err = outputs(r.Outputs, meta, binaryOut); err != nil {
		return nil, err
	}
	return req, nil
}

// decodeJSON decodes one JSON object strictly: unknown fields and
// trailing data are errors.
func decodeJSON(js []byte, v *api.OIPInferRequest) error {
	if len(bytes.TrimSpace(js)) == 0 {
		return api.Errorf(api.CodeInvalidJSON, "empty inference request: want a JSON object with \"inputs\"")
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return api.Errorf(api.CodeInvalidJSON, "invalid inference request: %s", input.JSONErrText(err))
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		return api.Errorf(api.CodeInvalidJSON, "invalid inference request: data after the JSON object (binary data needs %s)", api.InferenceHeaderLength)
	}
	return nil
}

// checkModel: the body's model name and version, when given, are the
// path's.
func checkModel(r *api.OIPInferRequest, meta *model.Metadata) error {
	if r.ModelName != "" && r.ModelName != meta.Name {
		return api.Errorf(api.CodeBadRequest, "model_name %q differs from the model of the path, %q", r.ModelName, meta.Name)
	}
	if r.ModelVersion != "" && r.ModelVersion != meta.Version {
		return api.Errorf(api.CodeBadRequest, "model_version %q differs from the version served, %q", r.ModelVersion, meta.Version)
	}
	return nil
}

// parameters reads the request's parameters: binary_data_output,
// timeout (microseconds), priority (accepted: every synchronous request
// goes ahead of batch work), and refuses sequences; others are ignored.
func (req *Request) parameters(p api.OIPParameters, l Limits) (binaryOut bool, err error) {
	for name, raw := range p {
		switch name {
		case "binary_data_output":
			binaryOut, err = boolParam(name, raw)
		case "timeout":
			req.Timeout, err = timeoutParam(raw, l)
		case "priority":
			_, err = intParam(name, raw)
		case "sequence_id":
			if s := strings.Trim(string(raw), `" `); s != "0" && s != "" {
				err = api.Errorf(api.CodeInvalidInput, "parameters.sequence_id: the models here are stateless; sequences are not supported")
			}
		case "shared_memory_region":
			err = sharedMemory()
		}
		if err != nil {
			return false, err
		}
	}
	return binaryOut, nil
}

func timeoutParam(raw json.RawMessage, l Limits) (time.Duration, error) {
	us, err := intParam("timeout", raw)
	if err != nil {
		return 0, err
	}
	d := time.Duration(us) * time.Microsecond
	if us <= 0 || us > int64(l.MaxTimeout/time.Microsecond) || d < l.MinTimeout {
		return 0, api.Errorf(api.CodeBadRequest, "parameters.timeout must be microseconds in [%d, %d] (GATEWAY_MIN_SYNC_TIMEOUT, GATEWAY_SYNC_TIMEOUT)",
			l.MinTimeout.Microseconds(), l.MaxTimeout.Microseconds())
	}
	return d, nil
}

func boolParam(name string, raw json.RawMessage) (bool, error) {
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, api.Errorf(api.CodeInvalidInput, "parameters.%s must be true or false, not %s", name, raw)
	}
	return v, nil
}

func intParam(name string, raw json.RawMessage) (int64, error) {
	var v int64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, api.Errorf(api.CodeInvalidInput, "parameters.%s must be an integer, not %s", name, raw)
	}
	return v, nil
}

func sharedMemory() error {
	return api.Errorf(api.CodeInvalidInput, "shared memory is not supported: send the tensors in JSON or as binary data")
}

// checkShape checks an input's shape against the model's, [n, dims...]
// or flat [n, item_size], and returns n.
func checkShape(name string, shape []int64, meta *model.Metadata, l Limits) (int, error) {
	dims := meta.Input.Shape[1:]
	exact := len(shape) == len(dims)+1 && slices.Equal(shape[1:], dims)
	flat := len(shape) == 2 && shape[1] == int64(meta.ItemSize())
	if !exact && !flat {
		return 0, api.Errorf(api.CodeInvalidInput, "input %q has shape %v: model %s takes [n, %s] (or [n, %d])",
			name, shape, meta.ID(), joinDims(dims), meta.ItemSize())
	}
	switch n := shape[0]; {
	case n < 1:
		return 0, api.Errorf(api.CodeInvalidInput, "input %q has shape %v: the batch is empty", name, shape)
	case n > int64(l.MaxItems):
		return 0, api.Errorf(api.CodeTooManyItems, "%d items, the limit is %d (GATEWAY_MAX_SYNC_ITEMS)", n, l.MaxItems)
	default:
		return int(n), nil
	}
}

func joinDims(dims []int64) string {
	s := make([]string, len(dims))
	for i, d := range dims {
		s[i] = strconv.FormatInt(d, 10)
	}
	return strings.Join(s, ", ")
}

// datatype is an input's datatype, or why it cannot be one.
func datatype(name, dt string) (numeric, error) {
	if num, ok := numerics[dt]; ok {
		return num, nil
	}
	if known[dt] {
		return numeric{}, api.Errorf(api.CodeInvalidInput, "input %q: datatype %s is not supported: the models take FP32 (FP16, BF16, FP64 and integers are converted)", name, dt)
	}
	return numeric{}, api.Errorf(api.CodeInvalidInput, "input %q: unknown datatype %q (want FP32)", name, dt)
}

// describe names a model's one input for error messages.
func describe(meta *model.Metadata) string {
	return fmt.Sprintf("model %s takes one input, %q of FP32 [-1, %s]", meta.ID(), meta.Input.Key, joinDims(meta.Input.Shape[1:]))
}
