package ws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/service"
	"batchinfer/internal/wire"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// The session's unit tests serve it over a real WebSocket (httptest) with
// a fake backend: the protocol without NATS or TensorFlow.

type fakeBackend struct {
	// results is how many result frames a follower streams before end;
	// hold makes followers stream nothing until stopped.
	results int
	hold    bool
	follow  func(service.FollowRequest) error

	mu        sync.Mutex
	followers []*fakeFollower
	inflight  atomic.Int32
	maxSeen   atomic.Int32
	release   chan struct{} // predictions wait on it when set
}

func (b *fakeBackend) Follow(ctx context.Context, req service.FollowRequest) (service.Follower, error) {
	if b.follow != nil {
		if err := b.follow(req); err != nil {
			return nil, err
		}
	}
	f := &fakeFollower{req: req, results: b.results, hold: b.hold, done: make(chan struct{})}
	f.ctx, f.cancel = context.WithCancel(ctx)
	b.mu.Lock()
	b.followers = append(b.followers, f)
	b.mu.Unlock()
	return f, nil
}

func (b *fakeBackend) BeginUpload(context.Context) (func(), error) { return func() {}, nil }

func (b *fakeBackend) Submit(context.Context, service.Submission) (wire.JobStatus, bool, error) {
	return wire.JobStatus{ID: "j1", State: wire.StateQueued, Total: 1}, false, nil
}

func (b *fakeBackend) Predict(ctx context.Context, req service.PredictRequest) (*api.PredictResponse, error) {
	n := b.inflight.Add(1)
	defer b.inflight.Add(-1)
	for {
		m := b.maxSeen.Load()
		if n <= m || b.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if b.release != nil {
		select {
		case <-b.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return &api.PredictResponse{Model: req.Model, Version: "1"}, nil
}

func (b *fakeBackend) running() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, f := range b.followers {
		select {
		case <-f.done:
		default:
			if f.started.Load() {
				n++
			}
		}
	}
	return n
}

type fakeFollower struct {
	req      service.FollowRequest
	results  int
	hold     bool
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan struct{}
	started  atomic.Bool
	finished atomic.Bool
}

func (f *fakeFollower) Status() wire.JobStatus { return wire.JobStatus{ID: f.req.Job} }
func (f *fakeFollower) Finished() bool         { return f.finished.Load() }

func (f *fakeFollower) Stop() {
	f.cancel()
	if f.started.Load() {
		<-f.done
	}
}

func (f *fakeFollower) Run(sink service.Sink, onFinish func()) {
	f.started.Store(true)
	defer close(f.done)
	if f.hold {
		<-f.ctx.Done()
		return
	}
	for i := 1; i <= f.results; i++ {
		data := fmt.Sprintf(`{"job":%q,"chunk":%d,"items":[]}`, f.req.Job, i)
		if sink.Results(f.ctx, service.StoredResult{Seq: f.req.After + uint64(i), Data: []byte(data)}) != nil {
			return
		}
	}
	f.finished.Store(true)
	onFinish()
	_ = sink.End(f.ctx, wire.JobStatus{ID: f.req.Job, State: wire.StateCompleted}, f.req.After+uint64(f.results))
}

func testConfig() Config {
	return Config{
		Server: "test", MaxConnections: 10, MaxMessageBytes: 1 << 16, MaxSubscriptions: 3, MaxInflight: 2,
		SendBuffer: 64, SendBufferBytes: 1 << 20, SendBudgetBytes: 8 << 20, SlowConsumerTimeout: time.Second, Heartbeat: time.Minute,
		AuthTimeout: 5 * time.Second, AuthCheck: 20 * time.Millisecond,
		MaxPreauth: 8, MaxPreauthPerAddr: 4, PreauthMessageBytes: 1 << 10, MaxRefBytes: 64,
	}
}

type client struct {
	t *testing.T
	c *websocket.Conn
}

type frame struct {
	Type         string   `json:"type"`
	Job          string   `json:"job"`
	Ref          string   `json:"ref"`
	Seq          uint64   `json:"seq"`
	LastSeq      uint64   `json:"last_seq"`
	Code         api.Code `json:"code"`
	RetryAfterMS int64    `json:"retry_after_ms"`
	raw          string
}

func serve(t *testing.T, b Backend, cfg Config) (*Handler, func() *client) {
	return serveAuth(t, b, cfg, &auth.Authenticator{Off: true})
}

func serveAuth(t *testing.T, b Backend, cfg Config, a Authenticator) (*Handler, func() *client) {
	t.Helper()
	h := NewHandler(context.Background(), cfg, b, a, prometheus.NewRegistry(), zerolog.Nop())
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
		srv.Close()
	})
	lastURL = srv.URL
	return h, func() *client {
		c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		cl := &client{t, c}
		if f := cl.read(); f.Type != api.TypeHello {
			t.Fatalf("first frame %s", f.raw)
		}
		return cl
	}
}

