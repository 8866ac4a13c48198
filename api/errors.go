package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Code is a stable error code, the same over HTTP and the WebSocket.
type Code string

// Error codes (openapi.yaml components/schemas/Error lists them).
const (
	CodeBadRequest       Code = "bad_request"
	CodeInvalidJSON      Code = "invalid_json"
	CodeInvalidInput     Code = "invalid_input"
	CodeInvalidMessage   Code = "invalid_message"
	CodeUnknownModel     Code = "unknown_model"
	CodeUnknownJob       Code = "unknown_job"
	CodeNotFound         Code = "not_found"
	CodeMethodNotAllowed Code = "method_not_allowed"
	CodeConflict         Code = "conflict"
	CodeBodyTooLarge     Code = "body_too_large"
	CodeBodyTimeout      Code = "body_timeout"
	CodeTooManyItems     Code = "too_many_items"
	CodeUnsupportedMedia Code = "unsupported_media_type"
	CodeForbiddenOrigin  Code = "forbidden_origin"
	CodeTooManyConns     Code = "too_many_connections"
	CodeTooManySubs      Code = "too_many_subscriptions"
	CodeTimeout          Code = "timeout"
	CodeQueueFull        Code = "queue_full"
	CodeBusy             Code = "busy"
	CodeUnavailable      Code = "unavailable"
	CodeNotReady         Code = "not_ready"
	CodeUnauthorized     Code = "unauthorized"
	CodeForbidden        Code = "forbidden"
	CodeRateLimited      Code = "rate_limited"
	CodeQuotaExceeded    Code = "quota_exceeded"
	// CodeBacklogFull: a model's items not done yet (or a tenant's on it)
	// are at their bound; Retry-After says when to try again.
	CodeBacklogFull Code = "backlog_full"
	CodeInternal    Code = "internal"

	// CodeExpired: what was asked for passed its retention: a job's results
	// (its status remains), an upload.
	CodeExpired Code = "expired"
	// CodeInsufficientStorage: a store cannot hold what is asked (the
	// results of a job, an upload), or the tenant's share of it is used up.
	CodeInsufficientStorage Code = "insufficient_storage"

	// Resumable uploads (tus).
	CodePreconditionFailed Code = "precondition_failed"
	CodeChecksumMismatch   Code = "checksum_mismatch"

	// CodeRangeNotSatisfiable: a Range a file cannot serve (past its end,
	// or malformed); the answer's Content-Range gives the file's size.
	CodeRangeNotSatisfiable Code = "range_not_satisfiable"
)

// StatusChecksumMismatch is tus's status for a body whose Upload-Checksum
// does not match it.
const StatusChecksumMismatch = 460

// statuses maps every code to its one HTTP status.
var statuses = map[Code]int{
	CodeBadRequest:          http.StatusBadRequest,
	CodeInvalidJSON:         http.StatusBadRequest,
	CodeInvalidInput:        http.StatusBadRequest,
	CodeInvalidMessage:      http.StatusBadRequest,
	CodeUnknownModel:        http.StatusNotFound,
	CodeUnknownJob:          http.StatusNotFound,
	CodeNotFound:            http.StatusNotFound,
	CodeMethodNotAllowed:    http.StatusMethodNotAllowed,
	CodeConflict:            http.StatusConflict,
	CodeBodyTooLarge:        http.StatusRequestEntityTooLarge,
	CodeBodyTimeout:         http.StatusRequestTimeout,
	CodeTooManyItems:        http.StatusRequestEntityTooLarge,
	CodeUnsupportedMedia:    http.StatusUnsupportedMediaType,
	CodeForbiddenOrigin:     http.StatusForbidden,
	CodeTooManyConns:        http.StatusServiceUnavailable,
	CodeTooManySubs:         http.StatusTooManyRequests,
	CodeTimeout:             http.StatusGatewayTimeout,
	CodeQueueFull:           http.StatusServiceUnavailable,
	CodeBusy:                http.StatusServiceUnavailable,
	CodeUnavailable:         http.StatusServiceUnavailable,
	CodeNotReady:            http.StatusServiceUnavailable,
	CodeUnauthorized:        http.StatusUnauthorized,
	CodeForbidden:           http.StatusForbidden,
	CodeRateLimited:         http.StatusTooManyRequests,
	CodeQuotaExceeded:       http.StatusTooManyRequests,
	CodeBacklogFull:         http.StatusTooManyRequests,
	CodeExpired:             http.StatusGone,
	CodeInsufficientStorage: http.StatusInsufficientStorage,
	CodeInternal:            http.StatusInternalServerError,

	CodePreconditionFailed: http.StatusPreconditionFailed,
	CodeChecksumMismatch:   StatusChecksumMismatch,

	CodeRangeNotSatisfiable: http.StatusRequestedRangeNotSatisfiable,
}

// Codes lists every code (for contract tests).
func Codes() []Code {
	out := make([]Code, 0, len(statuses))
	for c := range statuses {
		out = append(out, c)
	}
	return out
}

// Capacity reports whether code says the system is at a limit (the queue,
// the results store, the followers), not that it failed: no error to log.
func (c Code) Capacity() bool {
	switch c {
	case CodeQueueFull, CodeBusy, CodeInsufficientStorage, CodeTooManyConns:
		return true
	}
	return false
}

// HTTPStatus is the status of a response carrying code.
func (c Code) HTTPStatus() int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Detail is one itemised problem of a request.
type Detail struct {
	Item    *int   `json:"item,omitempty"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
}

// Error is a failure a client is told about: a code, a message naming the
// problem, and for limits when to retry. Use cases return it; transports
// turn it into a JSON body or a WebSocket error message.
type Error struct {
	Code    Code     `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
	// RetryAfter, when set, is sent as Retry-After (rounded up to seconds)
	// or retry_after_ms.
	RetryAfter time.Duration `json:"-"`
	// Err is the cause, logged for server faults, never sent.
	Err error `json:"-"`
	// Status is the HTTP status of the answer that carried the error, as a
	// client received it (package client sets it; 0 elsewhere): usually
	// Code.HTTPStatus(), but a proxy's answer keeps its own.
	Status int `json:"-"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return string(e.Code) + ": " + e.Message + ": " + e.Err.Error()
	}
	return string(e.Code) + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// RetryLater returns an Error for a limit of the server, with a hint.
func RetryLater(code Code, after time.Duration, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), RetryAfter: after, Err: cause}
}

// As returns err as an *Error; any other error is internal (its cause kept
// for the log, never shown).
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds (0 if unset).
func (e *Error) RetryAfterSeconds() int {
	if e.RetryAfter <= 0 {
		return 0
	}
	return int((e.RetryAfter + time.Second - 1) / time.Second)
}
