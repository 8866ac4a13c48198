package ws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"
	"unicode/utf8"

	"batchinfer/api"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/semaphore"
)

// transportConfig bounds one WebSocket connection.
type transportConfig struct {
	Heartbeat           time.Duration
	WriteWait           time.Duration
	CloseGrace          time.Duration
	SlowConsumerTimeout time.Duration
	MaxMessageBytes     int64
	BufferMessages      int
	BufferBytes         int64
	// Shared, when set, is the gateway's send budget: a frame waiting in
	// any connection's buffer holds its bytes there too.
	Shared *semaphore.Weighted
	// Budget, when set, is the gateway's decode budget: a message holds
	// its bytes of it from the moment they are read.
	Budget Budget
}

// transport is the transport half of a WebSocket connection: the reader
// runs on the handler's goroutine and the writer on its own; it keeps the
// deadlines and pings, bounds what waits to be written, and closes with the
// protocol's codes. session speaks the protocol on top of it.
type transport struct {
	c   *websocket.Conn
	cfg transportConfig
	out chan outFrame
	// room holds the bytes that may wait in out: a client that does not read
	// costs at most BufferBytes.
	room *semaphore.Weighted

	// ctx ends with the connection; everything started for it derives from it.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	closeCode int
	closeText string
	written   chan struct{} // closed when the writer has finished

	onSent func(typ string)
	onSlow func()

	// held is the decode budget the message being handled holds (the
	// reader goroutine's only).
	held int64
}

type outFrame struct {
	b []byte
	n int64 // bytes taken from room
}

// errConnClosed is returned by send once the connection is closing.
var errConnClosed = errors.New("websocket closed")

func newTransport(parent context.Context, c *websocket.Conn, cfg transportConfig) *transport {
	ctx, cancel := context.WithCancel(parent)
	return &transport{
		c: c, cfg: cfg, ctx: ctx, cancel: cancel,
		out:     make(chan outFrame, cfg.BufferMessages),
		room:    semaphore.NewWeighted(cfg.BufferBytes),
		written: make(chan struct{}),
		onSent:  func(string) {}, onSlow: func() {},
	}
}

// closeWith ends the connection: the writer sends a close frame with code
// (none for 1006) and every context derived from the connection ends.
func (t *transport) closeWith(code int, text string) {
	t.closeOnce.Do(func() {
		t.closeCode, t.closeText = code, text
		t.cancel()
	})
}

// send queues b for the client. ctx must derive from the connection's
// context. When the bounded buffer (the connection's, or the gateway's
// send budget) stays full for SlowConsumerTimeout the connection is closed
// as a slow consumer (the client reconnects and resumes from its cursor);
// the caller's goroutine is the only one waiting.
func (t *transport) send(ctx context.Context, typ string, b []byte) error {
	f := outFrame{b: b, n: min(int64(len(b)), t.cfg.BufferBytes)}
	held := t.tryReserve(f.n)
	if held {
		select {
		case t.out <- f:
			t.onSent(typ)
			return nil
		default:
		}
	}
	wctx, cancel := context.WithTimeout(ctx, t.cfg.SlowConsumerTimeout)
	defer cancel()
	if !held && !t.reserve(wctx, f.n) {
		return t.sendFailed(ctx)
	}
	select {
	case t.out <- f:
		t.onSent(typ)
		return nil
	case <-wctx.Done():
		t.unreserve(f.n)
		return t.sendFailed(ctx)
	}
}

// tryReserve takes n bytes of the connection's buffer and of the shared
// budget, if both have them now.
func (t *transport) tryReserve(n int64) bool {
	if !t.room.TryAcquire(n) {
		return false
	}
	if t.cfg.Shared != nil && !t.cfg.Shared.TryAcquire(n) {
		t.room.Release(n)
		return false
	}
	return true
}

// reserve is tryReserve waiting until ctx ends.
func (t *transport) reserve(ctx context.Context, n int64) bool {
	if err := t.room.Acquire(ctx, n); err != nil {
		return false
	}
	if t.cfg.Shared != nil {
		if err := t.cfg.Shared.Acquire(ctx, n); err != nil {
			t.room.Release(n)
			return false
		}
	}
	return true
}

func (t *transport) unreserve(n int64) {
	t.room.Release(n)
	if t.cfg.Shared != nil {
		t.cfg.Shared.Release(n)
	}
}

// drain gives back the shared budget of frames never written; call it
// once the writer and every sender have finished.
func (t *transport) drain() {
	for {
		select {
		case f := <-t.out:
			t.unreserve(f.n)
		default:
			return
		}
	}
}

