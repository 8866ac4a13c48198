package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"batchinfer/gateway/peer"
	"batchinfer/internal/wire"
)

// streamResults writes every item result as NDJSON in index order, waiting
// for chunks still in the queue, until all are written, the client leaves,
// the client reads nothing for StreamWriteTimeout (each write has that
// deadline, as a WebSocket's send buffer has its 4008) or the gateway
// stops.
func (g *Gateway) streamResults(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-g.closing: // a graceful stop does not wait for endless streams
			cancel()
		case <-ctx.Done():
		}
	}()
	rs, err := g.svc.StreamResults(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	defer rs.Close()
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	dw := &deadlineWriter{w: w, rc: rc, d: g.cfg.HTTP.StreamWriteTimeout}
	lb := &lineBuffer{w: dw}
	flush := func() error {
		if err := lb.flush(); err != nil {
			return err
		}
		dw.arm()
		return rc.Flush()
	}
	for {
		data, err := rs.Next(ctx, flush)
		if err == nil {
			err = wire.EachItem(data, lb.line) // stored bytes, never decoded
		}
		if err != nil {
			_ = flush()
			g.streamEnded(r, ctx, err)
			return nil // the status line is sent: end the stream
		}
	}
}

// streamEnded logs a stream that ended for another reason than its end,
// its client leaving, or its client not reading (a client's doing: debug).
func (g *Gateway) streamEnded(r *http.Request, ctx context.Context, err error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF) || ctx.Err() != nil:
	case errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		g.log.Debug().Str("job", r.PathValue("id")).Str("remote", peer.From(r.Context()).String()).Msg("results stream ended: the client read nothing in time")
	default:
		g.log.Error().Err(err).Str("job", r.PathValue("id")).Msg("results stream ended early")
	}
}

// deadlineWriter gives each write to the connection d to complete: a
// client that reads nothing for that long ends the stream.
type deadlineWriter struct {
	w  io.Writer
	rc *http.ResponseController
	d  time.Duration
}

func (w *deadlineWriter) arm() { _ = w.rc.SetWriteDeadline(time.Now().Add(w.d)) }

func (w *deadlineWriter) Write(p []byte) (int, error) {
	w.arm()
	return w.w.Write(p)
}

// lineBatch is how many bytes of lines a stream writes at once.
const lineBatch = 32 << 10

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, lineBatch); return &b }}

// lineBuffer batches a stream's NDJSON lines in a buffer taken from a pool
// while there is something to write and given back at each flush, before
// the stream waits: the thousands of streams that wait for a job's next
// chunk hold no buffer.
type lineBuffer struct {
	w   io.Writer
	buf *[]byte
	err error
}

func (l *lineBuffer) line(item []byte) error {
	if l.err != nil {
		return l.err
	}
	if l.buf == nil {
		l.buf = linePool.Get().(*[]byte)
	}
	b := append(append(*l.buf, item...), '\n')
	*l.buf = b
	if len(b) >= lineBatch {
		return l.write()
	}
	return nil
}

func (l *lineBuffer) write() error {
	if l.buf != nil && len(*l.buf) > 0 && l.err == nil {
		_, l.err = l.w.Write(*l.buf)
	}
	if l.buf != nil {
		*l.buf = (*l.buf)[:0]
	}
	return l.err
}

// flush writes what is batched and gives the buffer back.
func (l *lineBuffer) flush() error {
	err := l.write()
	if l.buf != nil && cap(*l.buf) <= 4*lineBatch { // an outsized one is left to the collector
		linePool.Put(l.buf)
	}
	l.buf = nil
	return err
}
