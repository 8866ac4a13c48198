package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// File is one of a finished job's files.
type File string

// A job's files: every item (output), and the failed items only (errors).
const (
	FileOutput File = "output"
	FileErrors File = "errors"
)

// DownloadOptions shape a download.
type DownloadOptions struct {
	// Format is ndjson (the default) or csv.
	Format string
	// Progress, when set, is called as bytes arrive with the bytes on
	// disk and the file's size (-1 until known).
	Progress func(done, total int64)
	// RateLimit holds the download to this many bytes per second (0: as
	// fast as the network goes).
	RateLimit int64
}

// Download is what a download fetched.
type Download struct {
	Path string
	Size int64
	ETag string
	// Resumes counts the requests that went on from bytes already on disk
	// (a dropped connection, a gateway that restarted, an earlier run).
	Resumes int
}

// Download writes a finished job's file to path. The bytes go first to
// path+".part" (its ETag beside it in path+".part.etag"); a download cut
// short, by a dropped connection, a gateway restart or the end of the
// process, goes on from there with Range and If-Range (a file whose bytes
// changed meanwhile comes whole), and path appears only once complete. A
// running job's file answers 409 conflict: wait for the job's end first
// (Wait, Follow).
func (c *Client) Download(ctx context.Context, id string, file File, path string, opts DownloadOptions) (*Download, error) {
	part := path + ".part"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	defer f.Close()
	d := &downloader{c: c, f: f, etagFile: part + ".etag", opts: opts, total: -1, pace: newPacer(opts.RateLimit),
		path: jobPath(id, string(file)), query: url.Values{}}
	if opts.Format != "" {
		d.query.Set("format", opts.Format)
	}
	if err := d.start(); err != nil {
		return nil, err
	}
	if err := c.retrying(ctx, true, func() error { return d.fetch(ctx) }); err != nil {
		return nil, err
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	if err := os.Rename(part, path); err != nil {
		return nil, fmt.Errorf("download: %w", err)
	}
	_ = os.Remove(d.etagFile)
	return &Download{Path: path, Size: d.off, ETag: d.etag, Resumes: d.resumes}, nil
}

// downloader is one download's state across its requests.
type downloader struct {
	c        *Client
	f        *os.File
	etagFile string
	opts     DownloadOptions
	path     string
	query    url.Values
	off      int64 // bytes on disk
	total    int64
	etag     string
	resumes  int
	pace     *pacer
}

// start picks up the bytes of an earlier attempt, when their ETag is known.
func (d *downloader) start() error {
	fi, err := d.f.Stat()
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if b, err := os.ReadFile(d.etagFile); err == nil && fi.Size() > 0 {
		d.off, d.etag = fi.Size(), strings.TrimSpace(string(b))
		return nil
	}
	return d.restart()
}

// restart drops the bytes on disk.
func (d *downloader) restart() error {
	d.off = 0
	if err := d.f.Truncate(0); err != nil {
		return permanent(fmt.Errorf("download: %w", err))
	}
	return nil
}

// fetch asks for the bytes from d.off on and writes them; an error leaves
// what arrived on disk for the next attempt.
func (d *downloader) fetch(ctx context.Context) error {
	h := http.Header{}
	if d.off > 0 {
		h.Set("Range", "bytes="+strconv.FormatInt(d.off, 10)+"-")
		h.Set("If-Range", d.etag)
	}
	k := &call{method: http.MethodGet, path: d.path, query: d.query, header: h, ok: []int{http.StatusRequestedRangeNotSatisfiable}}
	resp, err := d.c.send(ctx, k)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		if err := d.partial(resp); err != nil {
			return err
		}
		d.resumes++
	case http.StatusRequestedRangeNotSatisfiable: // nothing after d.off: whole, or another file
		return d.unsatisfiable(resp)
	default: // the whole file
		if err := d.restart(); err != nil {
			return err
		}
		d.total = resp.ContentLength
		if err := d.remember(resp.Header.Get("ETag")); err != nil {
			return err
		}
	}
	return d.copy(ctx, resp.Body)
}

// partial checks a 206 starts where the bytes on disk end.
func (d *downloader) partial(resp *http.Response) error {
	first, size, ok := contentRange(resp.Header.Get("Content-Range"))
	if !ok || first != d.off {
		return fmt.Errorf("download: a part from %d (Content-Range %q) to bytes ending at %d", first, resp.Header.Get("Content-Range"), d.off)
	}
	d.total = size
	return nil
}

// unsatisfiable handles a 416: the bytes on disk are the whole file when
// its size is theirs; else they are dropped and the next try starts over.
func (d *downloader) unsatisfiable(resp *http.Response) error {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	s := strings.TrimPrefix(resp.Header.Get("Content-Range"), "bytes */")
	if size, err := strconv.ParseInt(s, 10, 64); err == nil && size == d.off {
		d.total = size
		return nil
	}
	if err := d.restart(); err != nil {
		return err
	}
	return retryable("download: the file changed since its first bytes: starting over")
}

// remember keeps the file's ETag beside its bytes, for If-Range.
func (d *downloader) remember(etag string) error {
	d.etag = etag
	if etag == "" {
		_ = os.Remove(d.etagFile)
		return nil
	}
	if err := os.WriteFile(d.etagFile, []byte(etag+"\n"), 0o644); err != nil {
		return permanent(fmt.Errorf("download: %w", err))
	}
	return nil
}

// copy appends body to the file, reporting progress.
func (d *downloader) copy(ctx context.Context, body io.Reader) error {
	buf := make([]byte, 256<<10)
	for {
		n, err := body.Read(buf)
		if perr := d.pace.wait(ctx, n); perr != nil {
			return perr
		}
		if n > 0 {
			if _, werr := d.f.WriteAt(buf[:n], d.off); werr != nil {
				return permanent(fmt.Errorf("download: %w", werr))
			}
			d.off += int64(n)
			if d.opts.Progress != nil {
				d.opts.Progress(d.off, d.total)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("download: cut at byte %d: %w", d.off, err)
		}
	}
	if d.total >= 0 && d.off != d.total {
		return fmt.Errorf("download: %d of %d bytes: %w", d.off, d.total, io.ErrUnexpectedEOF)
	}
	return nil
}

// contentRange parses "bytes FIRST-LAST/SIZE".
func contentRange(s string) (first, size int64, ok bool) {
	r, found := strings.CutPrefix(s, "bytes ")
	span, total, found2 := strings.Cut(r, "/")
	a, _, found3 := strings.Cut(span, "-")
	if !found || !found2 || !found3 {
		return 0, 0, false
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	size, err2 := strconv.ParseInt(total, 10, 64)
	return first, size, err1 == nil && err2 == nil
}
