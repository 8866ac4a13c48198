package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// jobRequest is the JSON body of POST /v1/jobs and of a WebSocket submit.
type jobRequest struct {
	Model   string            `json:"model"`
	Version string            `json:"version"`
	Inputs  []json.RawMessage `json:"inputs"`
}

// submitResponse is the body of an accepted job.
type submitResponse struct {
	Job   wire.JobStatus    `json:"job"`
	Links map[string]string `json:"links"`
}

func (g *Gateway) resolveModel(name, version string) (*model.Metadata, error) {
	if !model.ValidName(name) {
		return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "model name %q is invalid", name)
	}
	if version != "" && !model.ValidName(version) {
		return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "model version %q is invalid", version)
	}
	m, ok := g.cat.resolve(name, version)
	if !ok {
		if version != "" {
			return nil, apiErr(http.StatusNotFound, CodeUnknownModel, "unknown model %s version %s", name, version)
		}
		return nil, apiErr(http.StatusNotFound, CodeUnknownModel, "unknown model %s", name)
	}
	return m, nil
}

// decodeJSONBody decodes a strict JSON object body.
func decodeJSONBody(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if errors.Is(err, io.EOF) {
			return apiErr(http.StatusBadRequest, CodeInvalidJSON, "empty body: expected a JSON object")
		}
		return apiErr(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON: %s", jsonErrText(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return apiErr(http.StatusBadRequest, CodeInvalidJSON, "malformed JSON: trailing data after the object")
	}
	return nil
}

// decodeInputs validates raw JSON items for meta.
func (g *Gateway) decodeInputs(meta *model.Metadata, inputs []json.RawMessage, maxItems int) ([]wire.Item, error) {
	if len(inputs) > maxItems {
		return nil, apiErr(http.StatusRequestEntityTooLarge, CodeTooManyItems, "%d items, the limit is %d", len(inputs), maxItems)
	}
	d := newInputDecoder(meta, maxItems, g.cfg.MaxImageBytes)
	for _, raw := range inputs {
		if err := d.add(raw, 0); err != nil {
			return nil, err
		}
	}
	return d.result()
}

func (g *Gateway) handleSubmit(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes)
	hash := sha256.New()
	body := io.TeeReader(r.Body, hash)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var (
		meta  *model.Metadata
		items []wire.Item
		err   error
	)
	switch ct {
	case "application/json", "", "application/x-www-form-urlencoded": // the last is curl -d's default
		raw, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		req, err := splitJobBody(raw)
		if err != nil {
			if err := decodeJSONBody(bytes.NewReader(raw), &req); err != nil {
				return err
			}
		}
		if req.Model == "" {
			return apiErr(http.StatusBadRequest, CodeBadRequest, `"model" is required`)
		}
		if meta, err = g.resolveModel(req.Model, req.Version); err != nil {
			return err
		}
		if items, err = g.decodeInputs(meta, req.Inputs, g.cfg.MaxItems); err != nil {
			return err
		}
	case "application/x-ndjson", "application/ndjson", "text/csv":
		q := r.URL.Query()
		if q.Get("model") == "" {
			return apiErr(http.StatusBadRequest, CodeBadRequest, "the model query parameter is required for %s uploads", ct)
		}
		if meta, err = g.resolveModel(q.Get("model"), q.Get("version")); err != nil {
			return err
		}
		d := newInputDecoder(meta, g.cfg.MaxItems, g.cfg.MaxImageBytes)
		if ct == "text/csv" {
			err = d.decodeCSV(body)
		} else {
			err = d.decodeNDJSON(body, int(min(g.cfg.MaxBodyBytes, 32<<20)))
		}
		if err != nil {
			return err
		}
		if items, err = d.result(); err != nil {
			return err
		}
	default:
		return apiErr(http.StatusUnsupportedMediaType, CodeUnsupportedMedia,
			"content type %q is not supported: use application/json, application/x-ndjson or text/csv", ct)
	}
	st, replayed, err := g.submitJob(r.Context(), meta, items, r.Header.Get("Idempotency-Key"), hex.EncodeToString(hash.Sum(nil)))
	if err != nil {
		return err
	}
	resp := submitResponse{Job: st, Links: jobLinks(st.ID)}
	w.Header().Set("Location", resp.Links["self"])
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusOK, resp)
		return nil
	}
	writeJSON(w, http.StatusAccepted, resp)
	return nil
}

