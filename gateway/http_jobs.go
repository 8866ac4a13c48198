package gateway

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"

	"batchinfer/api"
	"batchinfer/gateway/input"
	"batchinfer/gateway/reqbody"
	"batchinfer/gateway/service"
)

// handleSubmit accepts a job as a JSON body, NDJSON or CSV. The body is
// read within the gateway's bounds (reqbody) and one of the tenant's
// upload slots.
func (g *Gateway) handleSubmit(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Has("upload") {
		return g.handleSubmitUpload(w, r)
	}
	done, err := g.svc.BeginUpload(r.Context())
	if err != nil {
		return err
	}
	defer done()
	rd := g.openBody(w, r, g.cfg.MaxBodyBytes)
	defer rd.Release()
	// The body's hash tells a replay under an Idempotency-Key from another
	// body; without a key nothing reads it, so it is not computed (SHA-256
	// was a fifth of the gateway's CPU on a large binary upload).
	var body io.Reader = r.Body
	var digest hash.Hash
	if r.Header.Get("Idempotency-Key") != "" {
		digest = sha256.New()
		body = io.TeeReader(r.Body, digest)
	}
	sub, err := g.submission(r, body)
	if err != nil {
		return err
	}
	if sub.Streamed {
		rd.Stream(streamWindow)
	}
	if sub.MaxInvalid, err = intParam(r, "max_invalid", 0, 0, math.MaxInt32); err != nil {
		return err
	}
	sub.IDColumn = r.URL.Query().Get("id_column")
	sub.Webhook = cmp.Or(sub.Webhook, r.URL.Query().Get("webhook")) // a JSON body's wins
	sub.IdempotencyKey = r.Header.Get("Idempotency-Key")
	if digest != nil {
		sub.BodyHash = func() string { return hex.EncodeToString(digest.Sum(nil)) }
	}
	sub.Drain = func() error { _, err := io.Copy(io.Discard, body); return bodyErr(err) }
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
// whole, up to GATEWAY_MAX_JSON_BODY_BYTES, split without decoding the
// inputs twice), or NDJSON, CSV and binary tensors streamed to the decoder
// with the model in the query.
func (g *Gateway) submission(r *http.Request, body io.Reader) (service.Submission, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json", "", "application/x-www-form-urlencoded": // the last is curl -d's default
		raw, err := readAll(io.LimitReader(body, g.cfg.MaxJSONBodyBytes+1), min(r.ContentLength, g.cfg.MaxJSONBodyBytes+1))
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
			Priority: cmp.Or(req.Priority, r.URL.Query().Get("priority")), Deadline: cmp.Or(req.Deadline, r.URL.Query().Get("deadline")), Webhook: req.Webhook}, nil
	case "application/x-ndjson", "application/ndjson", "text/csv", "application/octet-stream", "application/x-npy", "application/npy":
		q := r.URL.Query()
		if q.Get("model") == "" {
			return service.Submission{}, api.Errorf(api.CodeBadRequest, "the model query parameter is required for %s uploads", ct)
		}
		return service.Submission{Model: q.Get("model"), Version: q.Get("version"), Name: jobName(r, ""), Items: streamed(ct, body),
			Priority: q.Get("priority"), Deadline: q.Get("deadline"), Streamed: true}, nil
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

// readAll reads a whole body into one buffer of its declared length (the
// body's reader bounds it), instead of growing one by doubling: a JSON
// body is held once, not up to twice.
func readAll(body io.Reader, length int64) ([]byte, error) {
	if length <= 0 {
		return io.ReadAll(body)
	}
	buf := make([]byte, length+1) // +1: the end is seen without growing
	n, err := io.ReadFull(body, buf)
	var ae *api.Error
	switch {
	case errors.As(err, &ae):
		return nil, ae
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return buf[:n], nil
	case err != nil:
		return nil, err
	}
	rest, err := io.ReadAll(body) // more than declared: the body's reader decides
	return append(buf, rest...), err
}

// streamWindow is how much of a streamed body the decode budget counts: a
// line or record being decoded and the chunk being filled are what the
// gateway holds of it (GATEWAY_MAX_LINE_BYTES bounds a line; chunks are
// under GATEWAY_MAX_CHUNK_BYTES).
const streamWindow = 1 << 20

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

// handleSubmitUpload creates a job reading a finished upload (a dataset):
// POST /v1/jobs?model=M&upload=ID[&format=][&max_invalid=][&id_column=].
func (g *Gateway) handleSubmitUpload(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("model") == "" {
		return api.Errorf(api.CodeBadRequest, "the model query parameter is required")
	}
	maxInvalid, err := intParam(r, "max_invalid", 0, 0, math.MaxInt32)
	if err != nil {
		return err
	}
	st, err := g.svc.SubmitUpload(r.Context(), service.DatasetSubmission{
		Model: q.Get("model"), Version: q.Get("version"), Upload: q.Get("upload"), Format: q.Get("format"),
		MaxInvalid: maxInvalid, IDColumn: q.Get("id_column"), Name: q.Get("name"),
		Priority: q.Get("priority"), Deadline: q.Get("deadline"), Webhook: q.Get("webhook"),
	})
	if err != nil {
		return err
	}
	resp := api.SubmitResponse{Job: st, Links: api.LinksFor(st.ID)}
	w.Header().Set("Location", resp.Links.Self)
	api.WriteJSON(w, http.StatusAccepted, resp)
	return nil
}

// bodyErr names a failed body read for the client (reqbody's errors are
// already *api.Error).
func bodyErr(err error) error {
	if err == nil {
		return nil
	}
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

// handleWebhooks answers a job's webhook and its delivery log.
func (g *Gateway) handleWebhooks(w http.ResponseWriter, r *http.Request) error {
	hooks, err := g.svc.Webhooks(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	api.WriteJSON(w, http.StatusOK, hooks)
	return nil
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
