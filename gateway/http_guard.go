package gateway

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"batchinfer/gateway/peer"

	"github.com/gorilla/websocket"
)

// hstsValue is sent on every response served over TLS.
const hstsValue = "max-age=31536000"

// A body the handler left unread is discarded when it is small and has
// arrived (the client sent its request whole, and keeps its connection);
// anything else closes the connection with the response.
const (
	maxDrain  = 64 << 10
	drainWait = 10 * time.Millisecond
)

// guard applies what holds for every request: the client's address
// (through trusted proxies) in the context; nosniff, and HSTS over TLS, on
// every response; a write deadline once the response starts (a client that
// does not read cannot hold a handler); and a body the handler left unread
// is closed with the connection (Connection: close) rather than drained,
// so that a body that never comes cannot hold the connection either (one
// that has already arrived, up to 64 KiB, is discarded within 10 ms and
// the connection kept).
func (g *Gateway) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", hstsValue)
		}
		upgrade := websocket.IsWebSocketUpgrade(r)
		gw := &guardedWriter{ResponseWriter: w, rc: http.NewResponseController(w), writeTimeout: g.cfg.HTTP.WriteTimeout, upgrade: upgrade,
			length: r.ContentLength}
		if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
			gw.body = &eofBody{ReadCloser: r.Body}
			r.Body = gw.body
		}
		ctx := peer.With(r.Context(), g.proxies.Resolve(r, peer.HTTP))
		r2 := r.WithContext(ctx)
		next.ServeHTTP(gw, r2)
		r.Pattern = r2.Pattern // the route, for the metrics and the span around
	})
}

// eofBody notes whether a body was read to its end.
type eofBody struct {
	io.ReadCloser
	eof atomic.Bool
}

func (b *eofBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof.Store(true)
	}
	return n, err
}

// guardedWriter acts when the response starts: see guard.
type guardedWriter struct {
	http.ResponseWriter
	rc           *http.ResponseController
	body         *eofBody
	writeTimeout time.Duration
	upgrade      bool
	started      bool
	length       int64 // the request's Content-Length (-1: unknown)
}

func (w *guardedWriter) start(code int) {
	if w.started || code < 200 {
		return
	}
	w.started = true
	if w.body != nil && !w.body.eof.Load() && !w.drain() {
		w.Header().Set("Connection", "close")
	}
	if !w.upgrade {
		_ = w.rc.SetWriteDeadline(time.Now().Add(w.writeTimeout))
	}
}

// drain discards what is left of a small body that has already arrived,
// within drainWait; false when it has not (or is large, or of unknown
// length).
func (w *guardedWriter) drain() bool {
	if w.length < 0 || w.length > maxDrain {
		return false
	}
	if w.rc.SetReadDeadline(time.Now().Add(drainWait)) != nil {
		return false
	}
	_, err := io.CopyN(io.Discard, w.body, maxDrain+1)
	_ = w.rc.SetReadDeadline(time.Time{})
	return errors.Is(err, io.EOF) && w.body.eof.Load()
}

func (w *guardedWriter) WriteHeader(code int) {
	w.start(code)
	w.ResponseWriter.WriteHeader(code)
}

func (w *guardedWriter) Write(b []byte) (int, error) {
	w.start(http.StatusOK)
	return w.ResponseWriter.Write(b)
}

// Hijack lets the WebSocket upgrader take over the connection.
func (w *guardedWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("response writer cannot hijack")
	}
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach Flush, deadlines and Hijack.
func (w *guardedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
