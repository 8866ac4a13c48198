package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"batchinfer/api"
)

// maxErrorBody bounds what is read of an error answer.
const maxErrorBody = 64 << 10

// errorFrom reads an answer that is not a success as an *api.Error: the
// API's JSON error (its code, message and details), or for another body
// (a proxy's page, the /v2 protocol's {"error": "..."}) the code its
// status stands for and the body's text; Status is the answer's status
// and RetryAfter its Retry-After.
func errorFrom(r *http.Response) *api.Error {
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	e := &api.Error{Status: r.StatusCode}
	var body api.ErrorBody
	var oip api.OIPError
	switch {
	case json.Unmarshal(b, &body) == nil && body.Error != nil && body.Error.Code != "":
		e.Code, e.Message, e.Details = body.Error.Code, body.Error.Message, body.Error.Details
	case json.Unmarshal(b, &oip) == nil && oip.Error != "":
		e.Code, e.Message = codeOfStatus(r.StatusCode), oip.Error
	default:
		e.Code = codeOfStatus(r.StatusCode)
		e.Message = fmt.Sprintf("HTTP %d %s", r.StatusCode, http.StatusText(r.StatusCode))
		if t := strings.TrimSpace(string(b)); t != "" && len(t) < 512 {
			e.Message += ": " + t
		}
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	return e
}

// errorKeepingBody is errorFrom for an answer handed back to the caller
// too: its body stays readable.
func errorKeepingBody(r *http.Response) *api.Error {
	b, _ := io.ReadAll(io.LimitReader(r.Body, maxErrorBody))
	r.Body = io.NopCloser(bytes.NewReader(b))
	e := errorFrom(r)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return e
}

// codeOfStatus is the code an answer without the API's error body stands
// for.
func codeOfStatus(status int) api.Code {
	switch status {
	case http.StatusBadRequest:
		return api.CodeBadRequest
	case http.StatusUnauthorized:
		return api.CodeUnauthorized
	case http.StatusForbidden:
		return api.CodeForbidden
	case http.StatusNotFound:
		return api.CodeNotFound
	case http.StatusMethodNotAllowed:
		return api.CodeMethodNotAllowed
	case http.StatusConflict:
		return api.CodeConflict
	case http.StatusGone:
		return api.CodeExpired
	case http.StatusRequestEntityTooLarge:
		return api.CodeBodyTooLarge
	case http.StatusTooManyRequests:
		return api.CodeRateLimited
	case http.StatusBadGateway, http.StatusServiceUnavailable:
		return api.CodeUnavailable
	case http.StatusGatewayTimeout:
		return api.CodeTimeout
	case http.StatusInsufficientStorage:
		return api.CodeInsufficientStorage
	}
	if status >= 500 {
		return api.CodeInternal
	}
	return api.CodeBadRequest
}

// ErrorCode is err's API error code ("" when err is not an *api.Error).
func ErrorCode(err error) api.Code {
	var e *api.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Temporary reports whether err may go away by itself: the gateway could
// not be reached, or said it is restarting, busy or at a limit that frees
// up (the codes unavailable, not_ready, busy, queue_full, rate_limited,
// too_many_connections, and a proxy's 502, 503 or 504). A quota, a full
// store or a bad request is not temporary: retrying the same thing soon
// gets the same answer.
func Temporary(err error) bool {
	var p *permanentError
	var r *retryError
	var e *api.Error
	var ne net.Error
	switch {
	case err == nil || errors.As(err, &p) || isContextErr(err):
		return false
	case errors.As(err, &r):
		return true
	case errors.As(err, &e):
		return temporaryCode(e)
	case errors.As(err, &ne):
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNREFUSED)
}

func temporaryCode(e *api.Error) bool {
	switch e.Code {
	case api.CodeUnavailable, api.CodeNotReady, api.CodeBusy, api.CodeQueueFull, api.CodeRateLimited, api.CodeTooManyConns:
		return true
	}
	return e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout
}

// retryError marks an error worth trying again at once (what was read
// does not add up: ask again).
type retryError struct{ err error }

func (r *retryError) Error() string { return r.err.Error() }
func (r *retryError) Unwrap() error { return r.err }

func retryable(format string, args ...any) error {
	return &retryError{err: fmt.Errorf(format, args...)}
}

// permanentError marks an error retrying cannot fix (a bad URL, a file
// that cannot be read).
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

func permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// unwrapPermanent drops the mark, for callers.
func unwrapPermanent(err error) error {
	var p *permanentError
	if errors.As(err, &p) && p == err {
		return p.err
	}
	return err
}

// notSent reports whether err is a request that never reached the
// gateway (no connection could be made).
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
