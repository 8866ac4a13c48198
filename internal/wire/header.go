package wire

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
)

// ChunkHeader is what a queued chunk carries beside its items: whose items
// they are and where they go. The gateway writes it, the worker reads it.
type ChunkHeader struct {
	// Job is the job id, or SyncJob for a synchronous prediction.
	Job string
	// Chunk is the chunk's index in the job; Start the index of its first
	// item; Count its number of items.
	Chunk, Start, Count int
	// Reply, for a synchronous prediction, is where the result goes.
	Reply string
	// Enqueued is when the gateway queued the chunk (zero if unknown).
	Enqueued time.Time
	// Expires, for a synchronous prediction, is when the gateway stops
	// waiting for it (zero if unknown): a worker skips it after that.
	Expires time.Time
	// Parts, on a batch ticket, is how many input-stream messages hold the
	// chunk's items (0: the items are in the message itself).
	Parts int
	// Deadline, when set, is when items not started yet are skipped.
	Deadline time.Time
	// Redrive, on the ticket of a redriven chunk, is the dead letter it
	// runs again (its stream sequence): the chunk's result and count carry
	// it, so that an outcome of the run that died never counts again.
	Redrive uint64
}

// maxParts bounds a chunk's input parts.
const maxParts = 1 << 16

// SyncJob is the Job of every synchronous prediction chunk.
const SyncJob = "sync"

// ErrBadHeader is returned for chunk headers that cannot be parsed.
var ErrBadHeader = errors.New("malformed chunk header")

// Header encodes h as NATS message headers.
func (h ChunkHeader) Header() nats.Header {
	hdr := nats.Header{
		HdrJob:   []string{h.Job},
		HdrChunk: []string{strconv.Itoa(h.Chunk)},
		HdrStart: []string{strconv.Itoa(h.Start)},
		HdrCount: []string{strconv.Itoa(h.Count)},
	}
	if h.Reply != "" {
		hdr[HdrReply] = []string{h.Reply}
	}
	if !h.Enqueued.IsZero() {
		hdr[HdrEnqueue] = []string{strconv.FormatInt(h.Enqueued.UnixNano(), 10)}
	}
	if !h.Expires.IsZero() {
		hdr[HdrExpires] = []string{strconv.FormatInt(h.Expires.UnixNano(), 10)}
	}
	if h.Parts > 0 {
		hdr[HdrParts] = []string{strconv.Itoa(h.Parts)}
	}
	if !h.Deadline.IsZero() {
		hdr[HdrDeadline] = []string{strconv.FormatInt(h.Deadline.UnixNano(), 10)}
	}
	if h.Redrive != 0 {
		hdr[HdrRedrive] = []string{strconv.FormatUint(h.Redrive, 10)}
	}
	return hdr
}

// ParseChunkHeader decodes the headers Header wrote.
func ParseChunkHeader(hdr nats.Header) (ChunkHeader, error) {
	h := ChunkHeader{Job: hdr.Get(HdrJob), Reply: hdr.Get(HdrReply)}
	if h.Job == "" {
		return h, fmt.Errorf("%w: no %s", ErrBadHeader, HdrJob)
	}
	for _, f := range []struct {
		name string
		p    *int
	}{{HdrChunk, &h.Chunk}, {HdrStart, &h.Start}, {HdrCount, &h.Count}} {
		n, err := strconv.Atoi(hdr.Get(f.name))
		if err != nil || n < 0 {
			return h, fmt.Errorf("%w: %s %q", ErrBadHeader, f.name, hdr.Get(f.name))
		}
		*f.p = n
	}
	if ns, err := strconv.ParseInt(hdr.Get(HdrEnqueue), 10, 64); err == nil {
		h.Enqueued = time.Unix(0, ns)
	}
	if ns, err := strconv.ParseInt(hdr.Get(HdrExpires), 10, 64); err == nil {
		h.Expires = time.Unix(0, ns)
	}
	if ns, err := strconv.ParseInt(hdr.Get(HdrDeadline), 10, 64); err == nil {
		h.Deadline = time.Unix(0, ns)
	}
	if v := hdr.Get(HdrRedrive); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return h, fmt.Errorf("%w: %s %q", ErrBadHeader, HdrRedrive, v)
		}
		h.Redrive = n
	}
	if v := hdr.Get(HdrParts); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxParts {
			return h, fmt.Errorf("%w: %s %q", ErrBadHeader, HdrParts, v)
		}
		h.Parts = n
	}
	return h, nil
}
