package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model"
)

// ErrorBody is the JSON body of every error response.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// JobRequest is the JSON body of POST /v1/jobs (and what a WebSocket
// submit carries).
type JobRequest struct {
	Model   string            `json:"model"`
	Version string            `json:"version,omitempty"`
	Name    string            `json:"name,omitempty"`
	Inputs  []json.RawMessage `json:"inputs"`
	// Priority is high, normal (the default) or low: the order a tenant's
	// jobs are served in, within its share.
	Priority string `json:"priority,omitempty"`
	// Deadline is an RFC 3339 time or a duration from now ("30m"): items
	// not started by then are skipped (deadline_exceeded).
	Deadline string `json:"deadline,omitempty"`
	// Webhook is the URL the job's end is posted to (signed, Standard
	// Webhooks): the tenant's default when omitted, none for "none".
	Webhook string `json:"webhook,omitempty"`
}

// SubmitResponse answers an accepted (202) or replayed (200) job.
type SubmitResponse struct {
	Job   wire.JobStatus `json:"job"`
	Links JobLinks       `json:"links"`
}

// JobLinks are where to follow a job and fetch its files.
type JobLinks struct {
	Self    string `json:"self"`
	Results string `json:"results"`
	// Output and Errors are the job's files once it has finished: every
	// item, and the failed items only (add ?format=csv for CSV).
	Output string `json:"output"`
	Errors string `json:"errors"`
	WS     string `json:"ws"`
}

// LinksFor returns a job's links.
func LinksFor(id string) JobLinks {
	job := "/v1/jobs/" + id
	return JobLinks{Self: job, Results: job + "/results", Output: job + "/output", Errors: job + "/errors", WS: "/v1/ws"}
}

// Job is GET /v1/jobs/{id}: the job's status and its links.
type Job struct {
	wire.JobStatus
	Links JobLinks `json:"links"`
}

// ErrorsFileLine is one line of a job's NDJSON errors file
// (GET /v1/jobs/{id}/errors): a failed item, its input line and id, and why.
type ErrorsFileLine struct {
	Index  int    `json:"index"`
	Line   int    `json:"line,omitempty"`
	ID     string `json:"id,omitempty"`
	Reason string `json:"reason"`
}

// PredictRequest is the body of POST /v1/models/{name}/predict.
type PredictRequest struct {
	Inputs []json.RawMessage `json:"inputs"`
}

// PredictResponse is a synchronous prediction's answer.
type PredictResponse struct {
	Model   string `json:"model"`
	Version string `json:"version"`
	// Items is a JSON array of ItemResult, in input order, passed through
	// as the worker encoded it.
	Items     json.RawMessage `json:"items"`
	LatencyMS float64         `json:"latency_ms"`
}

// JobList is GET /v1/jobs: a page of jobs, the most recent first.
type JobList struct {
	Jobs []wire.JobStatus `json:"jobs"`
	// NextCursor is the cursor of the next page; absent on the last.
	NextCursor string `json:"next_cursor,omitempty"`
	// Total counts the tenant's jobs; absent for a filtered listing.
	Total *int `json:"total,omitempty"`
}

// ResultsPage is GET /v1/jobs/{id}/results as JSON: finished items in index
// order. NextOffset is null on the last page.
type ResultsPage struct {
	Job        string            `json:"job"`
	Offset     int               `json:"offset"`
	Limit      int               `json:"limit"`
	Items      []wire.ItemResult `json:"items"`
	Complete   bool              `json:"complete"`
	NextOffset *int              `json:"next_offset"`
}

// ModelInfo is a model version as the catalogue shows it.
type ModelInfo struct {
	model.Metadata
	ItemSize int  `json:"item_size"`
	Workers  int  `json:"workers"`
	Ready    bool `json:"ready"`
	// Source is "disk" (a worker's models directory) or "registry"
	// (pushed); State is loading, ready, unserved or retiring (see
	// RegistryVersion).
	Source string `json:"source"`
	State  string `json:"state"`
}

