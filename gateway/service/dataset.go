package service

import (
	"context"
	"errors"
	"path"
	"strings"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/input"
	"batchinfer/internal/store"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/rs/zerolog"
)

// Dataset formats a job may read from an upload.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
	FormatNPY    = "npy"
	FormatRaw    = "octet-stream"
)

// DatasetSubmission is a job whose items are a finished upload's (a
// dataset): read in the background, chunk by chunk, while the first
// chunks already run.
type DatasetSubmission struct {
	Model, Version string
	// Upload is the upload's id; Format its format ("" to tell it from the
	// upload's filetype or filename).
	Upload, Format     string
	MaxInvalid         int
	IDColumn, Name     string
	Priority, Deadline string
	// Webhook: "" for the tenant's default, "none" for none.
	Webhook string
}

// SubmitUpload creates a job that reads a finished upload of the caller's
// tenant. The job is admitted against the upload's bound on its items
// (its lines, or its size), and answered at once: the reading goes on in
// the background, on whichever gateway takes it (and another if that one
// dies: nothing is read twice), and the job's first chunks run while the
// rest is read.
func (s *Service) SubmitUpload(ctx context.Context, sub DatasetSubmission) (wire.JobStatus, error) {
	meta, info, format, err := s.checkDataset(ctx, sub)
	if err != nil {
		return wire.JobStatus{}, err
	}
	p := caller(ctx)
	opts, err := s.jobOptions(ctx, p, sub.Priority, sub.Deadline, cmpName(sub.Name, info.Filename()), sub.Webhook)
	if err != nil {
		return wire.JobStatus{}, err
	}
	bound := datasetBound(meta, info, format)
	if bound > s.cfg.MaxItems {
		return wire.JobStatus{}, api.Errorf(api.CodeTooManyItems, "the upload has up to %d items, the limit is %d (GATEWAY_MAX_ITEMS)", bound, s.cfg.MaxItems)
	}
	id := newJobID()
	rec := s.newRecord(id, meta, p)
	rec.Trace = tracing.Record(ctx)
	opts.apply(rec)
	rec.Total = bound
	rec.Source = &wire.JobSource{Upload: info.ID, Format: format, IDColumn: sub.IDColumn, MaxInvalid: sub.MaxInvalid}
	rec.ResultBytesEst = s.resultBytes(meta, bound, rec.ChunkSize)
	if err := s.admitDataset(ctx, p, rec); err != nil {
		return wire.JobStatus{}, err
	}
	if err := s.jobs.Create(ctx, rec); err != nil {
		s.unreserve(p, id)
		s.store.release(id)
		s.backlog.release(id)
		return wire.JobStatus{}, queueErr(err)
	}
	if err := s.ingests.Add(ctx, id); err != nil {
		s.abort(context.WithoutCancel(ctx), rec, "")
		s.unreserve(p, id)
		return wire.JobStatus{}, queueErr(err)
	}
	s.metrics.jobs.WithLabelValues(meta.ID(), p.Tenant).Inc()
	s.Audit.Job(ctx, "job_submitted", id, func(e *zerolog.Event) {
		e.Str("model", meta.ID()).Str("upload", info.ID).Int("items_bound", bound)
	})
	return s.status(rec), nil
}

// admitDataset admits the job against its model's backlog, and reserves
// its quota and room in the results store, for the upload's bound on its
// items.
func (s *Service) admitDataset(ctx context.Context, p *auth.Principal, rec *wire.JobRecord) error {
	if err := s.backlog.admit(rec.ID, rec.Model+":"+rec.Version, p.Tenant, rec.Total); err != nil {
		return err
	}
	if err := s.reserve(ctx, p, rec.ID, int64(rec.Total), rec.ResultBytesEst); err != nil {
		s.backlog.release(rec.ID)
		return err
	}
	if err := s.store.admit(ctx, rec.ID, rec.ResultBytesEst, rec.Total); err != nil {
		s.backlog.release(rec.ID)
		s.unreserve(p, rec.ID)
		return err
	}
	return nil
}

