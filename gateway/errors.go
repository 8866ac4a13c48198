package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Error codes, shared with the WebSocket protocol (api/README.md).
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidJSON      = "invalid_json"
	CodeInvalidInput     = "invalid_input"
	CodeUnknownModel     = "unknown_model"
	CodeUnknownJob       = "unknown_job"
	CodeNotFound         = "not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeConflict         = "conflict"
	CodeBodyTooLarge     = "body_too_large"
	CodeTooManyItems     = "too_many_items"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeForbiddenOrigin  = "forbidden_origin"
	CodeTooManyConns     = "too_many_connections"
	CodeTooManySubs      = "too_many_subscriptions"
	CodeInvalidMessage   = "invalid_message"
	CodeTimeout          = "timeout"
	CodeQueueFull        = "queue_full"
	CodeUnavailable      = "unavailable"
	CodeNotReady         = "not_ready"
	CodeInternal         = "internal"
)

// Detail is one itemised problem of a request.
type Detail struct {
	Item    *int   `json:"item,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// APIError is an error with an HTTP status and a stable code. Handlers
// return it; writeError turns it into the JSON body.
type APIError struct {
	Status  int      `json:"-"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
	// RetryAfter, in seconds, is sent as Retry-After when set.
	RetryAfter int   `json:"-"`
	Err        error `json:"-"`
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }
func (e *APIError) Unwrap() error { return e.Err }

func apiErr(status int, code, format string, args ...any) *APIError {
	return &APIError{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// asAPIError maps any error to an APIError; unknown errors are internal.
func asAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apiErr(http.StatusRequestEntityTooLarge, CodeBodyTooLarge, "request body exceeds %d bytes", mbe.Limit)
	}
	return &APIError{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error", Err: err}
}

type errorBody struct {
	Error *APIError `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, ae *APIError) {
	if ae.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(ae.RetryAfter))
	}
	writeJSON(w, ae.Status, errorBody{Error: ae})
}