func jobLinks(id string) map[string]string {
	return map[string]string{
		"self":    "/v1/jobs/" + id,
		"results": "/v1/jobs/" + id + "/results",
		"ws":      "/v1/ws",
	}
}

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 256

// submitJob records and queues a job. With an idempotency key, a repeated
// submission returns the first job (replayed = true), finishing its queueing
// if the first attempt was cut short.
func (g *Gateway) submitJob(ctx context.Context, meta *model.Metadata, items []wire.Item, idemKey, bodySHA string) (wire.JobStatus, bool, error) {
	id := newJobID()
	if idemKey != "" {
		if len(idemKey) > maxIdempotencyKey {
			return wire.JobStatus{}, false, apiErr(http.StatusBadRequest, CodeBadRequest, "Idempotency-Key longer than %d bytes", maxIdempotencyKey)
		}
		sum := sha256.Sum256([]byte(idemKey))
		key := hex.EncodeToString(sum[:])
		rec := wire.IdempotencyRecord{Job: id, BodySHA256: bodySHA}
		if _, err := g.b.Idempotency.Create(ctx, key, wire.Marshal(rec)); err != nil {
			if !errors.Is(err, jetstream.ErrKeyExists) {
				return wire.JobStatus{}, false, fmt.Errorf("store idempotency key: %w", err)
			}
			e, err := g.b.Idempotency.Get(ctx, key)
			if err != nil {
				return wire.JobStatus{}, false, fmt.Errorf("read idempotency key: %w", err)
			}
			var prev wire.IdempotencyRecord
			if err := json.Unmarshal(e.Value(), &prev); err != nil {
				return wire.JobStatus{}, false, fmt.Errorf("decode idempotency key: %w", err)
			}
			if prev.BodySHA256 != bodySHA {
				return wire.JobStatus{}, false, apiErr(http.StatusConflict, CodeConflict, "Idempotency-Key already used for a different request body")
			}
			r, err := natsx.GetJob(ctx, g.b.Jobs, prev.Job)
			switch {
			case errors.Is(err, jetstream.ErrKeyNotFound):
				id = prev.Job // the first attempt died before writing the job
			case err != nil:
				return wire.JobStatus{}, false, err
			case r.State == wire.StateAccepting:
				if err := g.queueChunks(ctx, r, meta, items); err != nil {
					return wire.JobStatus{}, false, err
				}
				r, err = g.markQueued(ctx, r.ID)
				if err != nil {
					return wire.JobStatus{}, false, err
				}
				return r.Status(time.Now()), true, nil
			default:
				return r.Status(time.Now()), true, nil
			}
		}
	}
	chunkSize := g.chunkSize(meta, items)
	now := time.Now().UTC()
	rec := &wire.JobRecord{
		ID: id, Model: meta.Name, Version: meta.Version, Total: len(items),
		Chunks: (len(items) + chunkSize - 1) / chunkSize, ChunkSize: chunkSize,
		State: wire.StateAccepting, CreatedAt: now, BodySHA256: bodySHA,
	}
	if _, err := g.b.Jobs.Create(ctx, id, wire.Marshal(rec)); err != nil {
		return wire.JobStatus{}, false, fmt.Errorf("create job %s: %w", id, err)
	}
	if err := g.queueChunks(ctx, rec, meta, items); err != nil {
		return wire.JobStatus{}, false, err
	}
	r, err := g.markQueued(ctx, id)
	if err != nil {
		return wire.JobStatus{}, false, err
	}
	g.metrics.jobs.Inc()
	g.metrics.items.WithLabelValues("batch").Add(float64(len(items)))
	return r.Status(time.Now()), false, nil
}

func (g *Gateway) markQueued(ctx context.Context, id string) (*wire.JobRecord, error) {
	return natsx.UpdateJob(ctx, g.b.Jobs, id, func(r *wire.JobRecord) bool {
		if r.State != wire.StateAccepting {
			return false
		}
		r.State = wire.StateQueued
		return true
	})
}

// chunkSize is the model's chunk size, reduced so a chunk of the job's
// largest items fits in MaxChunkBytes.
func (g *Gateway) chunkSize(meta *model.Metadata, items []wire.Item) int {
	size := meta.ChunkSize
	if size <= 0 {
		size = g.cfg.DefaultChunkSize
	}
	biggest := 0
	for _, it := range items {
		biggest = max(biggest, len(it.Data)+16)
	}
	return max(1, min(size, g.cfg.MaxChunkBytes/max(biggest, 1)))
}

