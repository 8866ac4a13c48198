package client

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"batchinfer/api"
)

// tusVersion is the tus protocol the gateway speaks on /v1/uploads.
const tusVersion = "1.0.0"

// DefaultChunkSize is the bytes of one PATCH of an upload.
const DefaultChunkSize = 8 << 20

// maxChecksumRetries bounds the PATCHes of one chunk refused for a
// checksum that does not match (bytes damaged on the way).
const maxChecksumRetries = 3

// UploadOptions shape an upload.
type UploadOptions struct {
	// ChunkSize is the bytes of one PATCH (DefaultChunkSize when 0). Each
	// carries its SHA-256 (Upload-Checksum): a chunk damaged or cut short
	// is stored not at all, and sent again.
	ChunkSize int64
	// Metadata is the upload's tus metadata (UploadFile adds filename and
	// filetype when absent).
	Metadata map[string]string
	// Progress, when set, is called as bytes go out: the bytes sent and
	// the upload's size. After a drop it goes back to what the gateway
	// kept.
	Progress func(sent, total int64)
	// URL resumes an upload created earlier (its Location, e.g. kept by
	// OnCreate before a process ended) instead of creating one: its offset
	// is asked for, and the rest sent from there. It must be of the same
	// bytes.
	URL string
	// OnCreate, when set, is called with the new upload's URL as soon as
	// it exists (to keep for a later resume).
	OnCreate func(url string)
	// RateLimit holds the upload to this many bytes per second (0: as
	// fast as the network goes).
	RateLimit int64
}

// Upload is a finished upload.
type Upload struct {
	// ID is the last segment of URL: what SubmitUpload takes.
	ID   string
	URL  string
	Size int64
	// Resumes counts the times the upload went on from what the gateway
	// had kept (a dropped connection, a gateway restart, OnCreate's URL).
	Resumes int
}

// UploadFile uploads the file at path as UploadReader does, named after
// it (tus metadata filename and filetype, which tell the gateway its
// format).
func (c *Client) UploadFile(ctx context.Context, path string, opts UploadOptions) (*Upload, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	md := map[string]string{"filename": filepath.Base(path)}
	if ct, err := ContentTypeOf(path); err == nil {
		md["filetype"] = ct
	} else if ct := mime.TypeByExtension(filepath.Ext(path)); ct != "" {
		md["filetype"] = ct
	}
	for k, v := range opts.Metadata {
		md[k] = v
	}
	opts.Metadata = md
	return c.UploadReader(ctx, f, fi.Size(), opts)
}

// UploadReader uploads size bytes of r to the gateway's resumable uploads
// (tus 1.0.0 on /v1/uploads: creation, then PATCHes with checksums). A
// dropped connection or a gateway that restarts is resumed from the offset
// the gateway kept, within the client's RetryFor of each failure.
func (c *Client) UploadReader(ctx context.Context, r io.ReaderAt, size int64, opts UploadOptions) (*Upload, error) {
	if opts.ChunkSize <= 0 {
		opts.ChunkSize = DefaultChunkSize
	}
	u := &uploader{c: c, r: r, size: size, opts: opts, url: opts.URL, pace: newPacer(opts.RateLimit)}
	if err := u.open(ctx); err != nil {
		return nil, err
	}
	for u.off < size {
		if err := c.retrying(ctx, true, func() error { return u.step(ctx) }); err != nil {
			return nil, fmt.Errorf("upload %s at byte %d of %d: %w", u.id(), u.off, size, err)
		}
	}
	return &Upload{ID: u.id(), URL: u.url, Size: size, Resumes: u.resumes}, nil
}

// DeleteUpload deletes an upload and its bytes (tus termination).
func (c *Client) DeleteUpload(ctx context.Context, id string) error {
	k := &call{method: http.MethodDelete, path: "/v1/uploads/" + url.PathEscape(id), header: tusHeader(), retry: true}
	return c.doCall(ctx, k, nil)
}

// uploader is one upload's state across its requests.
type uploader struct {
	c    *Client
	r    io.ReaderAt
	size int64
	opts UploadOptions
	url  string
	off  int64
	// stale: the offset must be asked for before the next PATCH.
	stale     bool
	resumes   int
	badChunks int
	pace      *pacer
}

func (u *uploader) id() string { return path.Base(u.url) }

func tusHeader() http.Header { return http.Header{"Tus-Resumable": {tusVersion}} }

