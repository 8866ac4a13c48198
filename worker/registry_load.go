package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"
	"batchinfer/model/archive"
	"batchinfer/model/loader"
)

// errDeleted: the version was deleted from the registry while it loaded.
var errDeleted = errors.New("deleted from the registry while it loaded")

// loadTimeout bounds reading a version from the registry.
const loadTimeout = 10 * time.Minute

// load loads a committed version, starts its lane and announces it; a
// version that does not load is recorded (and announced) as failed here.
func (r *registry) load(v store.Version) {
	start := time.Now()
	s, err := r.serve(v)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		if r.ctx.Err() != nil || errors.Is(err, errDeleted) {
			r.log.Info().Err(err).Str("model", v.ID()).Msg("registry version not loaded")
			return // stopping, or retired meanwhile: not the version's fault
		}
		r.log.Error().Err(err).Str("model", v.ID()).Msg("registry version not loaded")
		r.failed[v.ID()] = failure{nuid: v.NUID, err: err.Error()}
		r.w.ann.now()
		return
	}
	r.loaded[v.ID()] = s
	r.log.Info().Str("model", v.ID()).Str("runtime", s.lane.runtime).Dur("took", time.Since(start)).Msg("registry version loaded")
}

// serve unpacks, loads and warms up v, starts its lane and announces it.
func (r *registry) serve(v store.Version) (*served, error) {
	for _, l := range r.w.servedLanes() {
		if l.id == v.ID() {
			return nil, fmt.Errorf("%s is served from this worker's models directory already", v.ID())
		}
	}
	lim := archive.Limits{MaxBytes: max(v.Meta.UnpackedBytes, int64(v.Size)), MaxFiles: max(v.Meta.Files, 1)}
	tctx, cancel := context.WithTimeout(r.ctx, loadTimeout)
	defer cancel()
	ctx, stop := context.WithCancelCause(tctx)
	defer stop(nil)
	if err := r.startLoading(v, stop); err != nil {
		return nil, err
	}
	defer r.doneLoading()
	dir, cleanup, _, err := r.unpack(ctx, v.Name, v.Version, v.NUID, v.Meta.Format, v.Meta.Metadata, lim)
	if errors.Is(context.Cause(ctx), errDeleted) {
		err = fmt.Errorf("%s: %w", v.ID(), errDeleted)
	}
	if err != nil {
		if cleanup != nil {
			cleanup()
		}
		return nil, err
	}
	defer cleanup() // loaded, the model needs its files no more
	m, err := loader.LoadVersion(dir, r.src.Runtimes, r.src.Warmup)
	if err != nil {
		return nil, err
	}
	s, err := r.start(ctx, v, m)
	if err != nil {
		return nil, errors.Join(err, m.Close())
	}
	return s, nil
}

// start starts the lane of a loaded version and announces it, unless the
// version was deleted meanwhile.
func (r *registry) start(ctx context.Context, v store.Version, m loader.Loaded) (*served, error) {
	l := newLane(r.w.laneDeps(), m.Model)
	l.runtime = m.Runtime
	if err := l.start(ctx); err != nil {
		l.kill()
		return nil, err
	}
	cur, err := r.store.Get(ctx, v.Name, v.Version)
	if err == nil && (cur.Deleted || cur.NUID != v.NUID) {
		err = fmt.Errorf("%s: %w", v.ID(), errDeleted)
	}
	if err == nil {
		r.w.addLane(l)
		err = r.w.announceModel(ctx, m.Meta(), wire.SourceRegistry)
	}
	if err != nil {
		r.w.removeLane(l)
		l.drain()
		<-l.done
		return nil, err
	}
	r.w.ann.now()
	return &served{nuid: v.NUID, lane: l, model: m.Model}, nil
}

// unload stops serving a version deleted from the registry: it leaves the
// announcement, its lane finishes what it holds, then the model closes.
func (r *registry) unload(id string, s *served) {
	r.w.removeLane(s.lane)
	r.w.ann.now()
	s.lane.drain()
	<-s.lane.done
	if err := s.model.Close(); err != nil {
		r.log.Warn().Err(err).Str("model", id).Msg("closing a registry version failed")
	}
	r.log.Info().Str("model", id).Msg("registry version unloaded")
}

// unpack reads a stored upload into a new directory laid out as
// <name>/<version>, within lim, with metadata (given as the push's upload
// field) written as its metadata.json. cleanup removes it all.
func (r *registry) unpack(ctx context.Context, name, version, nuid, format string, metadata json.RawMessage, lim archive.Limits) (dir string, cleanup func(), res archive.Result, err error) {
	base, err := os.MkdirTemp(r.src.Dir, "batchinfer-version-*")
	if err != nil {
		return "", nil, res, err
	}
	rm := func() { _ = os.RemoveAll(base) }
	defer func() {
		if err != nil {
			rm()
		}
	}()
	x := filepath.Join(base, "x")
	if err := os.Mkdir(x, 0o700); err != nil {
		return "", nil, res, err
	}
	rc, err := r.store.Open(ctx, name, version, nuid)
	if err != nil {
		return "", nil, res, err
	}
	res, err = archive.Unpack(newCtxReader(ctx, rc), format, x, lim)
	if ctx.Err() != nil {
		// A read may still wait (for a part purged as it was read) until
		// the load's deadline, holding the reader: closed once it returns.
		go func() { _ = rc.Close() }()
		return "", nil, res, fmt.Errorf("read %s:%s: %w", name, version, context.Cause(ctx))
	}
	if cerr := rc.Close(); err == nil && cerr != nil {
		err = &archive.SourceError{Err: cerr}
	}
	if err != nil {
		return "", nil, res, err
	}
	dir = filepath.Join(base, "m", name, version)
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return "", nil, res, err
	}
	if err := os.Rename(res.Root, dir); err != nil {
		return "", nil, res, err
	}
	return dir, rm, res, writeMetadata(dir, metadata)
}

// writeMetadata writes metadata given beside the upload as the version's
// metadata.json; an archive that holds one already is refused.
func writeMetadata(dir string, metadata json.RawMessage) error {
	if len(metadata) == 0 {
		return nil
	}
	p := filepath.Join(dir, model.MetadataFile)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: metadata given both as the upload's metadata field and as %s in the archive: give one", archive.ErrInvalid, model.MetadataFile)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(metadata)
	return errors.Join(err, f.Close())
}

// ctxReader ends each Read when ctx ends. The registry's reader waits for
// a part it lacks (one purged from the registry as it was read: the
// version was deleted meanwhile) until its context's deadline, the load's
// ten minutes, even when closed, since its Read holds its lock while it
// waits. Each Read runs on a goroutine of its own, into a buffer of its
// own: one given up on writes nothing its caller reuses.
type ctxReader struct {
	ctx  context.Context
	r    io.Reader
	buf  []byte
	done chan readResult
}

type readResult struct {
	n   int
	err error
}

func newCtxReader(ctx context.Context, r io.Reader) *ctxReader {
	return &ctxReader{ctx: ctx, r: r, done: make(chan readResult, 1)}
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, context.Cause(c.ctx) // a Read given up on may still run
	}
	if cap(c.buf) < len(p) {
		c.buf = make([]byte, len(p))
	}
	buf := c.buf[:len(p)]
	go func() {
		n, err := c.r.Read(buf)
		c.done <- readResult{n, err}
	}()
	select {
	case res := <-c.done:
		return copy(p, buf[:res.n]), res.err
	case <-c.ctx.Done():
		return 0, context.Cause(c.ctx)
	}
}