func (t *transport) sendFailed(ctx context.Context) error {
	if t.ctx.Err() != nil {
		return errConnClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	t.onSlow()
	t.closeWith(api.CloseSlowConsumer, "slow consumer: send buffer full, reconnect and resume")
	// The writer may be stuck writing to a full socket: give it a moment
	// to send the close frame, then drop the connection.
	time.AfterFunc(t.cfg.CloseGrace, func() { _ = t.c.UnderlyingConn().Close() })
	return errConnClosed
}

// writeLoop writes hello, then queued frames, pings and heartbeats, until
// the connection closes or shutdown is closed (1001).
func (t *transport) writeLoop(hello []byte, heartbeat func(time.Time) []byte, shutdown <-chan struct{}) {
	defer close(t.written)
	defer func() { _ = t.c.Close() }()
	ping := time.NewTicker(t.cfg.Heartbeat / 2)
	defer ping.Stop()
	beat := time.NewTicker(t.cfg.Heartbeat)
	defer beat.Stop()
	if !t.write(hello) {
		t.closeWith(websocket.CloseGoingAway, "")
		return
	}
	for {
		select {
		case <-t.ctx.Done(): // closing wins over queued frames
			t.writeClose()
			return
		default:
		}
		select {
		case f := <-t.out:
			ok := t.write(f.b)
			t.unreserve(f.n)
			if !ok {
				t.closeWith(websocket.CloseAbnormalClosure, "")
			}
		case <-ping.C:
			if err := t.c.WriteControl(websocket.PingMessage, nil, time.Now().Add(t.cfg.WriteWait)); err != nil {
				t.closeWith(websocket.CloseAbnormalClosure, "")
			}
		case now := <-beat.C:
			if !t.write(heartbeat(now)) {
				t.closeWith(websocket.CloseAbnormalClosure, "")
			}
		case <-shutdown:
			t.closeWith(websocket.CloseGoingAway, "server shutting down")
		case <-t.ctx.Done():
		}
	}
}

func (t *transport) write(b []byte) bool {
	_ = t.c.SetWriteDeadline(time.Now().Add(t.cfg.WriteWait))
	return t.c.WriteMessage(websocket.TextMessage, b) == nil
}

func (t *transport) writeClose() {
	// The context may have ended through its parent (the gateway stopping)
	// before any closeWith: this one then sets the code, and once.Do orders
	// the read below after whichever call set it.
	t.closeWith(websocket.CloseGoingAway, "")
	if t.closeCode != websocket.CloseAbnormalClosure {
		msg := websocket.FormatCloseMessage(t.closeCode, t.closeText)
		_ = t.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(t.cfg.CloseGrace))
	}
}

// readLoop passes each text frame to handle until the connection ends,
// closing on protocol violations: a binary frame (1003), invalid UTF-8
// (1007), a frame over the size limit (1009), or too many invalid messages
// in a row (4009; handle reports validity). A message holds its bytes of
// the decode budget while it is handled (takeHeld hands them on); one that
// finds the budget full is dropped and answered by busy.
func (t *transport) readLoop(handle func([]byte) bool, busy func(error), maxInvalid int) {
	defer t.closeWith(websocket.CloseNormalClosure, "")
	live := 2 * t.cfg.Heartbeat
	t.c.SetReadLimit(t.cfg.MaxMessageBytes)
	_ = t.c.SetReadDeadline(time.Now().Add(live))
	t.c.SetPongHandler(func(string) error { return t.c.SetReadDeadline(time.Now().Add(live)) })
	invalid := 0
	for {
		mt, data, err := t.readMessage()
		var be *api.Error
		switch {
		case errors.As(err, &be):
			busy(be)
			continue
		case errors.Is(err, websocket.ErrReadLimit):
			t.closeWith(websocket.CloseMessageTooBig, "message too big")
			return
		case err != nil:
			return
		}
		_ = t.c.SetReadDeadline(time.Now().Add(live))
		ok := t.valid(mt, data) && handle(data)
		t.releaseHeld()
		if t.ctx.Err() != nil && !ok {
			return
		}
		if ok {
			invalid = 0
		} else if invalid++; invalid >= maxInvalid {
			t.closeWith(api.CloseTooManyErrors, "too many invalid messages")
			return
		}
	}
}

// valid closes the connection on a frame that is not UTF-8 text.
func (t *transport) valid(mt int, data []byte) bool {
	switch {
	case mt != websocket.TextMessage:
		t.closeWith(websocket.CloseUnsupportedData, "only text frames are accepted")
		return false
	case !utf8.Valid(data):
		t.closeWith(websocket.CloseInvalidFramePayloadData, "text frame is not valid UTF-8")
		return false
	}
	return true
}

// readQuantum is how much of the decode budget a message takes at a time.
const readQuantum = 64 << 10

// readMessage reads the next message, taking decode budget as its bytes
// arrive (t.held). When the budget stays full it reads the rest of the
// message without keeping it and returns the budget's error.
func (t *transport) readMessage() (int, []byte, error) {
	mt, r, err := t.c.NextReader()
	if err != nil {
		return mt, nil, err
	}
	var buf bytes.Buffer
	for {
		if t.cfg.Budget != nil {
			if err := t.cfg.Budget.Acquire(t.ctx, readQuantum); err != nil {
				t.releaseHeld()
				if _, derr := io.Copy(io.Discard, r); derr != nil {
					return mt, nil, derr
				}
				return mt, nil, err
			}
			t.held += readQuantum
		}
		n, err := io.CopyN(&buf, r, readQuantum)
		switch {
		case errors.Is(err, io.EOF) || (err == nil && n < readQuantum):
			return mt, buf.Bytes(), nil
		case err != nil:
			t.releaseHeld()
			return mt, nil, err
		}
	}
}

// takeHeld hands the budget the current message holds to the caller,
// which calls the returned func when done with the message.
func (t *transport) takeHeld() func() {
	n := t.held
	t.held = 0
	var once sync.Once
	return func() {
		once.Do(func() {
			if n > 0 {
				t.cfg.Budget.Release(n)
			}
		})
	}
}

func (t *transport) releaseHeld() { t.takeHeld()() }
