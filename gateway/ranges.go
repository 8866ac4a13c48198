package gateway

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"batchinfer/api"
)

// byteRange is bytes [start, end) of a file.
type byteRange struct{ start, end int64 }

// parseRange reads a Range header for a file of size bytes (RFC 9110
// §14.2). It reports whether the answer is partial: no header, another
// unit than bytes, or several ranges ask for the whole file (a server may
// ignore Range; one range is what resuming a download needs). A malformed
// bytes range, or one that starts past the end, is range_not_satisfiable.
func parseRange(h string, size int64) (byteRange, bool, error) {
	unit, spec, ok := strings.Cut(strings.TrimSpace(h), "=")
	if h == "" || !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") || strings.Contains(spec, ",") {
		return byteRange{}, false, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	var r byteRange
	var err error
	switch {
	case !ok:
		err = rangeErr("Range %q: want bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX", h)
	case first == "":
		r, err = suffixRange(h, last, size)
	default:
		r, err = spanRange(h, first, last, size)
	}
	return r, err == nil, err
}

// suffixRange is bytes=-N: the last N bytes.
func suffixRange(h, last string, size int64) (byteRange, error) {
	n, err := strconv.ParseInt(last, 10, 64)
	if err != nil || n < 0 {
		return byteRange{}, rangeErr("Range %q: the suffix length must be a non-negative integer", h)
	}
	if n == 0 || size == 0 {
		return byteRange{}, rangeErr("Range %q: no bytes of a %d-byte file", h, size)
	}
	return byteRange{max(size-n, 0), size}, nil
}

// spanRange is bytes=A-B or bytes=A-.
func spanRange(h, first, last string, size int64) (byteRange, error) {
	a, err := strconv.ParseInt(first, 10, 64)
	if err != nil || a < 0 {
		return byteRange{}, rangeErr("Range %q: the first byte must be a non-negative integer", h)
	}
	end := size
	if last != "" {
		b, err := strconv.ParseInt(last, 10, 64)
		if err != nil || b < a {
			return byteRange{}, rangeErr("Range %q: the last byte must be an integer no less than the first", h)
		}
		end = min(b+1, size)
	}
	if a >= size {
		return byteRange{}, rangeErr("Range %q starts past the end of the %d-byte file", h, size)
	}
	return byteRange{a, end}, nil
}

// rangeErr is a Range the file cannot serve (the answer's Content-Range
// gives its size).
func rangeErr(format string, args ...any) error {
	return api.Errorf(api.CodeRangeNotSatisfiable, format, args...)
}

// ifRange says whether an If-Range header lets a Range apply: absent, or
// the file's strong ETag, or its Last-Modified date exactly.
func ifRange(h, etag string, modified time.Time) bool {
	switch {
	case h == "":
		return true
	case strings.HasPrefix(h, `"`) || strings.HasPrefix(h, "W/"):
		return h == etag // strong comparison: a weak tag never matches
	}
	t, err := http.ParseTime(h)
	return err == nil && t.Equal(modified)
}

// notModified says whether a GET or HEAD with If-None-Match (or, without
// it, If-Modified-Since) can be answered 304.
func notModified(r *http.Request, etag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			if t = strings.TrimSpace(t); t == "*" || strings.TrimPrefix(t, "W/") == etag {
				return true
			}
		}
		return false
	}
	t, err := http.ParseTime(r.Header.Get("If-Modified-Since"))
	return err == nil && !modified.After(t)
}
