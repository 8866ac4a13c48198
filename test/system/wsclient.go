package system

import (
	"context"
	"net/http"
	"testing"
	"time"

	biclient "batchinfer/client"

	"github.com/gorilla/websocket"
)

// WS is a WebSocket of package client with the test's failures: Send and
// Read fail the test. C is the underlying connection, for the protocol
// tests that write raw frames or read close codes.
type WS struct {
	tb   testing.TB
	conn *biclient.Conn
	C    *websocket.Conn
}

// Msg is any server message.
type Msg = biclient.Message

// Client is a client of the system's gateway with its key.
func (s *System) Client() *biclient.Client {
	return &biclient.Client{BaseURL: s.BaseURL, Key: s.Key, RetryFor: -1}
}

// DialWS connects to the gateway's WebSocket; origin may be "".
func (s *System) DialWS(origin string) (*WS, *http.Response, error) {
	return s.DialWSWith(biclient.DialOptions{Origin: origin})
}

// DialWSWith connects with more options (headers, a dialer).
func (s *System) DialWSWith(opts biclient.DialOptions) (*WS, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := s.Client().DialWS(ctx, opts)
	if err != nil {
		return nil, resp, err
	}
	return newWS(s.tb, c), resp, nil
}

func newWS(tb testing.TB, c *biclient.Conn) *WS {
	return &WS{tb: tb, conn: c, C: c.WebSocket()}
}

// MustDialWS connects and reads the hello message.
func (s *System) MustDialWS() *WS {
	s.tb.Helper()
	w, _, err := s.DialWS("")
	if err != nil {
		s.tb.Fatalf("dial ws: %v", err)
	}
	if m := w.Read(); m.Type != "hello" {
		s.tb.Fatalf("first message %q, want hello", m.Type)
	}
	s.tb.Cleanup(func() { _ = w.C.Close() })
	return w
}

// Send writes v as a JSON text message.
func (w *WS) Send(v any) {
	w.tb.Helper()
	if err := w.conn.Send(v); err != nil {
		w.tb.Fatalf("ws send: %v", err)
	}
}

// Read returns the next message other than heartbeats, failing after 30 s.
func (w *WS) Read() Msg {
	w.tb.Helper()
	for {
		m, err := w.TryRead(30 * time.Second)
		if err != nil {
			w.tb.Fatalf("ws read: %v", err)
		}
		if m.Type != "heartbeat" {
			return m
		}
	}
}

// TryRead returns the next message or the read error (e.g. a close).
func (w *WS) TryRead(timeout time.Duration) (Msg, error) {
	return w.conn.Read(timeout)
}
