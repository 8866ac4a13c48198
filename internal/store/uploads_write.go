package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Chunk is bytes written to an upload at an offset (a PATCH body).
type Chunk struct {
	Offset int64
	Body   io.Reader
	// Atomic keeps nothing of the chunk unless all of it is stored and
	// Check passes (a checksum). Otherwise what is stored is committed as
	// it goes and when Body ends or fails, so a cut connection keeps what
	// arrived.
	Atomic bool
	// Check, when set, runs once Body has ended; an error discards what is
	// not committed yet and is returned.
	Check func() error
}

// commitBytes is how much a write that is not atomic stores between two
// commits: a gateway that dies in the middle of a write loses at most that
// much of it.
const commitBytes = 8 << 20

// maxFirstTries bounds the tries of a write's first part against parts
// that dead writes keep appending.
const maxFirstTries = 5

// Write stores c.Body at c.Offset of the upload and returns the record as
// the write left it (its Offset says how much is stored). The write first
// claims the upload by compare-and-set, so a write that claimed it before
// fails at its next part or commit (see appender). Bytes past the declared
// size fail with ErrUploadTooLarge and a write at another offset with an
// *OffsetError, neither keeping anything. A finished upload takes no
// bytes.
func (u *Uploads) Write(ctx context.Context, tenant, id string, c Chunk) (UploadInfo, error) {
	info, err := u.claim(ctx, tenant, id, c.Offset)
	if err != nil || info.Finished() {
		return info, err
	}
	a := &appender{u: u, info: info, last: info.LastSeq, atomic: c.Atomic}
	err = a.copy(ctx, c.Body)
	if err == nil && c.Check != nil {
		err = c.Check()
		if err != nil {
			a.discard(ctx)
			return a.info, err
		}
	}
	if err != nil && (c.Atomic || errors.Is(err, ErrUploadConflict) || errors.Is(err, ErrUploadTooLarge)) {
		a.discard(ctx)
		return a.info, err
	}
	if cerr := a.commit(ctx); cerr != nil {
		a.discard(ctx)
		return a.info, errors.Join(err, cerr)
	}
	return a.info, err
}

// claim marks the upload as written by a new writer, if it is at offset.
func (u *Uploads) claim(ctx context.Context, tenant, id string, offset int64) (UploadInfo, error) {
	token := newUploadID()[:16]
	for attempt := 0; ; attempt++ {
		info, err := u.Info(ctx, tenant, id)
		if err != nil {
			return info, err
		}
		if offset != info.Offset {
			return info, &OffsetError{Offset: offset, Want: info.Offset}
		}
		if info.Finished() {
			return info, nil
		}
		info.Writer = token
		rev, err := u.update(ctx, info)
		if err == nil {
			info.rev = rev
			return info, nil
		}
		if !errors.Is(err, ErrUploadConflict) || attempt >= maxCASAttempts {
			return info, err
		}
	}
}

// update writes info over the revision it was read at.
func (u *Uploads) update(ctx context.Context, info UploadInfo) (uint64, error) {
	b, err := json.Marshal(info)
	if err != nil {
		return 0, fmt.Errorf("encode upload %s: %w", info.ID, err)
	}
	rev, err := u.kv.Update(ctx, uploadKey(info.Tenant, info.ID), b, info.rev)
	if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
		return 0, fmt.Errorf("upload %s: %w", info.ID, ErrUploadConflict)
	}
	if err != nil {
		return 0, fmt.Errorf("update upload %s: %w", info.ID, err)
	}
	return rev, nil
}

// appender adds the parts of one write to an upload's subject, each
// expecting the one before it as the subject's last message: once a write
// has appended a part, a write that started before it cannot append any
// more. Parts past the record's last one (LastSeq) are orphans of writes
// that died or lost their claim before committing them. A write's first
// part goes after them (expecting the subject's actual last part); then,
// if the write still holds its claim, it deletes the orphans between the
// record's last part and its own first. That is safe: nobody can commit
// them (only the holder of the claim commits, and the record's last part
// precedes them), and a write that claims later appends after this first
// part. So every part up to the record's LastSeq is one of the upload's
// bytes, in order, which is what readers rely on.
type appender struct {
	u    *Uploads
	info UploadInfo // as last committed, at its current revision
	last uint64     // the last part published (0: none yet)
	// pending are the parts published since the last commit.
	pending      []uint64
	pendingBytes int64
	pendingLines int64
	// pendingNewline: the last pending byte is a newline.
	pendingNewline bool
	started        bool
	atomic         bool
	// orphansBefore: the subject's last part was not the record's last
	// when the first part was published.
	orphansBefore bool
}