// queueChunks publishes the job's chunks; JetStream deduplicates them by
// message id, so this is safe to repeat.
func (g *Gateway) queueChunks(ctx context.Context, rec *wire.JobRecord, meta *model.Metadata, items []wire.Item) error {
	if len(items) != rec.Total {
		return apiErr(http.StatusConflict, CodeConflict, "job %s has %d items, request has %d", rec.ID, rec.Total, len(items))
	}
	subject := wire.InferSubject(wire.PriorityBatch, meta.Name, meta.Version)
	enq := strconv.FormatInt(time.Now().UnixNano(), 10)
	futures := make([]jetstream.PubAckFuture, 0, rec.Chunks)
	for c := 0; c < rec.Chunks; c++ {
		start := c * rec.ChunkSize
		end := min(start+rec.ChunkSize, len(items))
		msg := &nats.Msg{
			Subject: subject,
			Header: nats.Header{
				wire.HdrJob:     []string{rec.ID},
				wire.HdrChunk:   []string{strconv.Itoa(c)},
				wire.HdrStart:   []string{strconv.Itoa(start)},
				wire.HdrCount:   []string{strconv.Itoa(end - start)},
				wire.HdrEnqueue: []string{enq},
			},
			Data: wire.EncodeChunk(nil, items[start:end]),
		}
		f, err := g.js.PublishMsgAsync(msg, jetstream.WithMsgID(wire.ChunkMsgID(rec.ID, c)), jetstream.WithExpectStream(wire.StreamInfer))
		if err != nil {
			return queueErr(fmt.Errorf("queue chunk %d of job %s: %w", c, rec.ID, err))
		}
		futures = append(futures, f)
	}
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return queueErr(fmt.Errorf("queue job %s: %w", rec.ID, err))
		case <-ctx.Done():
			return queueErr(fmt.Errorf("queue job %s: %w", rec.ID, ctx.Err()))
		case <-time.After(natsOpTimeout):
			return queueErr(fmt.Errorf("queue job %s: no ack after %s", rec.ID, natsOpTimeout))
		}
	}
	return nil
}

// queueErr maps a failure to queue work to 503: the queue is full or NATS
// is unreachable. The client may retry with the same Idempotency-Key.
func queueErr(err error) error {
	code, msg := CodeUnavailable, "the queue is unavailable, retry later"
	if strings.Contains(err.Error(), "maximum") || strings.Contains(err.Error(), "limit") {
		code, msg = CodeQueueFull, "the queue is full, retry later"
	}
	return &APIError{Status: http.StatusServiceUnavailable, Code: code, Message: msg, RetryAfter: 1, Err: err}
}

const jobIDAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// newJobID returns "j" + 10 characters of millisecond time (so ids sort by
// creation) + 12 random characters.
func newJobID() string {
	var b [23]byte
	b[0] = 'j'
	t := uint64(time.Now().UnixMilli())
	for i := 10; i >= 1; i-- {
		b[i] = jobIDAlphabet[t&31]
		t >>= 5
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	for i, r := range rnd {
		b[11+i] = jobIDAlphabet[r&31]
	}
	return string(b[:])
}

func validJobID(id string) bool {
	if len(id) != 23 || id[0] != 'j' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if !strings.ContainsRune(jobIDAlphabet, rune(id[i])) {
			return false
		}
	}
	return true
}

func (g *Gateway) loadJob(ctx context.Context, id string) (*wire.JobRecord, error) {
	if !validJobID(id) {
		return nil, apiErr(http.StatusNotFound, CodeUnknownJob, "unknown job %q", id)
	}
	r, err := natsx.GetJob(ctx, g.b.Jobs, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, apiErr(http.StatusNotFound, CodeUnknownJob, "unknown job %q", id)
	}
	return r, err
}

func (g *Gateway) handleJob(w http.ResponseWriter, r *http.Request) error {
	rec, err := g.loadJob(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec.Status(time.Now()))
	return nil
}

