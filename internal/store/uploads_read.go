package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// partWait bounds the wait for the next part of a finished upload: every
// part is stored, so a longer wait means one is gone.
const partWait = 30 * time.Second

// readAheadParts is how many parts a reader buffers ahead of its caller;
// readAheadMessages how many messages its subscription holds (parts, and
// the consumer's heartbeats and status messages).
const (
	readAheadParts    = 4
	readAheadMessages = 64
)

// Open streams a finished upload's bytes in order; see OpenAt.
func (u *Uploads) Open(ctx context.Context, tenant, id string) (io.ReadCloser, UploadInfo, error) {
	return u.OpenAt(ctx, tenant, id, 0)
}

// OpenAt streams a finished upload's bytes in order from offset (to resume
// reading it where an earlier reader stopped), with bounded memory: an
// ordered consumer of the upload's subject with a few parts read ahead.
// The error wraps ErrUploadNotFound, ErrUploadExpired or
// ErrUploadNotFinished. The reader fails with ErrUploadDamaged if a part
// is missing. Close it to free its consumer; ctx bounds its reads.
func (u *Uploads) OpenAt(ctx context.Context, tenant, id string, offset int64) (io.ReadCloser, UploadInfo, error) {
	info, err := u.Info(ctx, tenant, id)
	if err != nil {
		return nil, info, err
	}
	if !info.Finished() {
		return nil, info, fmt.Errorf("upload %s has %d of %d bytes: %w", id, info.Offset, info.Size, ErrUploadNotFinished)
	}
	if offset < 0 || offset > info.Size {
		return nil, info, fmt.Errorf("upload %s: offset %d outside 0..%d", id, offset, info.Size)
	}
	r := &partReader{ctx: ctx, u: u, info: info, pos: offset}
	if offset == info.Size {
		return r, info, nil
	}
	var start uint64
	if offset > 0 {
		if start, r.next, err = u.seek(ctx, info, offset); err != nil {
			return nil, info, err
		}
		r.skip = offset - r.next
	}
	if err := r.consume(ctx, start, false); err != nil {
		return nil, info, err
	}
	return r, info, nil
}

// seek finds the part holding offset by reading only the parts' headers:
// its stream sequence and the offset of its first byte.
func (u *Uploads) seek(ctx context.Context, info UploadInfo, offset int64) (uint64, int64, error) {
	r := &partReader{ctx: ctx, u: u, info: info}
	if err := r.consume(ctx, 0, true); err != nil {
		return 0, 0, err
	}
	defer r.Close()
	for {
		m, err := r.nextMsg()
		if err != nil {
			return 0, 0, fmt.Errorf("upload %s: seek to %d: %w", info.ID, offset, errors.Join(ErrUploadDamaged, err))
		}
		off, err := partOffset(m.Headers())
		size, serr := strconv.ParseInt(m.Headers().Get(nats.MsgSize), 10, 64)
		md, merr := m.Metadata()
		if err = errors.Join(err, serr, merr); err != nil {
			return 0, 0, fmt.Errorf("upload %s: seek: %w", info.ID, errors.Join(ErrUploadDamaged, err))
		}
		if offset < off+size {
			return md.Sequence.Stream, off, nil
		}
	}
}

func partOffset(h nats.Header) (int64, error) {
	v := h.Get(wire.HdrUploadOffset)
	if v == "" {
		return 0, fmt.Errorf("part without %s", wire.HdrUploadOffset)
	}
	return strconv.ParseInt(v, 10, 64)
}

// partReader reads an upload's parts through an ordered consumer.
type partReader struct {
	ctx  context.Context
	u    *Uploads
	info UploadInfo
	cons jetstream.Consumer
	it   jetstream.MessagesContext
	// pos is the offset of the next byte returned; next that of the next
	// part's first byte; skip how much of the next part comes before pos.
	pos, next, skip int64
	cur             []byte
}

// consume starts the consumer at stream sequence start (0: the first part).
func (r *partReader) consume(ctx context.Context, start uint64, headersOnly bool) error {
	cfg := jetstream.OrderedConsumerConfig{
		FilterSubjects:    []string{wire.UploadSubject(r.info.ID)},
		DeliverPolicy:     jetstream.DeliverAllPolicy,
		HeadersOnly:       headersOnly,
		InactiveThreshold: time.Minute,
	}
	if start > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	}
	cons, err := r.u.js.OrderedConsumer(ctx, wire.StreamUploads, cfg)
	if err != nil {
		return fmt.Errorf("read upload %s: %w", r.info.ID, err)
	}
	// The byte limit bounds the parts read ahead; the message limit is the
	// capacity of the client's channel, which drops what does not fit (a
	// slow consumer: the ordered consumer then starts over). Heartbeats and
	// status messages arrive beside the parts while the caller is busy:
	// with a channel of only readAheadParts, a 10M-row dataset's reading
	// lost ~100 messages a minute to it on a loaded machine.
	it, err := cons.Messages(jetstream.PullMaxMessagesWithBytesLimit(readAheadMessages, readAheadParts*(r.u.cfg.PartBytes+4096)))
	if err != nil {
		return fmt.Errorf("read upload %s: %w", r.info.ID, err)
	}
	r.cons, r.it = cons, it
	return nil
}

// Read implements io.Reader.
func (r *partReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if r.pos >= r.info.Size {
			return 0, io.EOF
		}
		if err := r.nextPart(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	r.pos += int64(n)
	return n, nil
}

// nextMsg waits for the next part, at most partWait.
func (r *partReader) nextMsg() (jetstream.Msg, error) {
	ctx, cancel := context.WithTimeout(r.ctx, partWait)
	defer cancel()
	return r.it.Next(jetstream.NextContext(ctx))
}

func (r *partReader) nextPart() error {
	m, err := r.nextMsg()
	if err != nil {
		if r.ctx.Err() != nil {
			return fmt.Errorf("read upload %s: %w", r.info.ID, r.ctx.Err())
		}
		return fmt.Errorf("read upload %s at %d: %w", r.info.ID, r.pos, errors.Join(ErrUploadDamaged, err))
	}
	off, err := partOffset(m.Headers())
	if err != nil || off != r.next {
		return fmt.Errorf("read upload %s: part at %d where %d was expected: %w", r.info.ID, off, r.next, ErrUploadDamaged)
	}
	data := m.Data()
	r.next += int64(len(data))
	data = data[r.skip:]
	r.skip = 0
	if rest := r.info.Size - r.pos; int64(len(data)) > rest {
		data = data[:rest]
	}
	r.cur = data
	return nil
}

// Close stops the consumer and deletes it on the server.
func (r *partReader) Close() error {
	if r.it == nil {
		return nil
	}
	r.it.Stop()
	name := r.cons.CachedInfo().Name
	r.it = nil
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), cleanupTimeout)
	defer cancel()
	if err := r.u.js.DeleteConsumer(ctx, wire.StreamUploads, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("close upload reader %s: %w", r.info.ID, err)
	}
	return nil
}
