package upload

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"batchinfer/api"
)

// maxErrorBody bounds what is kept of an error body tusd writes.
const maxErrorBody = 4096

// tusWriter sits between tusd and the client. It holds back tusd's error
// answers (plain text) and writes them as JSON errors naming the problem,
// and it adds what tusd does not: Upload-Expires, the checksum and
// expiration extensions in discovery, and a Location that is the upload's
// path (right behind any proxy).
type tusWriter struct {
	http.ResponseWriter
	st           *reqState
	h            *Handler
	method, path string
	errStatus    int
	errBody      bytes.Buffer
	wrote        bool
}

func (w *tusWriter) WriteHeader(code int) {
	if w.wrote || w.errStatus != 0 {
		return
	}
	if code >= http.StatusBadRequest {
		w.errStatus = code
		return
	}
	w.decorate()
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *tusWriter) Write(b []byte) (int, error) {
	if !w.wrote && w.errStatus == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.errStatus != 0 {
		if w.errBody.Len() < maxErrorBody {
			w.errBody.Write(b[:min(len(b), maxErrorBody-w.errBody.Len())])
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (tusd's read deadlines) through.
func (w *tusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *tusWriter) decorate() {
	hdr := w.Header()
	if loc := hdr.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			hdr.Set("Location", u.Path)
		}
	}
	if w.method == http.MethodOptions {
		hdr.Set("Tus-Extension", w.h.tus.SupportedExtensions()+",checksum,expiration")
		hdr.Set("Tus-Checksum-Algorithm", ChecksumAlgorithms)
	}
	if info := w.st.upload(); !info.ExpiresAt.IsZero() {
		hdr.Set("Upload-Expires", info.ExpiresAt.UTC().Format(http.TimeFormat))
	}
}

// finish writes the error held back, if any, as JSON.
func (w *tusWriter) finish() {
	if w.errStatus == 0 {
		return
	}
	e := w.st.failure()
	if e == nil {
		e = w.tusError()
	}
	if e.Code == api.CodeInternal {
		w.h.log.Error().Err(e.Err).Str("method", w.method).Str("path", w.path).Msg("upload request failed")
	}
	hdr := w.Header()
	hdr.Del("Content-Length")
	hdr.Del("Content-Type")
	api.WriteError(w.ResponseWriter, e)
}

// tusError is the API error for an error tusd answered ("ERR_CODE: text").
func (w *tusWriter) tusError() *api.Error {
	body := strings.TrimSpace(w.errBody.String())
	code, _, _ := strings.Cut(body, ": ")
	if w.st.interrupted.Load() {
		return api.RetryLater(api.CodeUnavailable, time.Second, nil,
			"the gateway is shutting down: what arrived is stored; HEAD the upload for its offset and resume on another gateway")
	}
	if m, ok := tusErrors[code]; ok {
		return api.Errorf(m.code, "%s", m.msg(w))
	}
	return &api.Error{Code: api.CodeInternal, Message: "internal error", Err: fmt.Errorf("tusd answered %d: %w", w.errStatus, errors.New(body))}
}

// tusErrors names each error tusd answers in the API's terms.
var tusErrors = map[string]struct {
	code api.Code
	msg  func(w *tusWriter) string
}{
	"ERR_UNSUPPORTED_VERSION": {api.CodePreconditionFailed, func(*tusWriter) string {
		return "send Tus-Resumable: 1.0.0, the tus version served (OPTIONS " + BasePath + " lists the extensions)"
	}},
	"ERR_MAX_SIZE_EXCEEDED": {api.CodeBodyTooLarge, func(w *tusWriter) string {
		return fmt.Sprintf("Upload-Length %s is over the largest upload, %d bytes (Tus-Max-Size)", w.st.header.Get("Upload-Length"), w.h.cfg.MaxSize)
	}},
	"ERR_INVALID_CONTENT_TYPE": {api.CodeUnsupportedMedia, func(*tusWriter) string {
		return "a PATCH body must be sent as Content-Type: " + offsetOctetStream
	}},
	"ERR_INVALID_UPLOAD_LENGTH":       {api.CodeBadRequest, badLength},
	"ERR_AMBIGUOUS_UPLOAD_LENGTH":     {api.CodeBadRequest, badLength},
	"ERR_INVALID_UPLOAD_LENGTH_DEFER": {api.CodeBadRequest, badLength},
	"ERR_NOT_IMPLEMENTED":             {api.CodeBadRequest, badLength},
	"ERR_INVALID_OFFSET": {api.CodeBadRequest, func(w *tusWriter) string {
		return fmt.Sprintf("Upload-Offset must be the upload's offset in bytes, a whole number (%q given): HEAD the upload for it", w.st.header.Get("Upload-Offset"))
	}},
	"ERR_MISMATCHED_OFFSET": {api.CodeConflict, func(w *tusWriter) string {
		return fmt.Sprintf("Upload-Offset %s does not match the upload's offset %d: HEAD the upload for the offset to resume from", w.st.header.Get("Upload-Offset"), w.st.upload().Offset)
	}},
	"ERR_UPLOAD_SIZE_EXCEEDED": {api.CodeBodyTooLarge, func(w *tusWriter) string {
		info := w.st.upload()
		return fmt.Sprintf("the body goes past the upload's declared length (Upload-Length %d, offset %d): none of it was kept", info.Size, info.Offset)
	}},
	"ERR_UNEXPECTED_EOF":   {api.CodeBadRequest, cutBody},
	"ERR_CONNECTION_RESET": {api.CodeBadRequest, cutBody},
	"ERR_READ_TIMEOUT":     {api.CodeBadRequest, cutBody},
	"ERR_UPLOAD_NOT_FOUND": {api.CodeNotFound, func(w *tusWriter) string { return "no upload " + w.st.id }},
	"ERR_UPLOAD_INTERRUPTED": {api.CodeConflict, func(*tusWriter) string {
		return "another request wrote the upload at the same time: HEAD it for the offset to resume from"
	}},
	"ERR_INVALID_CONCAT":            {api.CodeBadRequest, noConcat},
	"ERR_CONCATENATION_UNSUPPORTED": {api.CodeBadRequest, noConcat},
	"ERR_MODIFY_FINAL":              {api.CodeBadRequest, noConcat},
	"ERR_ORIGIN_NOT_ALLOWED":        {api.CodeForbiddenOrigin, func(*tusWriter) string { return "cross-origin uploads are not allowed" }},
}

func badLength(w *tusWriter) string {
	return fmt.Sprintf("Upload-Length must be the upload's size in bytes, a whole number (%q given; Upload-Defer-Length is not supported)", w.st.header.Get("Upload-Length"))
}

func cutBody(w *tusWriter) string {
	return fmt.Sprintf("the body ended early (cut, or no bytes for %s): what arrived is stored; HEAD the upload for the offset to resume from", w.h.cfg.ReadTimeout)
}

func noConcat(*tusWriter) string { return "concatenation (Upload-Concat) is not supported" }
