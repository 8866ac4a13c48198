package ws

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
	"batchinfer/gateway/input"
	"batchinfer/gateway/peer"
	"batchinfer/gateway/service"
	"batchinfer/internal/wire"

	"github.com/rs/zerolog"
)

// Backend is what a session needs of the use cases (*service.Service).
type Backend interface {
	Follow(ctx context.Context, req service.FollowRequest) (service.Follower, error)
	Submit(ctx context.Context, sub service.Submission) (wire.JobStatus, bool, error)
	Predict(ctx context.Context, req service.PredictRequest) (*api.PredictResponse, error)
	// BeginUpload takes one of the caller's tenant's upload slots.
	BeginUpload(ctx context.Context) (func(), error)
}

// session is the protocol half of a WebSocket connection (api/websocket.md):
// it decodes each client message into its own type (package api) and
// answers it. Work a message starts (a submit, a prediction, a
// subscription) runs on the connection's context, is bounded per
// connection and tracked, so that a disconnect always ends it; no lock is
// held across a send or a call to the backend.
type session struct {
	backend Backend
	h       *Handler
	t       *transport
	cfg     Config
	log     zerolog.Logger
	who     peer.Info // the client

	// principal is the session's once authenticated; authed is closed
	// then; release gives back its connection slots, and leavePreauth its
	// slot in the pre-authentication pool.
	p            atomic.Pointer[auth.Principal]
	authed       chan struct{}
	release      func()
	leavePreauth func()

	mu     sync.Mutex
	subs   map[string]service.Follower
	closed bool

	work  sync.WaitGroup
	slots chan struct{} // submits and predictions in flight

	byType map[string]func([]byte) bool // handlers of an authenticated session
}

func newSession(h *Handler, t *transport, who peer.Info, log zerolog.Logger) *session {
	s := &session{
		backend: h.backend, h: h, t: t, cfg: h.cfg, log: log, who: who, authed: make(chan struct{}),
		release: func() {}, leavePreauth: func() {},
		subs: map[string]service.Follower{}, slots: make(chan struct{}, h.cfg.MaxInflight),
	}
	s.byType = s.handlers()
	return s
}

// authenticate makes p the session's principal; release gives back the
// slots it holds as an authenticated connection.
func (s *session) authenticate(p *auth.Principal, release func()) {
	s.release = release
	s.p.Store(p)
	close(s.authed)
}

// waitAuth notes the pre-authentication slot to give back once the
// session authenticates.
func (s *session) waitAuth(leave func()) { s.leavePreauth = leave }

func (s *session) principal() *auth.Principal { return s.p.Load() }

// ctx is the context of the session's work: the connection's, with its
// principal.
func (s *session) ctx() context.Context { return auth.With(s.t.ctx, s.principal()) }

// allow takes one request from the principal's token bucket, answering
// rate_limited when it is empty.
func (s *session) allow(ref, job string) bool {
	if ok, wait := s.h.auth.Allow(s.principal()); !ok {
		s.sendError(ref, job, api.RetryLater(api.CodeRateLimited, wait, nil, "over the key's request rate: retry after %s", wait.Round(time.Millisecond)))
		return false
	}
	return true
}

// close stops every subscription and waits for all work of the session.
func (s *session) close() {
	s.t.closeWith(1000, "")
	s.mu.Lock()
	s.closed = true
	subs := s.subs
	s.subs = nil
	s.mu.Unlock()
	for _, f := range subs {
		f.Stop()
	}
	s.work.Wait()
	s.release()
}

func (s *session) send(ctx context.Context, typ string, v any) error {
	return s.t.send(ctx, typ, wire.Marshal(v))
}

func (s *session) sendError(ref, job string, err error) {
	e := api.As(err)
	if e.Code == api.CodeInternal {
		s.log.Error().Err(err).Msg("websocket request failed")
	}
	_ = s.send(s.t.ctx, api.TypeError, api.NewErrorMessage(ref, job, e))
}

// invalid answers a message that breaks the protocol; it returns false so
// that the transport counts it.
func (s *session) invalid(ref, job, format string, args ...any) bool {
	s.sendError(ref, job, api.Errorf(api.CodeInvalidMessage, format, args...))
	return false
}

// handle dispatches one client message and reports whether it was valid.
func (s *session) handle(data []byte) bool {
	typ, err := messageType(data)
	switch {
	case errors.Is(err, errNoType):
		return s.invalid("", "", "message has no type")
	case err != nil:
		return s.invalid("", "", "malformed JSON: %v", err)
	}
	if s.principal() == nil {
		return s.beforeAuth(typ, data)
	}
	if h, ok := s.byType[typ]; ok {
		return h(data)
	}
	if typ == "" {
		return s.invalid("", "", "message has no type")
	}
	return s.invalid("", "", "unknown message type %q", typ)
}

// handlers decode each message type into its struct and answer it.
func (s *session) handlers() map[string]func([]byte) bool {
	return map[string]func([]byte) bool{
		api.TypeAuth:        func([]byte) bool { return s.invalid("", "", "already authenticated") },
		api.TypePing:        decodeThen(s, s.ping),
		api.TypeSubscribe:   decodeThen(s, s.onSubscribe),
		api.TypeUnsubscribe: decodeThen(s, s.onUnsubscribe),
		api.TypeSubmit:      decodeThen(s, s.onSubmit),
		api.TypePredict:     decodeThen(s, s.onPredict),
	}
}

