package ws

import (
	"context"
	"errors"
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
// context. When the bounded buffer stays full for SlowConsumerTimeout the
// connection is closed as a slow consumer (the client reconnects and
// resumes from its cursor); the caller's goroutine is the only one waiting.
func (t *transport) send(ctx context.Context, typ string, b []byte) error {
	f := outFrame{b: b, n: min(int64(len(b)), t.cfg.BufferBytes)}
	if t.room.TryAcquire(f.n) {
		select {
		case t.out <- f:
			t.onSent(typ)
			return nil
		default:
		}
	} else {
		f.n = -f.n // not yet acquired
	}
	wctx, cancel := context.WithTimeout(ctx, t.cfg.SlowConsumerTimeout)
	defer cancel()
	if f.n < 0 {
		f.n = -f.n
		if err := t.room.Acquire(wctx, f.n); err != nil {
			return t.sendFailed(ctx)
		}
	}
	select {
	case t.out <- f:
		t.onSent(typ)
		return nil
	case <-wctx.Done():
		t.room.Release(f.n)
		return t.sendFailed(ctx)
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
			t.room.Release(f.n)
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
// in a row (4009; handle reports validity).
func (t *transport) readLoop(handle func([]byte) bool, maxInvalid int) {
	defer t.closeWith(websocket.CloseNormalClosure, "")
	live := 2 * t.cfg.Heartbeat
	t.c.SetReadLimit(t.cfg.MaxMessageBytes)
	_ = t.c.SetReadDeadline(time.Now().Add(live))
	t.c.SetPongHandler(func(string) error { return t.c.SetReadDeadline(time.Now().Add(live)) })
	invalid := 0
	for {
		mt, data, err := t.c.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				t.closeWith(websocket.CloseMessageTooBig, "message too big")
			}
			return
		}
		_ = t.c.SetReadDeadline(time.Now().Add(live))
		switch {
		case mt != websocket.TextMessage:
			t.closeWith(websocket.CloseUnsupportedData, "only text frames are accepted")
			return
		case !utf8.Valid(data):
			t.closeWith(websocket.CloseInvalidFramePayloadData, "text frame is not valid UTF-8")
			return
		}
		if handle(data) {
			invalid = 0
		} else if invalid++; invalid >= maxInvalid {
			t.closeWith(api.CloseTooManyErrors, "too many invalid messages")
			return
		}
	}
}
