package input

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"batchinfer/api"
)

// DecodeJSONBody decodes a strict JSON object body.
func DecodeJSONBody(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if tooLarge := bodyTooLarge(err); tooLarge != nil {
			return tooLarge
		}
		if errors.Is(err, io.EOF) {
			return api.Errorf(api.CodeInvalidJSON, "empty body: expected a JSON object")
		}
		return api.Errorf(api.CodeInvalidJSON, "malformed JSON: %s", JSONErrText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if tooLarge := bodyTooLarge(err); tooLarge != nil {
			return tooLarge
		}
		return api.Errorf(api.CodeInvalidJSON, "malformed JSON: trailing data after the object")
	}
	return nil
}

// bodyTooLarge maps the error of a body read beyond its MaxBytesReader to
// body_too_large; nil for any other error.
func bodyTooLarge(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		e := api.Errorf(api.CodeBodyTooLarge, "request body exceeds %d bytes", mbe.Limit)
		e.Err = err
		return e
	}
	return nil
}
