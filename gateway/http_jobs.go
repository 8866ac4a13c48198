package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/input"
	"batchinfer/gateway/peer"
	"batchinfer/gateway/reqbody"
	"batchinfer/gateway/service"
	"batchinfer/internal/wire"
)

// handleSubmit accepts a job as a JSON body, NDJSON or CSV. The body is
// read within the gateway's bounds (reqbody) and one of the tenant's
// upload slots.
func (g *Gateway) handleSubmit(w http.ResponseWriter, r *http.Request) error {
	done, err := g.svc.BeginUpload(r.Context())
	if err != nil {
		return err
	}
	defer done()
	rd := g.openBody(w, r, g.cfg.MaxBodyBytes)
	defer rd.Release()
	hash := sha256.New()
	body := io.TeeReader(r.Body, hash)
	sub, err := submission(r, body)
	if err != nil {
		return err
	}
	sub.IdempotencyKey = r.Header.Get("Idempotency-Key")
	sub.BodyHash = func() string { return hex.EncodeToString(hash.Sum(nil)) }
	st, replayed, err := g.svc.Submit(r.Context(), sub)
	if err != nil {
		return err
	}
	resp := api.SubmitResponse{Job: st, Links: api.LinksFor(st.ID)}
	w.Header().Set("Location", resp.Links.Self)
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		api.WriteJSON(w, http.StatusOK, resp)
		return nil
	}
	api.WriteJSON(w, http.StatusAccepted, resp)
	return nil
}

// submission reads what the content type says: a JSON document (read
// whole, split without decoding the inputs twice), or NDJSON and CSV
// streamed to the decoder with the model in the query.
func submission(r *http.Request, body io.Reader) (service.Submission, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "", "application/x-www-form-urlencoded": // the last is curl -d's default
		raw, err := io.ReadAll(body)
		if err != nil {
			return service.Submission{}, bodyErr(err)
		}
		req, err := input.SplitJobBody(raw)
		if err != nil {
			if err := input.DecodeJSONBody(bytes.NewReader(raw), &req); err != nil {
				return service.Submission{}, err
			}
		}
		if req.Model == "" {
			return service.Submission{}, api.Errorf(api.CodeBadRequest, `"model" is required`)
		}
		return service.Submission{Model: req.Model, Version: req.Version, Items: input.JSONItems(req.Inputs)}, nil
	case "application/x-ndjson", "application/ndjson", "text/csv", "application/octet-stream", "application/x-npy", "application/npy":
		q := r.URL.Query()
		if q.Get("model") == "" {
			return service.Submission{}, api.Errorf(api.CodeBadRequest, "the model query parameter is required for %s uploads", ct)
		}
		return service.Submission{Model: q.Get("model"), Version: q.Get("version"), Items: streamed(ct, body)}, nil
	}
	return service.Submission{}, api.Errorf(api.CodeUnsupportedMedia,
		"content type %q is not supported: use application/json, application/x-ndjson, text/csv, application/octet-stream (raw float32) or application/x-npy", ct)
}

// streamed is the source of a body read as it arrives.
func streamed(ct string, body io.Reader) input.Source {
	switch ct {
	case "text/csv":
		return input.CSV(body)
	case "application/octet-stream":
		return input.Raw(body)
	case "application/x-npy", "application/npy":
		return input.NPY(body)
	}
	return input.NDJSON(body)
}

// openBody wraps r's body in the gateway's bounds: at most limit bytes, the
// pace of GATEWAY_BODY_IDLE_TIMEOUT and GATEWAY_MIN_BODY_RATE, and a share
// of the decode budget while it is decoded.
func (g *Gateway) openBody(w http.ResponseWriter, r *http.Request, limit int64) *reqbody.Reader {
	return reqbody.Open(w, r, limit, reqbody.Pace{Idle: g.cfg.HTTP.BodyIdleTimeout, MinRate: g.cfg.HTTP.MinBodyRate}, g.budget)
}

// bodyErr names a failed body read for the client (reqbody's errors are
// already *api.Error).
func bodyErr(err error) error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return api.Errorf(api.CodeBodyTooLarge, "request body exceeds %d bytes", mbe.Limit)
	}
	return api.Errorf(api.CodeBadRequest, "request body could not be read")
}

func (g *Gateway) handleJob(w http.ResponseWriter, r *http.Request) error {
	st, err := g.svc.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (g *Gateway) handleListJobs(w http.ResponseWriter, r *http.Request) error {
	limit, err := intParam(r, "limit", 50, 1, g.cfg.Service.MaxJobsListed)
	if err != nil {
		return err
	}
	jobs, err := g.svc.Jobs(r.Context(), limit)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, api.JobList{Jobs: jobs})
	return nil
}

func (g *Gateway) handleCancel(w http.ResponseWriter, r *http.Request) error {
	st, err := g.svc.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, st)
	return nil
}

func (g *Gateway) handleResults(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format == "" && strings.Contains(r.Header.Get("Accept"), "application/x-ndjson") {
		format = "ndjson"
	}
	switch format {
	case "ndjson":
		return g.streamResults(w, r)
	case "", "json":
	default:
		return api.Errorf(api.CodeBadRequest, "format must be json or ndjson")
	}
	offset, err := intParam(r, "offset", 0, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 1000, 1, service.MaxResultsPage)
	if err != nil {
		return err
	}
	page, err := g.svc.Results(r.Context(), r.PathValue("id"), offset, limit)
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, page)
	return nil
}

// streamResults writes every item result as NDJSON in index order, waiting
// for chunks still in the queue, until all are written, the client leaves,
// the client reads nothing for StreamWriteTimeout (each write has that
// deadline, as a WebSocket's send buffer has its 4008) or the gateway
// stops.
func (g *Gateway) streamResults(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-g.closing: // a graceful stop does not wait for endless streams
			cancel()
		case <-ctx.Done():
		}
	}()
	rs, err := g.svc.StreamResults(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	defer rs.Close()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	dw := &deadlineWriter{w: w, rc: rc, d: g.cfg.HTTP.StreamWriteTimeout}
	bw := bufio.NewWriterSize(dw, 64<<10)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		dw.arm()
		return rc.Flush()
	}
	line := func(item []byte) error {
		_, _ = bw.Write(item)
		return bw.WriteByte('\n')
	}
	for {
		data, err := rs.Next(ctx, flush)
		if err == nil {
			err = wire.EachItem(data, line) // stored bytes, never decoded
		}
		if err != nil {
			_ = flush()
			g.streamEnded(r, ctx, err)
			return nil // the status line is sent: end the stream
		}
	}
}

// streamEnded logs a stream that ended for another reason than its end,
// its client leaving, or its client not reading (a client's doing: debug).
func (g *Gateway) streamEnded(r *http.Request, ctx context.Context, err error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF) || ctx.Err() != nil:
	case errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		g.log.Debug().Str("job", r.PathValue("id")).Str("remote", peer.From(r.Context()).String()).Msg("results stream ended: the client read nothing in time")
	default:
		g.log.Error().Err(err).Str("job", r.PathValue("id")).Msg("results stream ended early")
	}
}

// deadlineWriter gives each write to the connection d to complete: a
// client that reads nothing for that long ends the stream.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
	d  time.Duration
}

func (w *deadlineWriter) arm() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.d)) }

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.arm()
	return w.w.Write(p)
}
