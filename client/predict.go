package client

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"time"

	"batchinfer/api"
)

// Input is one input item as the API takes it (ItemInput in openapi.yaml):
// make one with Numbers, Tensor, Image or Features, or give its JSON.
type Input = json.RawMessage

// Numbers is an item of values, flat (row-major) or as the model's shape
// flattened: a JSON array of numbers.
func Numbers(v []float32) Input {
	b := make([]byte, 0, 8*len(v)+2)
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendFloat(b, float64(x), 'g', -1, 32)
	}
	return append(b, ']')
}

// Rows is one Numbers item per row.
func Rows(rows [][]float32) []Input {
	out := make([]Input, len(rows))
	for i, r := range rows {
		out[i] = Numbers(r)
	}
	return out
}

// Tensor is an item of values sent as base64 little-endian float32 (the
// compact form for large tensors): {"b64": "..."}.
func Tensor(v []float32) Input {
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	b, _ := json.Marshal(map[string]string{"b64": base64.StdEncoding.EncodeToString(raw)})
	return b
}

// Image is an item of a PNG, JPEG or GIF file's bytes, for image models
// (the worker decodes and preprocesses it): {"image": "..."}.
func Image(file []byte) Input {
	b, _ := json.Marshal(map[string]string{"image": base64.StdEncoding.EncodeToString(file)})
	return b
}

// Features is an item of a tabular model, every feature by name:
// {"features": {...}}.
func Features(f map[string]float64) Input {
	b, _ := json.Marshal(map[string]map[string]float64{"features": f})
	return b
}

// PredictOptions are a prediction's optional parts.
type PredictOptions struct {
	// Version is the model version ("": the highest served).
	Version string
	// Timeout is how long the gateway waits for the answer (0: its
	// default, GATEWAY_SYNC_TIMEOUT).
	Timeout time.Duration
}

// Prediction is a synchronous prediction's answer: one result per input,
// in order.
type Prediction struct {
	Model     string           `json:"model"`
	Version   string           `json:"version"`
	Items     []api.ItemResult `json:"items"`
	LatencyMS float64          `json:"latency_ms"`
}

// Predict runs inputs (at most the gateway's GATEWAY_MAX_SYNC_ITEMS)
// through model now, ahead of batch work, and returns their results. An
// input the model refuses fails the whole request (400 invalid_input,
// its details naming each item); a model that errs on an item answers
// that item's Error. Predictions are retried while the gateway restarts
// (a prediction has no effect but its answer).
func (c *Client) Predict(ctx context.Context, model string, inputs []Input, opts PredictOptions) (*Prediction, error) {
	q := url.Values{}
	if opts.Version != "" {
		q.Set("version", opts.Version)
	}
	if opts.Timeout > 0 {
		q.Set("timeout", opts.Timeout.String())
	}
	var out Prediction
	err := c.postJSON(ctx, "/v1/models/"+url.PathEscape(model)+"/predict", q, api.PredictRequest{Inputs: inputs}, nil, true, &out)
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Models lists every served model version.
func (c *Client) Models(ctx context.Context) ([]api.ModelInfo, error) {
	out, err := getAs[api.ModelList](ctx, c, "/v1/models", nil)
	if err != nil {
		return nil, err
	}
	return out.Models, nil
}

// Model lists one model's versions (404 unknown_model when none is
// served).
func (c *Client) Model(ctx context.Context, name string) (*api.ModelVersions, error) {
	return getAs[api.ModelVersions](ctx, c, "/v1/models/"+url.PathEscape(name), nil)
}