func (g *Gateway) handleListJobs(w http.ResponseWriter, r *http.Request) error {
	limit, err := intParam(r, "limit", 50, 1, g.cfg.MaxJobsListed)
	if err != nil {
		return err
	}
	lister, err := g.b.Jobs.ListKeys(r.Context())
	if err != nil {
		return fmt.Errorf("list jobs: %w", err)
	}
	var ids []string
	for k := range lister.Keys() {
		ids = append(ids, k)
	}
	slices.Sort(ids)
	slices.Reverse(ids)
	out := make([]wire.JobStatus, 0, min(limit, len(ids)))
	now := time.Now()
	for _, id := range ids {
		if len(out) == limit {
			break
		}
		rec, err := natsx.GetJob(r.Context(), g.b.Jobs, id)
		if err != nil {
			continue // expired between list and get
		}
		out = append(out, rec.Status(now))
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": out})
	return nil
}

func (g *Gateway) handleCancel(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rec, err := g.loadJob(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if rec.Finished() && rec.CancelledAt == nil {
		return apiErr(http.StatusConflict, CodeConflict, "job %s already completed", rec.ID)
	}
	if _, err := g.b.Cancel.Put(ctx, rec.ID, []byte("1")); err != nil {
		return fmt.Errorf("cancel job %s: %w", rec.ID, err)
	}
	rec, err = natsx.UpdateJob(ctx, g.b.Jobs, rec.ID, func(j *wire.JobRecord) bool {
		if j.CancelledAt != nil {
			return false
		}
		now := time.Now().UTC()
		j.CancelledAt = &now
		return true
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rec.Status(time.Now()))
	return nil
}

func intParam(r *http.Request, name string, def, lo, hi int) (int, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, apiErr(http.StatusBadRequest, CodeBadRequest, "%s must be an integer in [%d, %d]", name, lo, hi)
	}
	return n, nil
}

// maxResultsPage bounds GET /v1/jobs/{id}/results?limit=.
const maxResultsPage = 10_000

func (g *Gateway) handleResults(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	rec, err := g.loadJob(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format == "" && strings.Contains(r.Header.Get("Accept"), "application/x-ndjson") {
		format = "ndjson"
	}
	switch format {
	case "ndjson":
		return g.streamResults(w, r, rec)
	case "", "json":
	default:
		return apiErr(http.StatusBadRequest, CodeBadRequest, "format must be json or ndjson")
	}
	offset, err := intParam(r, "offset", 0, 0, max(rec.Total-1, 0))
	if err != nil {
		return err
	}
	limit, err := intParam(r, "limit", 1000, 1, maxResultsPage)
	if err != nil {
		return err
	}
	end := min(offset+limit, rec.Total)
	items := make([]wire.ItemResult, 0, end-offset)
	complete := true
	for c := offset / rec.ChunkSize; c*rec.ChunkSize < end; c++ {
		cr, err := natsx.GetChunkResult(ctx, g.results, rec.ID, c)
		if err != nil {
			return err
		}
		if cr == nil {
			complete = false
			continue
		}
		for _, it := range cr.Items {
			if it.Index >= offset && it.Index < end {
				items = append(items, it)
			}
		}
	}
	resp := map[string]any{"job": rec.ID, "offset": offset, "limit": limit, "items": items, "complete": complete, "next_offset": nil}
	if end < rec.Total {
		resp["next_offset"] = end
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// streamResults writes every item result as NDJSON in index order, waiting
// for chunks still in the queue, until all are written or the client leaves.
func (g *Gateway) streamResults(w http.ResponseWriter, r *http.Request, rec *wire.JobRecord) error {
	ctx := r.Context()
	cons, err := g.js.OrderedConsumer(ctx, wire.StreamResults, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{wire.ResultFilter(rec.ID)},
	})
	if err != nil {
		return fmt.Errorf("follow results of %s: %w", rec.ID, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("follow results of %s: %w", rec.ID, err)
	}
	defer it.Stop()
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(w, 64<<10)
	rc := http.NewResponseController(w)
	pending := map[int]*wire.ChunkResult{}
	next := 0
	enc := json.NewEncoder(bw)
	for next < rec.Chunks {
		m, err := it.Next()
		if err != nil {
			return nil // client gone or server stopping: the status line is sent
		}
		var cr wire.ChunkResult
		if err := json.Unmarshal(m.Data(), &cr); err != nil {
			g.log.Warn().Err(err).Str("job", rec.ID).Msg("skipping undecodable result")
			continue
		}
		pending[cr.Chunk] = &cr
		for pending[next] != nil {
			for _, item := range pending[next].Items {
				_ = enc.Encode(item)
			}
			delete(pending, next)
			next++
		}
		_ = bw.Flush()
		_ = rc.Flush()
	}
	return bw.Flush()
}