// checkDataset checks the submission: the model, the upload (finished, the
// caller's) and its format.
func (s *Service) checkDataset(ctx context.Context, sub DatasetSubmission) (*model.Metadata, store.UploadInfo, string, error) {
	meta, err := s.Model(sub.Model, sub.Version)
	if err != nil {
		return nil, store.UploadInfo{}, "", err
	}
	if sub.MaxInvalid < 0 {
		return nil, store.UploadInfo{}, "", api.Errorf(api.CodeBadRequest, "max_invalid must not be negative")
	}
	if s.UploadStore == nil {
		return nil, store.UploadInfo{}, "", api.Errorf(api.CodeNotFound, "uploads are not served here")
	}
	info, err := s.UploadStore.Info(ctx, caller(ctx).Tenant, sub.Upload)
	if err != nil {
		return nil, info, "", uploadErr(sub.Upload, err)
	}
	if !info.Finished() {
		return nil, info, "", api.Errorf(api.CodeConflict, "upload %s is not finished: %d of its %d bytes are stored; finish it (tus PATCH) first", info.ID, info.Offset, info.Size)
	}
	format, err := datasetFormat(sub.Format, info)
	if err != nil {
		return nil, info, "", err
	}
	if sub.IDColumn != "" && format != FormatCSV {
		return nil, info, "", api.Errorf(api.CodeBadRequest, "id_column is for CSV datasets; this one is %s", format)
	}
	return meta, info, format, nil
}

// uploadErr is the client's answer for an upload that cannot be read.
func uploadErr(id string, err error) error {
	switch {
	case errors.Is(err, store.ErrUploadNotFound):
		return api.Errorf(api.CodeNotFound, "unknown upload %q", id)
	case errors.Is(err, store.ErrUploadExpired):
		return api.Errorf(api.CodeExpired, "upload %s expired: upload it again", id)
	}
	return queueErr(err)
}

// datasetFormat is the format asked for, else told by the upload's
// filetype or filename.
func datasetFormat(asked string, info store.UploadInfo) (string, error) {
	switch asked {
	case FormatNDJSON, FormatCSV, FormatNPY, FormatRaw:
		return asked, nil
	case "":
	default:
		return "", api.Errorf(api.CodeBadRequest, "format %q: want ndjson, csv, npy or octet-stream", asked)
	}
	switch strings.ToLower(strings.TrimSpace(strings.Split(info.Filetype(), ";")[0])) {
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines":
		return FormatNDJSON, nil
	case "text/csv":
		return FormatCSV, nil
	case "application/x-npy", "application/npy":
		return FormatNPY, nil
	case "application/octet-stream":
		return FormatRaw, nil
	}
	switch strings.ToLower(path.Ext(info.Filename())) {
	case ".ndjson", ".jsonl":
		return FormatNDJSON, nil
	case ".csv":
		return FormatCSV, nil
	case ".npy":
		return FormatNPY, nil
	case ".bin", ".f32", ".raw":
		return FormatRaw, nil
	}
	return "", api.Errorf(api.CodeBadRequest,
		"cannot tell the format of upload %s (filetype %q, filename %q): pass format=ndjson, csv, npy or octet-stream", info.ID, info.Filetype(), info.Filename())
}

// datasetBound is an upper bound on a dataset's items known before it is
// read: its lines (text), or its bytes over an item's (tensors).
func datasetBound(meta *model.Metadata, info store.UploadInfo, format string) int {
	switch format {
	case FormatNPY, FormatRaw:
		return int(info.Size / int64(max(4*meta.ItemSize(), 1)))
	}
	if info.EndsWithNewline {
		return int(info.Lines)
	}
	return int(info.Lines) + 1 // the last line has no newline
}

// datasetSource reads a dataset of format from r.
func datasetSource(format string, r interface{ Read([]byte) (int, error) }) input.Source {
	switch format {
	case FormatCSV:
		return input.CSV(r)
	case FormatNPY:
		return input.NPY(r)
	case FormatRaw:
		return input.Raw(r)
	}
	return input.NDJSON(r)
}

// jobOpts are a job's checked options.
type jobOpts struct {
	priority, name, webhook string
	deadline                *time.Time
}

func (o jobOpts) apply(r *wire.JobRecord) {
	r.Priority, r.Deadline, r.Name, r.Webhook = o.priority, o.deadline, o.name, o.webhook
}

// jobOptions checks a job's priority, deadline, name and webhook.
func (s *Service) jobOptions(ctx context.Context, p *auth.Principal, priority, deadline, name, webhook string) (jobOpts, error) {
	var o jobOpts
	var err error
	if o.priority, err = parsePriority(priority); err != nil {
		return o, err
	}
	if o.deadline, err = parseDeadline(deadline, time.Now(), s.cfg.MaxAge); err != nil {
		return o, err
	}
	if o.name, err = CheckJobName(name, s.cfg.MaxJobNameBytes); err != nil {
		return o, err
	}
	o.webhook, err = s.webhookOf(ctx, p.Tenant, webhook)
	return o, err
}

func cmpName(asked, fromUpload string) string {
	if asked != "" {
		return asked
	}
	return fromUpload
}
