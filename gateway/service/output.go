package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/output"
	"batchinfer/internal/wire"
)

// File is one download file of a finished job (package output), open for
// reading whole or by byte range: Size and ETag come from its index, and
// WriteRange renders only the chunks a range covers.
type File struct {
	s       *Service
	rec     *wire.JobRecord
	file    output.File
	idx     *wire.OutputIndex
	release func()
	once    sync.Once
}

// OpenFile opens the file of kind of job id in format (ndjson, the
// default, or csv). Only a finished job has files: a running one is a
// conflict with a retry hint, an expired one expired, another tenant's
// unknown. The file's index is read, or built when missing (one pass over
// the job's results). It takes one of the gateway's MaxDownloads slots
// until Close.
func (s *Service) OpenFile(ctx context.Context, id string, kind output.Kind, format string) (*File, error) {
	f, err := output.Parse(kind, format)
	if err != nil {
		return nil, api.Errorf(api.CodeBadRequest, "%v", err)
	}
	rec, err := s.loadResults(ctx, id)
	if err != nil {
		return nil, err
	}
	if !rec.Finished() {
		return nil, notFinished(rec)
	}
	release, err := s.acquireDownload()
	if err != nil {
		return nil, err
	}
	idx, err := s.outputIndex(ctx, rec, f)
	if err != nil {
		release()
		return nil, err
	}
	return &File{s: s, rec: rec, file: f, idx: idx, release: release}, nil
}

// notFinished answers a request for the files of a job still running,
// with a retry hint from its expected end (1 s to a minute).
func notFinished(rec *wire.JobRecord) error {
	after := 5 * time.Second
	if st := rec.Status(time.Now()); st.ETAMS != nil {
		after = min(max(time.Duration(*st.ETAMS)*time.Millisecond, time.Second), time.Minute)
	}
	return api.RetryLater(api.CodeConflict, after, nil,
		"job %s is not finished yet: %d of %d items; its files are ready once it is", rec.ID, rec.Processed(), rec.Total)
}

// acquireDownload takes a download slot or answers busy.
func (s *Service) acquireDownload() (func(), error) {
	return acquire(&s.downloads, s.cfg.MaxDownloads, "serves %d downloads")
}

// acquireBuild takes an index build slot or answers busy.
func (s *Service) acquireBuild() (func(), error) {
	return acquire(&s.indexing, s.cfg.MaxDownloads, "builds %d file indexes")
}

// acquire takes one of limit slots counted by n, or answers busy; what
// does is the gateway's activity for the message.
func acquire(n *atomic.Int64, limit int, what string) (func(), error) {
	if n.Add(1) > int64(limit) {
		n.Add(-1)
		return nil, api.RetryLater(api.CodeBusy, time.Second, nil,
			"this gateway "+what+", its limit (GATEWAY_MAX_DOWNLOADS): retry later or elsewhere", limit)
	}
	var once sync.Once
	return func() { once.Do(func() { n.Add(-1) }) }, nil
}

// Close gives the file's download slot back.
func (f *File) Close() { f.once.Do(f.release) }

// Size is the file's length in bytes.
func (f *File) Size() int64 { return f.idx.Size }

// ContentType is the file's media type.
func (f *File) ContentType() string { return f.file.ContentType() }

// Name is the file's name for a download: the job id and the file's.
func (f *File) Name() string { return f.rec.ID + "." + f.file.Name() }

// ETag is the file's strong entity tag: from the job, the file and its
// index (the digest of its bytes), so that it changes when its bytes do.
func (f *File) ETag() string {
	h := sha256.Sum256([]byte(f.rec.ID + "/" + f.file.Name() + "/" + f.idx.Basis + "/" + f.idx.SHA256))
	return `"` + hex.EncodeToString(h[:16]) + `"`
}

// ModTime is when the job's outcome last changed: when it finished, or a
// later count (a chunk of a failed job that was still running).
func (f *File) ModTime() time.Time {
	t := f.rec.CreatedAt
	for _, u := range []*time.Time{f.rec.FinishedAt, f.rec.UpdatedAt} {
		if u != nil && u.After(t) {
			t = *u
		}
	}
	return t.UTC().Truncate(time.Second)
}

// errRenderDrift is a chunk that renders to another length than its index
// says: the index is dropped (the next download builds it again).
var errRenderDrift = errors.New("a chunk rendered to another length than the file's index says")

// WriteRange writes bytes [from, to) of the file to w, reading only the
// chunks that hold them (and the index page that lists them). On an error
// part of the range may have been written.
func (f *File) WriteRange(ctx context.Context, w io.Writer, from, to int64) error {
	to = min(to, f.idx.Size)
	if hb := f.idx.HeaderBytes; from < hb && from < to {
		h := output.NewRenderer(f.file, f.idx.Columns).Header()
		if _, err := w.Write(h[from:min(to, hb)]); err != nil {
			return err
		}
		from = hb
	}
	r := output.NewRenderer(f.file, f.idx.Columns)
	starts := f.idx.PageStarts
	for p := max(output.Locate(starts, from), 0); p < len(starts) && starts[p] < to; p++ {
		if err := f.writePage(ctx, w, r, p, from, to); err != nil {
			return err
		}
	}
	return nil
}

// writePage writes what page p of the index holds of [from, to).
func (f *File) writePage(ctx context.Context, w io.Writer, r *output.Renderer, p int, from, to int64) error {
	octx, cancel := f.s.op(ctx)
	lens, err := f.s.outputs.Page(octx, f.rec.ID, f.file.Name(), p)
	cancel()
	if err != nil {
		return err
	}
	spans := output.Spans(p*f.idx.PageChunks, f.idx.PageStarts[p], lens, from, to)
	return f.s.readChunks(ctx, f.rec, len(spans), func(i int) int { return spans[i].Chunk }, func(i int, data []byte) error {
		sp := spans[i]
		out, err := r.Chunk(data)
		if err != nil {
			return err
		}
		if int64(len(out)) != sp.Len {
			f.s.dropIndex(f.rec.ID, f.file.Name())
			return fmt.Errorf("job %s %s chunk %d: %w (%d bytes, not %d)", f.rec.ID, f.file.Name(), sp.Chunk, errRenderDrift, len(out), sp.Len)
		}
		_, err = w.Write(out[max(from-sp.Start, 0):min(to-sp.Start, sp.Len)])
		return err
	})
}

// dropIndex removes an index found wrong.
func (s *Service) dropIndex(job, file string) {
	ctx, cancel := context.WithTimeout(s.ctx, natsOpTimeout)
	defer cancel()
	if err := s.outputs.DropIndex(ctx, job, file); err != nil {
		s.log.Warn().Err(err).Str("job", job).Msg("dropping an output index failed")
	}
}
