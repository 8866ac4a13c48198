package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"

	tusd "github.com/tus/tusd/v2/pkg/handler"
)

// dataStore is tusd's data store over store.Uploads, for the tenant of the
// request in the context.
type dataStore struct{ h *Handler }

func (d dataStore) NewUpload(ctx context.Context, fi tusd.FileInfo) (tusd.Upload, error) {
	st := stateOf(ctx)
	meta, err := parseMetadata(st.header.Get("Upload-Metadata"), d.h.cfg.MaxMetadataBytes)
	if err != nil {
		return nil, st.fail(api.Errorf(api.CodeBadRequest, "%v", err))
	}
	if st.header.Get("Content-Type") == offsetOctetStream && st.contentLength > fi.Size {
		return nil, st.fail(api.Errorf(api.CodeBodyTooLarge, "the body (%d bytes) is longer than Upload-Length (%d)", st.contentLength, fi.Size))
	}
	info, err := d.h.st.Create(ctx, st.tenant, fi.Size, meta)
	if err != nil {
		return nil, d.fail(st, err)
	}
	st.setInfo(info)
	return &upload{d: d, st: st, info: info}, nil
}

func (d dataStore) GetUpload(ctx context.Context, id string) (tusd.Upload, error) {
	st := stateOf(ctx)
	info, err := d.h.st.Info(ctx, st.tenant, id)
	if err != nil {
		return nil, d.fail(st, err)
	}
	st.setInfo(info)
	if st.body != nil {
		st.body.setLimit(info.Size - info.Offset)
	}
	return &upload{d: d, st: st, info: info}, nil
}

func (d dataStore) AsTerminatableUpload(u tusd.Upload) tusd.TerminatableUpload { return u.(*upload) }

// upload is one upload as one request sees it.
type upload struct {
	d    dataStore
	st   *reqState
	info store.UploadInfo
}

func (u *upload) GetInfo(context.Context) (tusd.FileInfo, error) {
	return tusd.FileInfo{ID: u.info.ID, Size: u.info.Size, Offset: u.info.Offset, MetaData: u.info.Metadata}, nil
}

// WriteChunk stores the body. With Upload-Checksum the write is atomic:
// nothing of it is kept unless the whole body arrived and matches.
func (u *upload) WriteChunk(ctx context.Context, offset int64, src io.Reader) (int64, error) {
	sum, err := parseChecksum(u.st.header.Get("Upload-Checksum"))
	if err != nil {
		return 0, u.st.fail(api.Errorf(api.CodeBadRequest, "%v", err))
	}
	body := &overflowCheck{r: src, b: u.st.body}
	c := store.Chunk{Offset: offset, Body: body}
	if sum != nil {
		c.Body, c.Atomic, c.Check = io.TeeReader(body, sum.h), true, sum.check
	}
	info, err := u.d.h.st.Write(ctx, u.st.tenant, u.info.ID, c)
	if info.ID != "" {
		u.info = info
		u.st.setInfo(info)
	}
	written := max(info.Offset-offset, 0)
	if err != nil {
		return written, u.d.fail(u.st, err)
	}
	return written, nil
}

func (u *upload) GetReader(context.Context) (io.ReadCloser, error) {
	return nil, u.st.fail(api.Errorf(api.CodeMethodNotAllowed, "uploads are not downloaded here"))
}

// FinishUpload has nothing to do: the write that stores the last byte
// finishes the upload.
func (u *upload) FinishUpload(context.Context) error { return nil }

func (u *upload) Terminate(ctx context.Context) error {
	if err := u.d.h.st.Delete(ctx, u.st.tenant, u.info.ID); err != nil {
		return u.d.fail(u.st, err)
	}
	return nil
}

// overflowCheck turns the end of a body that went past the upload's size
// into ErrUploadTooLarge, so that the store keeps none of it.
type overflowCheck struct {
	r io.Reader
	b *guardedBody
}

func (o *overflowCheck) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	if errors.Is(err, io.EOF) && o.b != nil && o.b.overflow.Load() {
		return n, fmt.Errorf("the body goes past the upload's length: %w", store.ErrUploadTooLarge)
	}
	return n, err
}

// fail answers a store error: the client's mistakes and the limits with
// their 4xx or 507, a checksum mismatch with 460; anything else goes to
// tusd as it is (an internal error, logged by tusWriter).
func (d dataStore) fail(st *reqState, err error) error {
	if e := clientError(st, err); e != nil {
		return st.fail(e)
	}
	return err
}

func clientError(st *reqState, err error) *api.Error {
	var (
		qe *store.UploadQuotaError
		oe *store.OffsetError
	)
	switch {
	case errors.Is(err, store.ErrUploadNotFound):
		return api.Errorf(api.CodeNotFound, "no upload %s", st.id)
	case errors.Is(err, store.ErrUploadExpired):
		return api.Errorf(api.CodeExpired, "upload %s expired and is being deleted: upload the file again", st.id)
	case errors.As(err, &qe):
		return api.RetryLater(api.CodeQuotaExceeded, qe.RetryAfter, nil, "upload refused: %v (until an upload expires or is deleted)", qe)
	case errors.As(err, &oe):
		return api.Errorf(api.CodeConflict, "Upload-Offset %d does not match the upload's offset %d: HEAD the upload for the offset to resume from", oe.Offset, oe.Want)
	case errors.Is(err, store.ErrUploadConflict):
		return api.Errorf(api.CodeConflict, "another request wrote upload %s at the same time: HEAD it for the offset to resume from", st.id)
	case errors.Is(err, store.ErrUploadTooLarge):
		return api.Errorf(api.CodeBodyTooLarge, "the body goes past the upload's declared length (Upload-Length %d): none of it was kept", st.upload().Size)
	case errors.Is(err, store.ErrUploadStoreFull):
		return api.RetryLater(api.CodeInsufficientStorage, storeFullRetry, nil, "the uploads store is full (UPLOAD_MAX_BYTES): retry when uploads have been deleted or expired")
	case errors.Is(err, errChecksumMismatch):
		return api.Errorf(api.CodeChecksumMismatch, "the body does not match its Upload-Checksum: none of it was kept; send it again")
	}
	return nil
}

const offsetOctetStream = "application/offset+octet-stream"

// storeFullRetry is the Retry-After of a full uploads store.
const storeFullRetry = time.Minute