// open creates the upload, or takes up opts.URL's.
func (u *uploader) open(ctx context.Context) error {
	if u.url != "" {
		u.stale = true
		u.resumes++
		return nil
	}
	h := tusHeader()
	h.Set("Upload-Length", strconv.FormatInt(u.size, 10))
	if md := encodeMetadata(u.opts.Metadata); md != "" {
		h.Set("Upload-Metadata", md)
	}
	var loc string
	err := u.c.retrying(ctx, true, func() error {
		resp, err := u.c.send(ctx, &call{method: http.MethodPost, path: "/v1/uploads", header: h, retry: true})
		if err != nil {
			return createErr(err)
		}
		defer resp.Body.Close()
		loc = resp.Header.Get("Location")
		return nil
	})
	if err != nil {
		return fmt.Errorf("upload: create: %w", err)
	}
	if loc == "" {
		return errors.New("upload: create: the answer has no Location")
	}
	base, _ := url.Parse(u.c.endpoint("/v1/uploads", nil))
	l, err := base.Parse(loc)
	if err != nil {
		return fmt.Errorf("upload: create: Location %q: %w", loc, err)
	}
	u.url = l.String()
	if u.opts.OnCreate != nil {
		u.opts.OnCreate(u.url)
	}
	return nil
}

// createErr keeps a creation retryable only when the gateway cannot have
// created the upload: an answer that says so, or no connection at all.
func createErr(err error) error {
	var e *api.Error
	if errors.As(err, &e) || notSent(err) {
		return err
	}
	return permanent(err)
}

// step sends the next chunk (asking for the offset first after a failure).
func (u *uploader) step(ctx context.Context) error {
	if u.stale {
		if err := u.head(ctx); err != nil {
			return err
		}
		u.stale = false
	}
	if u.off >= u.size {
		return nil
	}
	err := u.patch(ctx)
	if err == nil {
		return nil
	}
	u.stale = true
	switch ErrorCode(err) {
	case api.CodeConflict: // another offset: ask for it and go on
		return &retryError{err: err}
	case api.CodeChecksumMismatch:
		if u.badChunks++; u.badChunks <= maxChecksumRetries {
			return &retryError{err: err}
		}
	}
	return err
}

// head asks the gateway for the upload's offset.
func (u *uploader) head(ctx context.Context) error {
	resp, err := u.c.send(ctx, &call{method: http.MethodHead, path: u.relPath(), header: tusHeader(), retry: true})
	if err != nil {
		return err
	}
	resp.Body.Close()
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off < 0 || off > u.size {
		return permanent(fmt.Errorf("upload: HEAD: Upload-Offset %q of an upload of %d bytes", resp.Header.Get("Upload-Offset"), u.size))
	}
	if off != u.off || u.resumes == 0 {
		u.resumes++
	}
	u.off = off
	u.progress(off)
	return nil
}

// patch sends one chunk from the offset.
func (u *uploader) patch(ctx context.Context) error {
	n := min(u.opts.ChunkSize, u.size-u.off)
	buf := make([]byte, n)
	if _, err := u.r.ReadAt(buf, u.off); err != nil && !(errors.Is(err, io.EOF) && len(buf) == int(n)) {
		return permanent(fmt.Errorf("upload: read: %w", err))
	}
	sum := sha256.Sum256(buf)
	h := tusHeader()
	h.Set("Upload-Offset", strconv.FormatInt(u.off, 10))
	h.Set("Content-Type", "application/offset+octet-stream")
	h.Set("Upload-Checksum", "sha256 "+base64.StdEncoding.EncodeToString(sum[:]))
	body := &countingReader{ctx: ctx, data: buf, pace: u.pace, report: func(k int64) { u.progress(u.off + k) }}
	resp, err := u.c.send(ctx, &call{method: http.MethodPatch, path: u.relPath(), header: h, stream: body, size: n})
	if err != nil {
		return err
	}
	resp.Body.Close()
	off, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || off != u.off+n {
		return retryable("upload: PATCH answered Upload-Offset %q, want %d", resp.Header.Get("Upload-Offset"), u.off+n)
	}
	u.off = off
	u.progress(off)
	return nil
}

// relPath is the upload URL's path on the gateway (its Location may be
// absolute).
func (u *uploader) relPath() string {
	p, err := url.Parse(u.url)
	if err != nil || p.Path == "" {
		return "/v1/uploads/" + u.id()
	}
	base, _ := url.Parse(strings.TrimRight(u.c.BaseURL, "/"))
	return strings.TrimPrefix(p.Path, strings.TrimRight(base.Path, "/"))
}

func (u *uploader) progress(sent int64) {
	if u.opts.Progress != nil {
		u.opts.Progress(sent, u.size)
	}
}

// encodeMetadata is tus's Upload-Metadata: "key base64(value)" pairs,
// sorted by key.
func encodeMetadata(md map[string]string) string {
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+base64.StdEncoding.EncodeToString([]byte(md[k])))
	}
	return strings.Join(parts, ",")
}

// countingReader reads data at its pace, reporting the bytes read so far.
type countingReader struct {
	ctx    context.Context
	data   []byte
	n      int
	pace   *pacer
	report func(int64)
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n >= len(r.data) {
		return 0, io.EOF
	}
	if len(p) > 64<<10 {
		p = p[:64<<10]
	}
	if err := r.pace.wait(r.ctx, min(len(p), len(r.data)-r.n)); err != nil {
		return 0, err
	}
	k := copy(p, r.data[r.n:])
	r.n += k
	r.report(int64(r.n))
	return k, nil
}
