package gateway

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"

	"batchinfer/api"
	"batchinfer/gateway/input"
	"batchinfer/gateway/service"
	"batchinfer/internal/wire"
)

// handleSubmit accepts a job as a JSON body, NDJSON or CSV.
func (g *Gateway) handleSubmit(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes)
	hash := sha256.New()
	body := io.TeeReader(r.Body, hash)
	sub, err := g.submission(r, body)
	if err != nil {
		return err
	}
	if sub.MaxInvalid, err = intParam(r, "max_invalid", 0, 0, math.MaxInt32); err != nil {
		return err
	}
	sub.IDColumn = r.URL.Query().Get("id_column")
	sub.IdempotencyKey = r.Header.Get("Idempotency-Key")
	sub.BodyHash = func() string { return hex.EncodeToString(hash.Sum(nil)) }
	sub.Drain = func() error { _, err := io.Copy(io.Discard, body); return bodyErr(err) }
	st, replayed, err := g.svc.Submit(r.Context(), sub)
	if err != nil {
		return err
	}
	if !replayed {
		auditEvent(g.audit, r.Context(), "job_submitted", st.ID, r.RemoteAddr)
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
// whole, up to GATEWAY_MAX_JSON_BODY_BYTES, split without decoding the
// inputs twice), or NDJSON, CSV and binary tensors streamed to the decoder
// with the model in the query.
func (g *Gateway) submission(r *http.Request, body io.Reader) (service.Submission, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "", "application/x-www-form-urlencoded": // the last is curl -d's default
		raw, err := io.ReadAll(io.LimitReader(body, g.cfg.MaxJSONBodyBytes+1))
		if err == nil && int64(len(raw)) > g.cfg.MaxJSONBodyBytes {
			return service.Submission{}, api.Errorf(api.CodeBodyTooLarge,
				"a JSON job body is read whole and exceeds %d bytes (GATEWAY_MAX_JSON_BODY_BYTES): send NDJSON, CSV or binary tensors, which are streamed", g.cfg.MaxJSONBodyBytes)
		}
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
		return service.Submission{Model: req.Model, Version: req.Version, Name: jobName(r, req.Name), Items: input.JSONItems(req.Inputs),
			Priority: cmp.Or(req.Priority, r.URL.Query().Get("priority")), Deadline: cmp.Or(req.Deadline, r.URL.Query().Get("deadline"))}, nil
	case "application/x-ndjson", "application/ndjson", "text/csv", "application/octet-stream", "application/x-npy", "application/npy":
		q := r.URL.Query()
		if q.Get("model") == "" {
			return service.Submission{}, api.Errorf(api.CodeBadRequest, "the model query parameter is required for %s uploads", ct)
		}
		return service.Submission{Model: q.Get("model"), Version: q.Get("version"), Name: jobName(r, ""), Items: streamed(ct, body),
			Priority: q.Get("priority"), Deadline: q.Get("deadline")}, nil
	}
	return service.Submission{}, api.Errorf(api.CodeUnsupportedMedia,
		"content type %q is not supported: use application/json, application/x-ndjson, text/csv, application/octet-stream (raw float32) or application/x-npy", ct)
}

// jobName is the name a submission gives its input: the name query
// parameter, else the JSON body's name, else the file name of a
// Content-Disposition header (checked later by service.CheckJobName).
func jobName(r *http.Request, fromBody string) string {
	if n := r.URL.Query().Get("name"); n != "" {
		return n
	}
	if fromBody != "" {
		return fromBody
	}
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
		return params["filename"]
	}
	return ""
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

func bodyErr(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return api.Errorf(api.CodeBodyTooLarge, "request body exceeds %d bytes", mbe.Limit)
	}
	return err
}

func (g *Gateway) handleJob(w http.ResponseWriter, r *http.Request) error {
	st, err := g.svc.Job(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, api.Job{JobStatus: st, Links: api.LinksFor(st.ID)})
	return nil
}

func (g *Gateway) handleListJobs(w http.ResponseWriter, r *http.Request) error {
	limit, err := intParam(r, "limit", 50, 1, g.cfg.Service.MaxJobsListed)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	query := service.JobQuery{Limit: limit, Cursor: q.Get("cursor"), Model: q.Get("model")}
	for _, v := range q["state"] { // state=a,b or state=a&state=b
		for _, st := range strings.Split(v, ",") {
			if st = strings.TrimSpace(st); st != "" {
				query.States = append(query.States, st)
			}
		}
	}
	page, err := g.svc.Jobs(r.Context(), query)
	if err != nil {
		return err
	}
	list := api.JobList{Jobs: page.Jobs, NextCursor: page.NextCursor}
	if page.Total >= 0 {
		list.Total = &page.Total
	}
	api.WriteJSON(w, http.StatusOK, list)
	return nil
}

func (g *Gateway) handleCancel(w http.ResponseWriter, r *http.Request) error {
	st, err := g.svc.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	auditEvent(g.audit, r.Context(), "job_cancelled", st.ID, r.RemoteAddr)
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
// for chunks still in the queue, until all are written, the client leaves
// or the gateway stops.
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
	bw := bufio.NewWriterSize(w, 64<<10)
	rc := http.NewResponseController(w)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
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
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				g.log.Error().Err(err).Str("job", r.PathValue("id")).Msg("results stream ended early")
			}
			return nil // the status line is sent: end the stream
		}
	}
}
