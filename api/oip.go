package api

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Bodies of the Open Inference Protocol v2 routes (/v2, KServe's and
// Triton's REST protocol). Their errors are the protocol's OIPError, not
// ErrorBody. openapi.yaml documents them under the tag "oip".

// OIPError is the body of every /v2 error: {"error": "<message>"}, the
// shape tritonclient and KServe's client parse.
type OIPError struct {
	Error string `json:"error"`
}

// OIPServerMetadata is GET /v2.
type OIPServerMetadata struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Extensions are the protocol extensions served: binary_tensor_data and
	// classification.
	Extensions []string `json:"extensions"`
}

// OIPLive is GET /v2/health/live.
type OIPLive struct {
	Live bool `json:"live"`
}

// OIPReady is GET /v2/health/ready when the gateway is ready (else a 503
// OIPError).
type OIPReady struct {
	Ready bool `json:"ready"`
}

// OIPModelReady is GET /v2/models/{name}[/versions/{version}]/ready when a
// worker serves the model (else a 503 OIPError).
type OIPModelReady struct {
	Name  string `json:"name"`
	Ready bool   `json:"ready"`
}

// OIPTensorMetadata describes an input or output tensor: its shape has -1
// for the batch dimension (and any other of variable size).
type OIPTensorMetadata struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// OIPModelMetadata is GET /v2/models/{name}[/versions/{version}]: the
// versions of the model, and the inputs and outputs of the one asked (the
// highest when none is).
type OIPModelMetadata struct {
	Name     string              `json:"name"`
	Versions []string            `json:"versions"`
	Platform string              `json:"platform"`
	Inputs   []OIPTensorMetadata `json:"inputs"`
	Outputs  []OIPTensorMetadata `json:"outputs"`
}

// OIPParameters are a request's, an input's or an output's parameters,
// each read and checked by name.
type OIPParameters map[string]json.RawMessage

// OIPInferRequest is the JSON of POST /v2/models/{name}[/versions/{version}]/infer
// (with the binary tensor data extension, the JSON part of the body).
type OIPInferRequest struct {
	ID string `json:"id,omitempty"`
	// ModelName and ModelVersion, when given (KServe's client sends the
	// name), must be the path's.
	ModelName    string             `json:"model_name,omitempty"`
	ModelVersion string             `json:"model_version,omitempty"`
	Parameters   OIPParameters      `json:"parameters,omitempty"`
	Inputs       []OIPRequestInput  `json:"inputs"`
	Outputs      []OIPRequestOutput `json:"outputs,omitempty"`
}

// OIPRequestInput is one input tensor: its data in JSON (flat or nested
// to the shape, row-major), or parameters.binary_data_size bytes after the
// JSON.
type OIPRequestInput struct {
	Name       string          `json:"name"`
	Shape      []int64         `json:"shape"`
	Datatype   string          `json:"datatype"`
	Parameters OIPParameters   `json:"parameters,omitempty"`
	Data       json.RawMessage `json:"data,omitempty"`
}

// OIPRequestOutput names an output to answer with.
type OIPRequestOutput struct {
	Name       string        `json:"name"`
	Parameters OIPParameters `json:"parameters,omitempty"`
}

// OIPInferResponse is the JSON of an inference's answer (with binary
// outputs, the JSON part of the body, its length in
// Inference-Header-Content-Length).
type OIPInferResponse struct {
	ModelName    string              `json:"model_name"`
	ModelVersion string              `json:"model_version"`
	ID           string              `json:"id,omitempty"`
	Outputs      []OIPResponseOutput `json:"outputs"`
}

// OIPResponseOutput is one output tensor: its data in JSON, or
// parameters.binary_data_size bytes after the JSON.
type OIPResponseOutput struct {
	Name       string               `json:"name"`
	Datatype   string               `json:"datatype"`
	Shape      []int64              `json:"shape"`
	Parameters *OIPOutputParameters `json:"parameters,omitempty"`
	Data       json.RawMessage      `json:"data,omitempty"`
}

// OIPOutputParameters are a response output's parameters.
type OIPOutputParameters struct {
	BinaryDataSize int `json:"binary_data_size"`
}

// InferenceHeaderLength is the header of the binary tensor data extension
// that gives the length of a body's JSON part.
const InferenceHeaderLength = "Inference-Header-Content-Length"

// WriteOIPError writes e as an Open Inference Protocol error: its code's
// status, {"error": message}, and Retry-After when e has a hint.
func WriteOIPError(w http.ResponseWriter, e *Error) {
	if s := e.RetryAfterSeconds(); s > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(s))
	}
	WriteJSON(w, e.Code.HTTPStatus(), OIPError{Error: e.Message})
}