func (c *client) send(s string) {
	c.t.Helper()
	if err := c.c.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) read() frame {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.c.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		c.t.Fatalf("frame %q: %v", b, err)
	}
	f.raw = string(b)
	return f
}

// readUntil reads frames until one of type typ and returns all read.
func (c *client) readUntil(typ string) []frame {
	c.t.Helper()
	var out []frame
	for {
		f := c.read()
		out = append(out, f)
		if f.Type == typ {
			return out
		}
	}
}

func closeCode(t *testing.T, c *client) int {
	t.Helper()
	for {
		_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.c.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				return ce.Code
			}
			t.Fatalf("read: %v, want a close", err)
		}
	}
}

// subscribed comes first, then the results from the cursor, then end.
func TestSessionSubscribeStreamsToEnd(t *testing.T) {
	_, dial := serve(t, &fakeBackend{results: 3}, testConfig())
	c := dial()
	c.send(`{"type":"subscribe","job":"j1","after":10}`)
	fs := c.readUntil(api.TypeEnd)
	if fs[0].Type != api.TypeSubscribed || len(fs) != 5 || fs[1].Seq != 11 || fs[3].Seq != 13 || fs[4].LastSeq != 13 {
		t.Fatalf("frames %v", fs)
	}
}

// unsubscribe is answered after the stream stops: nothing of the job
// follows unsubscribed.
func TestSessionUnsubscribeIsFinal(t *testing.T) {
	b := &fakeBackend{hold: true}
	_, dial := serve(t, b, testConfig())
	c := dial()
	c.send(`{"type":"subscribe","job":"j1"}`)
	c.readUntil(api.TypeSubscribed)
	eventually(t, func() bool { return b.running() == 1 }, "the follower runs")
	c.send(`{"type":"unsubscribe","job":"j1"}`)
	c.readUntil(api.TypeUnsubscribed)
	if n := b.running(); n != 0 {
		t.Fatalf("%d followers still running after unsubscribed", n)
	}
}

// A second subscribe to the same job replaces the first (it is stopped).
func TestSessionResubscribeReplaces(t *testing.T) {
	b := &fakeBackend{hold: true}
	_, dial := serve(t, b, testConfig())
	c := dial()
	c.send(`{"type":"subscribe","job":"j1"}`)
	c.readUntil(api.TypeSubscribed)
	c.send(`{"type":"subscribe","job":"j1","after":5}`)
	c.readUntil(api.TypeSubscribed)
	eventually(t, func() bool {
		b.mu.Lock()
		n := len(b.followers)
		b.mu.Unlock()
		return b.running() == 1 && n == 2
	}, "the new follower only")
	b.mu.Lock()
	first := b.followers[0]
	b.mu.Unlock()
	select {
	case <-first.done:
	default:
		t.Fatal("the replaced follower still runs")
	}
}

// eventually retries cond for up to 5 s.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for wait := time.Millisecond; !cond(); wait = min(2*wait, 100*time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not true after 5s: %s", what)
		}
		time.Sleep(wait)
	}
}

// The per-connection limit answers too_many_subscriptions; a backend limit
// (busy) reaches the client with its retry hint.
func TestSessionLimits(t *testing.T) {
	b := &fakeBackend{hold: true, follow: func(r service.FollowRequest) error {
		if r.Job == "busy" {
			return api.RetryLater(api.CodeBusy, 1500*time.Millisecond, nil, "full")
		}
		return nil
	}}
	_, dial := serve(t, b, testConfig())
	c := dial()
	for _, j := range []string{"a", "b", "c"} {
		c.send(`{"type":"subscribe","job":"` + j + `"}`)
		c.readUntil(api.TypeSubscribed)
	}
	c.send(`{"type":"subscribe","job":"d"}`)
	if f := c.readUntil(api.TypeError); f[len(f)-1].Code != api.CodeTooManySubs {
		t.Fatalf("fourth subscription: %v", f)
	}
	c.send(`{"type":"unsubscribe","job":"a"}`)
	c.readUntil(api.TypeUnsubscribed)
	c.send(`{"type":"subscribe","job":"busy"}`)
	f := c.readUntil(api.TypeError)
	if e := f[len(f)-1]; e.Code != api.CodeBusy || e.RetryAfterMS != 1500 || e.Job != "busy" {
		t.Fatalf("busy: %s", e.raw)
	}
}