// begin publishes the write's first part after whatever the subject
// holds, then drops the orphans before it.
func (a *appender) begin(ctx context.Context, data []byte) error {
	subj := wire.UploadSubject(a.info.ID)
	for try := 1; ; try++ {
		last := a.info.LastSeq
		m, err := a.u.stream.GetLastMsgForSubject(ctx, subj)
		switch {
		case err == nil:
			last = m.Sequence
		case !errors.Is(err, jetstream.ErrMsgNotFound):
			return fmt.Errorf("upload %s: last part: %w", a.info.ID, err)
		}
		a.last, a.orphansBefore = last, last != a.info.LastSeq
		err = a.publish(ctx, data)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrUploadConflict) || try >= maxFirstTries {
			return err
		}
	}
	a.started = true
	if !a.orphansBefore {
		return nil // nothing between the last commit and this part
	}
	if cur, err := a.u.get(ctx, a.info.Tenant, a.info.ID); err != nil || cur.rev != a.info.rev {
		return fmt.Errorf("upload %s claimed by another write: %w", a.info.ID, errors.Join(ErrUploadConflict, err))
	}
	return a.dropOrphans(ctx, a.pending[0])
}

// dropOrphans deletes the upload's parts after the record's last one and
// before first.
func (a *appender) dropOrphans(ctx context.Context, first uint64) error {
	subj := wire.UploadSubject(a.info.ID)
	for seq := a.info.LastSeq + 1; seq < first; seq++ {
		m, err := a.u.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if errors.Is(err, jetstream.ErrMsgNotFound) || err == nil && m.Sequence >= first {
			return nil
		}
		if err == nil {
			seq = m.Sequence
			err = a.u.stream.DeleteMsg(ctx, seq)
		}
		if err != nil {
			return fmt.Errorf("upload %s: drop part %d: %w", a.info.ID, seq, err)
		}
	}
	return nil
}

// copy stores body as parts until it ends, committing every commitBytes
// unless atomic. A failed read of body is returned as it is.
func (a *appender) copy(ctx context.Context, body io.Reader) error {
	buf := a.u.getPart()
	defer a.u.putPart(buf)
	for {
		n, rerr := io.ReadFull(body, buf)
		if n > 0 {
			if a.info.Offset+a.pendingBytes+int64(n) > a.info.Size {
				return fmt.Errorf("upload %s of %d bytes: %w", a.info.ID, a.info.Size, ErrUploadTooLarge)
			}
			publish := a.publish
			if !a.started {
				publish = a.begin
			}
			if err := publish(ctx, buf[:n]); err != nil {
				return err
			}
			if !a.atomic && a.pendingBytes >= commitBytes {
				if err := a.commit(ctx); err != nil {
					return err
				}
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// publish appends one part after a.last.
func (a *appender) publish(ctx context.Context, data []byte) error {
	m := &nats.Msg{Subject: wire.UploadSubject(a.info.ID), Data: data, Header: nats.Header{}}
	m.Header.Set(wire.HdrUploadOffset, strconv.FormatInt(a.info.Offset+a.pendingBytes, 10))
	ack, err := a.u.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(a.last), jetstream.WithExpectStream(wire.StreamUploads))
	switch {
	case err == nil:
		a.last = ack.Sequence
		a.pending = append(a.pending, ack.Sequence)
		a.pendingBytes += int64(len(data))
		a.pendingLines += int64(bytes.Count(data, newline))
		if len(data) > 0 {
			a.pendingNewline = data[len(data)-1] == '\n'
		}
		return nil
	case natsx.IsWrongLastSequence(err):
		return fmt.Errorf("upload %s: %w", a.info.ID, ErrUploadConflict)
	case natsx.IsFull(err):
		return fmt.Errorf("upload %s: %w", a.info.ID, ErrUploadStoreFull)
	default:
		return fmt.Errorf("upload %s: store part: %w", a.info.ID, err)
	}
}

// commit moves the record's offset past the pending parts (compare-and-set
// on the revision the write last saw); the commit that stores the last
// declared byte finishes the upload.
func (a *appender) commit(ctx context.Context) error {
	if len(a.pending) == 0 {
		return nil
	}
	next := a.info
	next.Offset += a.pendingBytes
	next.Lines += a.pendingLines
	if a.pendingBytes > 0 {
		next.EndsWithNewline = a.pendingNewline
	}
	next.LastSeq = a.last
	if next.Offset == next.Size {
		now := a.u.Now().UTC()
		next.FinishedAt, next.ExpiresAt, next.Writer = &now, now.Add(a.u.cfg.Retention), ""
	}
	rev, err := a.u.update(ctx, next)
	if err != nil && !errors.Is(err, ErrUploadConflict) {
		// The answer may be lost while the update was applied: look.
		if cur, gerr := a.u.get(ctx, a.info.Tenant, a.info.ID); gerr == nil && cur.LastSeq == next.LastSeq && cur.Writer == next.Writer {
			rev, err = cur.rev, nil
		}
	}
	if err != nil {
		return err
	}
	next.rev = rev
	a.info, a.pending, a.pendingBytes, a.pendingLines = next, a.pending[:0], 0, 0
	return nil
}

// discard deletes the parts published since the last commit.
func (a *appender) discard(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	for _, seq := range a.pending {
		_ = a.u.stream.DeleteMsg(ctx, seq) // left over: the next write or the deletion drops it
	}
	a.pending, a.pendingBytes, a.pendingLines = a.pending[:0], 0, 0
}

// newline ends the lines an upload counts (Lines): a dataset's items are
// bounded by them before it is read.
var newline = []byte{'\n'}
