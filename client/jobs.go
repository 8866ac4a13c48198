package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"batchinfer/api"
)

// Content types of job bodies.
const (
	ContentJSON   = "application/json"
	ContentNDJSON = "application/x-ndjson"
	ContentCSV    = "text/csv"
	ContentNPY    = "application/x-npy"
	ContentRaw    = "application/octet-stream"
)

// JobOptions are what a job may say beside its items.
type JobOptions struct {
	Model   string // required
	Version string // "": the highest served
	// Name names the input (e.g. its file's name), listed with the job.
	Name string
	// Priority is high, normal (the default) or low.
	Priority string
	// Deadline is an RFC 3339 time or a duration from now ("30m"): items
	// not started by then are skipped.
	Deadline string
	// Webhook is the URL the job's end is posted to; "none" for none,
	// "" for the tenant's default.
	Webhook string
	// IDColumn (CSV) names the column whose values identify the rows in
	// the output; MaxInvalid is how many invalid rows the job may skip
	// (failing them) rather than being refused.
	IDColumn   string
	MaxInvalid int
	// IdempotencyKey makes a body's submission safe to repeat: the same
	// key returns the job the first one created (and lets the client retry
	// a JSON submission however it failed). Without one, a submission is
	// retried only when the gateway surely did not create the job (no
	// connection, or an answer that it is restarting or busy).
	IdempotencyKey string
}

// query is the options as query parameters of POST /v1/jobs.
func (o JobOptions) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("model", o.Model)
	set("version", o.Version)
	set("name", o.Name)
	set("priority", o.Priority)
	set("deadline", o.Deadline)
	set("webhook", o.Webhook)
	set("id_column", o.IDColumn)
	if o.MaxInvalid > 0 {
		q.Set("max_invalid", strconv.Itoa(o.MaxInvalid))
	}
	return q
}

func (o JobOptions) header() http.Header {
	h := http.Header{}
	if o.IdempotencyKey != "" {
		h.Set("Idempotency-Key", o.IdempotencyKey)
	}
	return h
}

