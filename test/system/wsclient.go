package system

import (
	"batchinfer/api"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// WS is a test WebSocket client.
type WS struct {
	tb testing.TB
	C  *websocket.Conn
}

// Msg is any server message.
type Msg struct {
	Type    string          `json:"type"`
	Ref     string          `json:"ref"`
	Job     json.RawMessage `json:"job"`
	Seq     uint64          `json:"seq"`
	LastSeq uint64          `json:"last_seq"`
	Chunk   int             `json:"chunk"`
	Code    api.Code        `json:"code"`
	Message string          `json:"message"`
	Items   []struct {
		Index int    `json:"index"`
		Label string `json:"label"`
		Class *int   `json:"class"`
		Error string `json:"error"`
	} `json:"items"`
	Status struct {
		State  string `json:"state"`
		Done   int    `json:"done"`
		Failed int    `json:"failed"`
		Total  int    `json:"total"`
	} `json:"status"`
	Raw []byte `json:"-"`
}

// JobID returns the job field as an id (it is an object in accepted).
func (m Msg) JobID() string {
	var s string
	if json.Unmarshal(m.Job, &s) == nil {
		return s
	}
	var o struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(m.Job, &o)
	return o.ID
}

// DialWS connects to the gateway's WebSocket; origin may be "".
func (s *System) DialWS(origin string) (*WS, *http.Response, error) {
	return s.dialWS(websocket.DefaultDialer, origin)
}

func (s *System) dialWS(d *websocket.Dialer, origin string) (*WS, *http.Response, error) {
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if s.Key != "" {
		h.Set("Authorization", "Bearer "+s.Key)
	}
	c, resp, err := d.Dial("ws"+strings.TrimPrefix(s.BaseURL, "http")+"/v1/ws", h)
	if err != nil {
		return nil, resp, err
	}
	return &WS{tb: s.tb, C: c}, resp, nil
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
	if err := w.C.WriteJSON(v); err != nil {
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
	_ = w.C.SetReadDeadline(time.Now().Add(timeout))
	_, b, err := w.C.ReadMessage()
	if err != nil {
		return Msg{}, err
	}
	var m Msg
	if err := json.Unmarshal(b, &m); err != nil {
		w.tb.Fatalf("ws message %q: %v", b, err)
	}
	m.Raw = b
	return m, nil
}
