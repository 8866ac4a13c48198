package gateway

import (
	"bufio"
	"context"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"batchinfer/gateway/output"
	"batchinfer/gateway/service"
)

// handleOutput serves GET and HEAD /v1/jobs/{id}/output: every item of a
// finished job as NDJSON or CSV.
func (g *Gateway) handleOutput(w http.ResponseWriter, r *http.Request) error {
	return g.serveFile(w, r, output.KindOutput)
}

// handleErrors serves GET and HEAD /v1/jobs/{id}/errors: the failed items.
func (g *Gateway) handleErrors(w http.ResponseWriter, r *http.Request) error {
	return g.serveFile(w, r, output.KindErrors)
}

// serveFile serves one of a job's files whole (200) or one byte range of
// it (206), with the validators a resumed download needs (ETag, If-Range).
func (g *Gateway) serveFile(w http.ResponseWriter, r *http.Request, kind output.Kind) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-g.closing: // a graceful stop cuts downloads short: they resume by Range
			cancel()
		case <-ctx.Done():
		}
	}()
	f, err := g.svc.OpenFile(ctx, r.PathValue("id"), kind, r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	defer f.Close()
	h := w.Header()
	h.Set("Accept-Ranges", "bytes")
	h.Set("ETag", f.ETag())
	h.Set("Last-Modified", f.ModTime().Format(http.TimeFormat))
	h.Set("Cache-Control", "private, no-cache")
	if notModified(r, f.ETag(), f.ModTime()) {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	rng, partial := byteRange{0, f.Size()}, false
	if ifRange(r.Header.Get("If-Range"), f.ETag(), f.ModTime()) {
		if rng, partial, err = parseRange(r.Header.Get("Range"), f.Size()); err != nil {
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(f.Size(), 10))
			return err
		}
		if !partial {
			rng = byteRange{0, f.Size()}
		}
	}
	h.Set("Content-Type", f.ContentType())
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name()}))
	h.Set("Content-Length", strconv.FormatInt(rng.end-rng.start, 10))
	status := http.StatusOK
	if partial {
		status = http.StatusPartialContent
		h.Set("Content-Range", "bytes "+strconv.FormatInt(rng.start, 10)+"-"+strconv.FormatInt(rng.end-1, 10)+"/"+strconv.FormatInt(f.Size(), 10))
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	g.writeFile(ctx, w, f, rng, r.PathValue("id"))
	return nil
}

// writeFile writes rng of f after the status line: an error now can only
// cut the body short (the client sees fewer bytes than Content-Length and
// resumes by Range); it is logged unless the client left.
func (g *Gateway) writeFile(ctx context.Context, w http.ResponseWriter, f *service.File, rng byteRange, job string) {
	cw := &clientWriter{w: w, rc: http.NewResponseController(w), timeout: g.cfg.DownloadWriteTimeout}
	defer func() { _ = cw.rc.SetWriteDeadline(time.Time{}) }() // the connection may serve another request
	bw := bufio.NewWriterSize(cw, 64<<10)
	err := f.WriteRange(ctx, bw, rng.start, rng.end)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil && cw.err == nil && ctx.Err() == nil {
		g.log.Error().Err(err).Str("job", job).Msg("file download ended early")
	}
}

// clientWriter writes to the client, each write within timeout (a client
// that takes nothing ends the download), and notes its first error.
type clientWriter struct {
	w       io.Writer
	rc      *http.ResponseController
	timeout time.Duration
	err     error
}

func (c *clientWriter) Write(p []byte) (int, error) {
	_ = c.rc.SetWriteDeadline(time.Now().Add(c.timeout))
	n, err := c.w.Write(p)
	if err != nil && c.err == nil {
		c.err = err
	}
	return n, err
}