// At most MaxInflight predictions run at once per connection; the others
// wait (the reader stops), none is refused.
func TestSessionBoundsInflightWork(t *testing.T) {
	b := &fakeBackend{release: make(chan struct{})}
	_, dial := serve(t, b, testConfig())
	c := dial()
	for i := 0; i < 6; i++ {
		c.send(fmt.Sprintf(`{"type":"predict","ref":"r%d","model":"m","inputs":[[1]]}`, i))
	}
	time.Sleep(100 * time.Millisecond)
	if n := b.inflight.Load(); n != 2 {
		t.Fatalf("%d predictions in flight, want MaxInflight 2", n)
	}
	close(b.release)
	for i := 0; i < 6; i++ {
		if f := c.read(); f.Type != api.TypePrediction {
			t.Fatalf("frame %s", f.raw)
		}
	}
	if m := b.maxSeen.Load(); m != 2 {
		t.Fatalf("at most %d in flight, want 2", m)
	}
}

// Invalid messages get an error and keep the connection; protocol
// violations close it with their code.
func TestSessionInvalidMessagesAndViolations(t *testing.T) {
	_, dial := serve(t, &fakeBackend{}, testConfig())
	c := dial()
	for _, m := range []string{`nope`, `{}`, `{"type":5}`, `{"type":"explode"}`, `{"type":"subscribe"}`,
		`{"type":"subscribe","job":"j","after":-1}`, `{"type":"ping","ref":7}`, `{"type":"predict","inputs":[]}`} {
		c.send(m)
		if f := c.read(); f.Type != api.TypeError || f.Code != api.CodeInvalidMessage {
			t.Fatalf("%s: %s", m, f.raw)
		}
	}
	c.send(`{"ref":"x","type":"ping"}`)
	if f := c.read(); f.Type != api.TypePong || f.Ref != "x" {
		t.Fatalf("pong: %s", f.raw)
	}
	for _, tc := range []struct {
		name string
		mt   int
		msg  string
		code int
	}{
		{"binary", websocket.BinaryMessage, "x", websocket.CloseUnsupportedData},
		{"invalid UTF-8", websocket.TextMessage, "{\"type\":\"ping\",\"ref\":\"\xff\"}", websocket.CloseInvalidFramePayloadData},
		{"too big", websocket.TextMessage, `{"type":"ping","ref":"` + strings.Repeat("x", 1<<17) + `"}`, websocket.CloseMessageTooBig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dial()
			_ = c.c.WriteMessage(tc.mt, []byte(tc.msg))
			if got := closeCode(t, c); got != tc.code {
				t.Fatalf("close %d, want %d", got, tc.code)
			}
		})
	}
	c2 := dial()
	for i := 0; i < maxInvalidInRow; i++ {
		c2.send(`nope`)
	}
	if got := closeCode(t, c2); got != api.CloseTooManyErrors {
		t.Fatalf("close %d, want %d", got, api.CloseTooManyErrors)
	}
}

// A disconnect ends every follower of the connection.
func TestSessionDisconnectEndsFollowers(t *testing.T) {
	b := &fakeBackend{hold: true}
	h, dial := serve(t, b, testConfig())
	c := dial()
	c.send(`{"type":"subscribe","job":"a"}`)
	c.send(`{"type":"subscribe","job":"b"}`)
	c.readUntil(api.TypeSubscribed)
	c.readUntil(api.TypeSubscribed)
	_ = c.c.Close()
	eventually(t, func() bool { return b.running() == 0 && h.Connections() == 0 }, "no follower or connection left")
}

func TestMessageType(t *testing.T) {
	for _, tc := range []struct {
		in, typ string
		err     bool
	}{
		{`{"type":"ping"}`, "ping", false},
		{` { "ref" : "a,b}" , "inputs":[[1,2],{"x":[3]}], "type" : "predict" } `, "predict", false},
		{`{"ty\u0070e":"ping"}`, "ping", false},
		{`{"a":1}`, "", true},
		{`{"type":1}`, "", true},
		{`[1]`, "", true},
		{`{"a":`, "", true},
		{`{"a":"unterminated}`, "", true},
	} {
		typ, err := messageType([]byte(tc.in))
		if typ != tc.typ || (err != nil) != tc.err {
			t.Errorf("messageType(%s) = %q, %v", tc.in, typ, err)
		}
	}
}

// lastURL is the URL of the server the last serve started (tests that
// dial with their own headers use it).
var lastURL string

func dialURL(*testing.T, func() *client) string { return lastURL }