// Submit queues a job of inputs, sent as one JSON body (the gateway reads a
// JSON body whole, within GATEWAY_MAX_JSON_BODY_BYTES: large jobs go as a
// file, SubmitFile, or an upload, SubmitUpload).
func (c *Client) Submit(ctx context.Context, inputs []Input, opts JobOptions) (*api.SubmitResponse, error) {
	if opts.Model == "" {
		return nil, errors.New("submit: a model is required")
	}
	req := api.JobRequest{Model: opts.Model, Version: opts.Version, Name: opts.Name, Inputs: inputs,
		Priority: opts.Priority, Deadline: opts.Deadline, Webhook: opts.Webhook}
	q := url.Values{}
	if opts.IDColumn != "" {
		q.Set("id_column", opts.IDColumn)
	}
	if opts.MaxInvalid > 0 {
		q.Set("max_invalid", strconv.Itoa(opts.MaxInvalid))
	}
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	h := opts.header()
	h.Set("Content-Type", ContentJSON)
	var out api.SubmitResponse
	k := &call{method: http.MethodPost, path: "/v1/jobs", query: q, header: h, body: b}
	if err := c.create(ctx, k, opts.IdempotencyKey != "", &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// create makes a call that creates something: retried however it failed
// when it is idempotent, else only while the gateway surely did not
// create it (no connection, or an answer that it is unavailable or busy).
func (c *Client) create(ctx context.Context, k *call, idempotent bool, out any) error {
	return c.retrying(ctx, true, func() error {
		err := c.doCall(ctx, k, out)
		if idempotent {
			return err
		}
		return createErr(err)
	})
}

// SubmitBody queues a job whose items are body, streamed as it is read:
// NDJSON (one ItemInput per line), CSV (one row per item, an optional
// header naming the features), a .npy array or raw little-endian float32
// values, as contentType says. The body is sent once (never retried).
func (c *Client) SubmitBody(ctx context.Context, body io.Reader, contentType string, opts JobOptions) (*api.SubmitResponse, error) {
	if opts.Model == "" {
		return nil, errors.New("submit: a model is required")
	}
	h := opts.header()
	h.Set("Content-Type", contentType)
	var out api.SubmitResponse
	if err := c.doCall(ctx, &call{method: http.MethodPost, path: "/v1/jobs", query: opts.query(), header: h, stream: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SubmitFile queues a job of the file at path, streamed in one request,
// its content type told by its extension (ContentTypeOf); the job is
// named after the file unless opts.Name is set. For a large file an
// upload (Upload, then SubmitUpload) survives dropped connections.
func (c *Client) SubmitFile(ctx context.Context, path string, opts JobOptions) (*api.SubmitResponse, error) {
	ct, err := ContentTypeOf(path)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("submit: %w", err)
	}
	defer f.Close()
	if opts.Name == "" {
		opts.Name = filepath.Base(path)
	}
	return c.SubmitBody(ctx, f, ct, opts)
}

// ContentTypeOf is the job body content type of a file, by its extension:
// .ndjson, .jsonl (NDJSON), .csv, .npy, .f32 and .bin (raw float32).
func ContentTypeOf(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".ndjson", ".jsonl":
		return ContentNDJSON, nil
	case ".csv":
		return ContentCSV, nil
	case ".npy":
		return ContentNPY, nil
	case ".f32", ".bin", ".raw":
		return ContentRaw, nil
	}
	return "", fmt.Errorf("cannot tell the format of %s from its extension: name it .ndjson, .jsonl, .csv, .npy or .f32", path)
}

// DatasetFormat is the format name of POST /v1/jobs?upload= for a
// content type ("" when the gateway should tell it itself).
func DatasetFormat(contentType string) string {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case ContentNDJSON:
		return "ndjson"
	case ContentCSV:
		return "csv"
	case ContentNPY:
		return "npy"
	case ContentRaw:
		return "octet-stream"
	}
	return ""
}

// SubmitUpload queues a job reading a finished upload (a dataset): its
// items are read in the background, the first ones running while the
// rest is read. format is ndjson, csv, npy or octet-stream ("": told from
// the upload's filetype or filename). The gateway takes no idempotency
// key here: the request is retried only while it surely created nothing.
func (c *Client) SubmitUpload(ctx context.Context, upload, format string, opts JobOptions) (*api.SubmitResponse, error) {
	if opts.Model == "" {
		return nil, errors.New("submit: a model is required")
	}
	q := opts.query()
	q.Set("upload", upload)
	if format != "" {
		q.Set("format", format)
	}
	var out api.SubmitResponse
	if err := c.create(ctx, &call{method: http.MethodPost, path: "/v1/jobs", query: q}, false, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Job is a job's status and links.
func (c *Client) Job(ctx context.Context, id string) (*api.Job, error) {
	return getAs[api.Job](ctx, c, jobPath(id), nil)
}

// Cancel cancels a job: items not run are skipped. Cancelling a job that
// has ended answers 409 conflict.
func (c *Client) Cancel(ctx context.Context, id string) (*api.JobStatus, error) {
	var out api.JobStatus
	if err := c.postJSON(ctx, jobPath(id, "cancel"), nil, nil, nil, true, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListOptions filter and page GET /v1/jobs.
type ListOptions struct {
	// Limit is the most jobs in a page (0: the gateway's default, 50).
	Limit int
	// Cursor is a page's NextCursor, for the page after it.
	Cursor string
	// Model is a model name or name:version.
	Model string
	// States keeps jobs in these states only.
	States []string
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	if o.Cursor != "" {
		q.Set("cursor", o.Cursor)
	}
	if o.Model != "" {
		q.Set("model", o.Model)
	}
	if len(o.States) > 0 {
		q.Set("state", strings.Join(o.States, ","))
	}
	return q
}

// Jobs is one page of the tenant's jobs, the most recent first.
func (c *Client) Jobs(ctx context.Context, opts ListOptions) (*api.JobList, error) {
	return getAs[api.JobList](ctx, c, "/v1/jobs", opts.query())
}

// AllJobs yields the tenant's jobs page after page from opts.Cursor until
// the last (a filtered page may be empty and still not the last).
func (c *Client) AllJobs(ctx context.Context, opts ListOptions) iter.Seq2[api.JobStatus, error] {
	return func(yield func(api.JobStatus, error) bool) {
		for {
			page, err := c.Jobs(ctx, opts)
			if err != nil {
				yield(api.JobStatus{}, err)
				return
			}
			for _, j := range page.Jobs {
				if !yield(j, nil) {
					return
				}
			}
			if page.NextCursor == "" {
				return
			}
			opts.Cursor = page.NextCursor
		}
	}
}

// Results is one page of a job's finished items in index order, from
// offset (limit 0: the gateway's default, 1000).
func (c *Client) Results(ctx context.Context, id string, offset, limit int) (*api.ResultsPage, error) {
	q := url.Values{"offset": {strconv.Itoa(offset)}}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	return getAs[api.ResultsPage](ctx, c, jobPath(id, "results"), q)
}

// Webhooks is a job's webhook and the delivery log of its end.
func (c *Client) Webhooks(ctx context.Context, id string) (*api.JobWebhooks, error) {
	return getAs[api.JobWebhooks](ctx, c, jobPath(id, "webhooks"), nil)
}