// Whoami is GET /v1/whoami: who the caller's credentials make it.
type Whoami struct {
	Tenant string `json:"tenant"`
	Role   string `json:"role"`
	KeyID  string `json:"key_id"`
	// AuthRequired is false when the gateway runs without authentication
	// (-auth=none): every caller is the same anonymous operator.
	AuthRequired bool `json:"auth_required"`
}

// Limits is GET /v1/limits: the caller's limits, known before an upload.
// A limit of 0 in Tenant is none.
type Limits struct {
	// MaxJobItems bounds a job's items (GATEWAY_MAX_ITEMS).
	MaxJobItems int `json:"max_job_items"`
	// MaxBodyBytes bounds a streamed job body (NDJSON, CSV, binary),
	// MaxJSONBodyBytes a JSON job body, read whole.
	MaxBodyBytes     int64 `json:"max_body_bytes"`
	MaxJSONBodyBytes int64 `json:"max_json_body_bytes"`
	// MaxUploadBytes bounds one resumable upload (Tus-Max-Size).
	MaxUploadBytes int64 `json:"max_upload_bytes"`
	// MaxSyncItems bounds a synchronous prediction's inputs.
	MaxSyncItems int          `json:"max_sync_items"`
	Tenant       TenantLimits `json:"tenant"`
}

// TenantLimits are the quotas of the caller's tenant (its key's, else the
// gateway's defaults); 0 is no limit.
type TenantLimits struct {
	// MaxJobs bounds its unfinished jobs, MaxItemsInFlight their items
	// not done (by cost).
	MaxJobs          int `json:"max_jobs"`
	MaxItemsInFlight int `json:"max_items_in_flight"`
	// MaxUploads bounds its unfinished uploads, MaxUploadBytes the
	// declared sizes of all its stored uploads.
	MaxUploads     int   `json:"max_uploads"`
	MaxUploadBytes int64 `json:"max_upload_bytes"`
	// MaxResultBytes is its share of the results store: what its jobs
	// hold until they expire and will store.
	MaxResultBytes int64 `json:"max_result_bytes"`
}

// ModelList is GET /v1/models.
type ModelList struct {
	Models []ModelInfo `json:"models"`
	// Aliases are every model's aliases, by model then name.
	Aliases []Alias `json:"aliases"`
}

// ModelVersions is GET /v1/models/{name}.
type ModelVersions struct {
	Name     string      `json:"name"`
	Versions []ModelInfo `json:"versions"`
}

// QueueDepth is the depth of one model version's queues.
type QueueDepth struct {
	PendingChunks  uint64 `json:"pending_chunks"`
	InFlightChunks int    `json:"in_flight_chunks"`
	PendingSync    uint64 `json:"pending_sync"`
}

// Queue is the depth of every queue, and their sum.
type Queue struct {
	QueueDepth
	ByModel map[string]QueueDepth `json:"by_model"`
}

// Cluster is GET /v1/cluster.
type Cluster struct {
	Workers []wire.WorkerInfo `json:"workers"`
	Queue   Queue             `json:"queue"`
	Time    time.Time         `json:"time"`
}

// Health is GET /health; Ready is GET /ready.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
}

// Ready is GET /ready: status "ready" (200) or "not_ready" with a reason (503).
type Ready struct {
	Status string       `json:"status"`
	Reason string       `json:"reason,omitempty"`
	Detail *ReadyDetail `json:"detail,omitempty"`
}

// ReadyDetail is what the gateway last read of the shared stores.
type ReadyDetail struct {
	ResultsStore *StoreFill `json:"results_store,omitempty"`
}

// StoreFill is a stream's size against its bound.
type StoreFill struct {
	Bytes    uint64  `json:"bytes"`
	MaxBytes int64   `json:"max_bytes"`
	Fill     float64 `json:"fill"`
}

// WriteJSON writes v as the JSON body of a response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteJSONBytes writes b, already JSON, as WriteJSON would.
func WriteJSONBytes(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// WriteError writes e as an error response: its code's status, the JSON
// body, and Retry-After when e has a hint.
func WriteError(w http.ResponseWriter, e *Error) {
	if s := e.RetryAfterSeconds(); s > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(s))
	}
	WriteJSON(w, e.Code.HTTPStatus(), ErrorBody{Error: e})
}