// decodeThen decodes a message into M and passes it to f.
func decodeThen[M any](s *session, f func(M) bool) func([]byte) bool {
	return func(data []byte) bool {
		var m M
		return s.decode(data, &m) && f(m)
	}
}

// bounded says whether the ref and job a message carries fit MaxRefBytes:
// answers echo them.
func (s *session) bounded(ref, job string) bool {
	if len(ref) <= s.cfg.MaxRefBytes && len(job) <= s.cfg.MaxRefBytes {
		return true
	}
	s.sendError("", "", api.Errorf(api.CodeInvalidMessage, "ref and job may be at most %d bytes (GATEWAY_WS_MAX_REF_BYTES)", s.cfg.MaxRefBytes))
	return false
}

// beforeAuth accepts only auth (and ping) from a connection that has not
// authenticated; anything else closes it (4401).
func (s *session) beforeAuth(typ string, data []byte) bool {
	switch typ {
	case api.TypeAuth:
		var m api.Auth
		return s.decode(data, &m) && s.onAuth(m)
	case api.TypePing:
		var m api.Ping
		return s.decode(data, &m) && s.ping(m)
	}
	s.h.Audit.Failed(s.who, "", "/v1/ws", "message before authentication")
	s.t.closeWith(api.CloseUnauthorized, `authentication required: send {"type":"auth","token":...} first`)
	return true
}

func (s *session) decode(data []byte, v any) bool {
	if err := json.Unmarshal(data, v); err != nil {
		return s.invalid("", "", "malformed message: %s", input.JSONErrText(err))
	}
	return true
}

func (s *session) ping(m api.Ping) bool {
	if !s.bounded(m.Ref, "") {
		return false
	}
	_ = s.send(s.ctx(), api.TypePong, api.Pong{Type: api.TypePong, Ref: m.Ref})
	return true
}

func (s *session) onUnsubscribe(m api.Unsubscribe) bool {
	if m.Job == "" {
		return s.invalid("", "", "unsubscribe needs a job")
	}
	if !s.bounded("", m.Job) {
		return false
	}
	s.stopSub(m.Job)
	_ = s.send(s.t.ctx, api.TypeUnsubscribed, api.Unsubscribed{Type: api.TypeUnsubscribed, Job: m.Job})
	return true
}

func (s *session) onSubmit(m api.Submit) bool {
	if !s.bounded(m.Ref, "") {
		return false
	}
	if m.Model == "" {
		return s.invalid(m.Ref, "", "submit needs a model")
	}
	if !s.allow(m.Ref, "") {
		return true
	}
	done, err := s.backend.BeginUpload(s.ctx())
	if err != nil {
		s.sendError(m.Ref, "", err)
		return true
	}
	s.spawn(func(ctx context.Context) { defer done(); s.submit(ctx, m) }, done)
	return true
}

func (s *session) onPredict(m api.Predict) bool {
	if !s.bounded(m.Ref, "") {
		return false
	}
	if m.Model == "" {
		return s.invalid(m.Ref, "", "predict needs a model")
	}
	if !s.allow(m.Ref, "") {
		return true
	}
	s.spawn(func(ctx context.Context) { s.predict(ctx, m) }, func() {})
	return true
}

// spawn runs f on its own goroutine, at most MaxInflight at once per
// connection: beyond that the reader waits, which slows the client down
// instead of queueing without bound. f keeps the decode budget its message
// holds until it returns. dropped runs when f does not.
func (s *session) spawn(f func(ctx context.Context), dropped func()) {
	held := s.t.takeHeld()
	select {
	case s.slots <- struct{}{}:
	case <-s.t.ctx.Done():
		held()
		dropped()
		return
	}
	s.work.Add(1)
	go func() {
		defer s.work.Done()
		defer func() { <-s.slots }()
		defer held()
		f(s.ctx())
	}()
}

func (s *session) submit(ctx context.Context, m api.Submit) {
	st, _, err := s.backend.Submit(ctx, service.Submission{Model: m.Model, Version: m.Version, Name: m.Name, Items: input.JSONItems(m.Inputs),
		Priority: m.Priority, Deadline: m.Deadline, Webhook: m.Webhook})
	if err != nil {
		s.sendError(m.Ref, "", err)
		return
	}
	accepted := func() { _ = s.send(ctx, api.TypeAccepted, api.Accepted{Type: api.TypeAccepted, Ref: m.Ref, Job: st}) }
	if m.Subscribe != nil && !*m.Subscribe {
		accepted()
		return
	}
	s.subscribe(service.FollowRequest{Job: st.ID, Results: true}, accepted)
}

func (s *session) predict(ctx context.Context, m api.Predict) {
	resp, err := s.backend.Predict(ctx, service.PredictRequest{Model: m.Model, Version: m.Version, Inputs: m.Inputs})
	if err != nil {
		if ctx.Err() == nil { // else the connection is gone
			s.sendError(m.Ref, "", err)
		}
		return
	}
	msg := api.Prediction{Type: api.TypePrediction, Ref: m.Ref, Model: resp.Model, Version: resp.Version, Items: resp.Items, LatencyMS: resp.LatencyMS}
	_ = s.t.send(ctx, api.TypePrediction, msg.AppendJSON(make([]byte, 0, 128+len(resp.Items))))
}
