package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/gorilla/websocket"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// WebSocket timing and protocol constants (api/websocket.md).
const (
	wsWriteWait        = 10 * time.Second
	wsCloseGrace       = time.Second
	wsMaxInvalidInRow  = 10
	CloseSlowConsumer  = 4008
	CloseTooManyErrors = 4009
)

// wsIn is any client message; fields unused by a type are ignored.
type wsIn struct {
	Type      string            `json:"type"`
	Ref       string            `json:"ref"`
	Job       string            `json:"job"`
	After     *int64            `json:"after"`
	Model     string            `json:"model"`
	Version   string            `json:"version"`
	Inputs    []json.RawMessage `json:"inputs"`
	Subscribe *bool             `json:"subscribe"`
}

type wsError struct {
	Type    string   `json:"type"`
	Ref     string   `json:"ref,omitempty"`
	Job     string   `json:"job,omitempty"`
	Code    string   `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  32 << 10,
	WriteBufferSize: 32 << 10,
	// Origins are checked in handleWS with a JSON answer.
	CheckOrigin: func(*http.Request) bool { return true },
}

// originAllowed accepts requests without Origin (non-browser clients),
// same-origin requests and configured origins.
func (g *Gateway) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range g.cfg.AllowedOrigins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

func (g *Gateway) handleWS(w http.ResponseWriter, r *http.Request) {
	if !g.originAllowed(r) {
		writeError(w, apiErr(http.StatusForbidden, CodeForbiddenOrigin, "origin %q is not allowed", r.Header.Get("Origin")))
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		writeError(w, apiErr(http.StatusBadRequest, CodeBadRequest, "a WebSocket upgrade is required on /v1/ws"))
		return
	}
	select {
	case <-g.closing:
		writeError(w, &APIError{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "shutting down", RetryAfter: 1})
		return
	default:
	}
	if n := g.wsConns.Add(1); n > int64(g.cfg.MaxWSConnections) {
		g.wsConns.Add(-1)
		writeError(w, &APIError{Status: http.StatusServiceUnavailable, Code: CodeTooManyConns,
			Message: "too many WebSocket connections (limit GATEWAY_MAX_WS_CONNECTIONS)", RetryAfter: 5})
		return
	}
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		g.wsConns.Add(-1)
		return // the upgrader has answered
	}
	g.wsWG.Add(1)
	g.metrics.wsConns.Inc()
	ctx, cancel := context.WithCancel(g.ctx)
	conn := &wsConn{
		g: g, c: c, send: make(chan []byte, g.cfg.WSSendBuffer), done: make(chan struct{}),
		ctx: ctx, cancel: cancel,
		subs: map[string]*subscription{},
		log:  g.log.With().Str("component", "ws").Str("remote", r.RemoteAddr).Logger(),
	}
	go conn.writeLoop()
	conn.readLoop()
	g.metrics.wsConns.Dec()
	g.wsConns.Add(-1)
	g.wsWG.Done()
}

// wsConn is one client connection: readLoop runs on the handler goroutine,
// writeLoop on its own; everything else talks to the client through send.
type wsConn struct {
	g    *Gateway
	c    *websocket.Conn
	log  zerolog.Logger
	send chan []byte

	closeOnce sync.Once
	done      chan struct{}
	// ctx ends with the connection; subscriptions derive from it.
	ctx       context.Context
	cancel    context.CancelFunc
	closeCode int
	closeText string

	mu   sync.Mutex
	subs map[string]*subscription
}

// closeWith asks the writer to send a close frame and end the connection.
func (c *wsConn) closeWith(code int, text string) {
	c.closeOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
		c.cancel()
	})
}

// enqueue queues b for the client. When the bounded buffer is full it
// waits up to SlowConsumerTimeout (the producer is this client's own
// subscription, so nobody else waits), then closes the connection as a slow
// consumer; the client reconnects and resumes from its last seq.
func (c *wsConn) enqueue(typ string, b []byte) bool {
	select {
	case <-c.done:
		return false
	case c.send <- b:
		c.g.metrics.wsMessages.WithLabelValues(typ).Inc()
		return true
	default:
	}
	t := time.NewTimer(c.g.cfg.SlowConsumerTimeout)
	defer t.Stop()
	select {
	case <-c.done:
		return false
	case c.send <- b:
		c.g.metrics.wsMessages.WithLabelValues(typ).Inc()
		return true
	case <-t.C:
		c.g.metrics.wsSlowClosed.Inc()
		c.closeWith(CloseSlowConsumer, "slow consumer: send buffer full, reconnect and resume")
		// The writer may be stuck in a write to a full socket: give it a
		// moment to send the close frame, then drop the connection.
		time.AfterFunc(wsCloseGrace, func() { _ = c.c.UnderlyingConn().Close() })
		return false
	}
}

func (c *wsConn) sendJSON(typ string, v any) bool { return c.enqueue(typ, wire.Marshal(v)) }

func (c *wsConn) sendError(ref, job string, err error) {
	ae := asAPIError(err)
	if ae.Status >= 500 && ae.Code == CodeInternal {
		c.log.Error().Err(err).Msg("websocket request failed")
	}
	c.sendJSON("error", wsError{Type: "error", Ref: ref, Job: job, Code: ae.Code, Message: ae.Message, Details: ae.Details})
}

func (c *wsConn) writeLoop() {
	hb := c.g.cfg.HeartbeatInterval
	ping := time.NewTicker(hb / 2)
	heartbeat := time.NewTicker(hb)
	defer func() {
		ping.Stop()
		heartbeat.Stop()
		_ = c.c.Close()
	}()
	write := func(b []byte) bool {
		_ = c.c.SetWriteDeadline(time.Now().Add(wsWriteWait))
		return c.c.WriteMessage(websocket.TextMessage, b) == nil
	}
	if !write(wire.Marshal(map[string]any{
		"type": "hello", "server": "batchinfer-gateway/" + c.g.cfg.Version, "heartbeat_ms": hb.Milliseconds(),
		"max_message_bytes": c.g.cfg.MaxWSMessageBytes, "max_subscriptions": c.g.cfg.MaxWSSubscriptions,
	})) {
		c.closeWith(websocket.CloseGoingAway, "")
		return
	}
	for {
		select {
		case <-c.done: // closing wins over queued messages
			c.writeClose()
			return
		default:
		}
		select {
		case b := <-c.send:
			if !write(b) {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-ping.C:
			if err := c.c.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		case t := <-heartbeat.C:
			if !write(wire.Marshal(map[string]string{"type": "heartbeat", "time": t.UTC().Format(time.RFC3339Nano)})) {
				c.closeWith(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-c.g.closing:
			c.closeWith(websocket.CloseGoingAway, "server shutting down")
		case <-c.done:
			c.writeClose()
			return
		}
	}
}

func (c *wsConn) writeClose() {
	if c.closeCode != websocket.CloseAbnormalClosure {
		msg := websocket.FormatCloseMessage(c.closeCode, c.closeText)
		_ = c.c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(wsCloseGrace))
	}
}

func (c *wsConn) readLoop() {
	defer func() {
		c.closeWith(websocket.CloseNormalClosure, "")
		c.mu.Lock()
		for _, s := range c.subs {
			s.cancel()
		}
		c.subs = nil
		c.mu.Unlock()
	}()
	hb := c.g.cfg.HeartbeatInterval
	c.c.SetReadLimit(c.g.cfg.MaxWSMessageBytes)
	_ = c.c.SetReadDeadline(time.Now().Add(2 * hb))
	c.c.SetPongHandler(func(string) error { return c.c.SetReadDeadline(time.Now().Add(2 * hb)) })
	invalid := 0
	for {
		mt, data, err := c.c.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.closeWith(websocket.CloseMessageTooBig, "message too big")
			}
			return
		}
		_ = c.c.SetReadDeadline(time.Now().Add(2 * hb))
		if mt != websocket.TextMessage {
			c.closeWith(websocket.CloseUnsupportedData, "only text frames are accepted")
			return
		}
		if c.handle(data) {
			invalid = 0
		} else if invalid++; invalid >= wsMaxInvalidInRow {
			c.closeWith(CloseTooManyErrors, "too many invalid messages")
			return
		}
	}
}

// handle dispatches one client message and reports whether it was valid.
func (c *wsConn) handle(data []byte) bool {
	var m wsIn
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		c.sendError("", "", apiErr(http.StatusBadRequest, CodeInvalidMessage, "malformed JSON: %s", jsonErrText(err)))
		return false
	}
	invalid := func(format string, args ...any) bool {
		c.sendError(m.Ref, m.Job, apiErr(http.StatusBadRequest, CodeInvalidMessage, format, args...))
		return false
	}
	switch m.Type {
	case "ping":
		c.sendJSON("pong", map[string]string{"type": "pong", "ref": m.Ref})
	case "subscribe":
		if m.Job == "" {
			return invalid("subscribe needs a job")
		}
		after := int64(0)
		if m.After != nil {
			after = *m.After
		}
		if after < 0 {
			return invalid("after must be >= 0")
		}
		c.subscribe(m.Job, uint64(after))
	case "unsubscribe":
		if m.Job == "" {
			return invalid("unsubscribe needs a job")
		}
		c.unsubscribe(m.Job)
		c.sendJSON("unsubscribed", map[string]string{"type": "unsubscribed", "job": m.Job})
	case "submit":
		if m.Model == "" {
			return invalid("submit needs a model")
		}
		go c.submit(m)
	case "predict":
		if m.Model == "" {
			return invalid("predict needs a model")
		}
		go c.predict(m)
	case "":
		return invalid("message has no type")
	default:
		return invalid("unknown message type %q", m.Type)
	}
	return true
}

// decodeRequest resolves the model of a submit or predict message and
// validates its inputs; on failure it answers the client with the error.
func (c *wsConn) decodeRequest(m wsIn, maxItems int) (*model.Metadata, []wire.Item, bool) {
	meta, err := c.g.resolveModel(m.Model, m.Version)
	if err == nil {
		var items []wire.Item
		if items, err = c.g.decodeInputs(meta, m.Inputs, maxItems); err == nil {
			return meta, items, true
		}
	}
	c.sendError(m.Ref, "", err)
	return nil, nil, false
}

func (c *wsConn) submit(m wsIn) {
	ctx, cancel := context.WithTimeout(c.g.ctx, 2*natsOpTimeout)
	defer cancel()
	meta, items, ok := c.decodeRequest(m, c.g.cfg.MaxItems)
	if !ok {
		return
	}
	st, _, err := c.g.submitJob(ctx, meta, items, "", "")
	if err != nil {
		c.sendError(m.Ref, "", err)
		return
	}
	c.sendJSON("accepted", map[string]any{"type": "accepted", "ref": m.Ref, "job": st})
	if m.Subscribe == nil || *m.Subscribe {
		c.subscribe(st.ID, 0)
	}
}

func (c *wsConn) predict(m wsIn) {
	meta, items, ok := c.decodeRequest(m, c.g.cfg.MaxSyncItems)
	if !ok {
		return
	}
	resp, err := c.g.predict(c.g.ctx, meta, items, c.g.cfg.SyncTimeout)
	if err != nil {
		c.sendError(m.Ref, "", err)
		return
	}
	c.sendJSON("prediction", map[string]any{
		"type": "prediction", "ref": m.Ref, "model": resp.Model, "version": resp.Version,
		"items": resp.Items, "latency_ms": resp.LatencyMS,
	})
}

func (c *wsConn) unsubscribe(job string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.subs[job]; s != nil {
		s.cancel()
		delete(c.subs, job)
	}
}

// subscription streams one job's results and progress to a connection.
type subscription struct {
	c      *wsConn
	job    string
	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	lastSent uint64 // highest result seq enqueued (or the client's after)
	endSeq   uint64 // highest result seq of the finished job
	terminal bool
	ended    bool
	// lastStatus is the latest progress sent, repeated in the end message.
	lastStatus wire.JobStatus
}

func (c *wsConn) subscribe(job string, after uint64) {
	ctx := c.ctx
	rec, err := c.g.loadJob(ctx, job)
	if err != nil {
		c.sendError(job, job, err)
		return
	}
	c.mu.Lock()
	if c.subs == nil { // connection closing
		c.mu.Unlock()
		return
	}
	if old := c.subs[job]; old != nil {
		old.cancel()
		delete(c.subs, job)
	}
	if len(c.subs) >= c.g.cfg.MaxWSSubscriptions {
		c.mu.Unlock()
		c.sendError(job, job, apiErr(http.StatusTooManyRequests, CodeTooManySubs,
			"already following %d jobs (limit GATEWAY_MAX_WS_SUBSCRIPTIONS)", c.g.cfg.MaxWSSubscriptions))
		return
	}
	sctx, cancel := context.WithCancel(ctx)
	s := &subscription{c: c, job: job, ctx: sctx, cancel: cancel, lastSent: after}
	c.subs[job] = s
	c.mu.Unlock()

	c.sendJSON("subscribed", map[string]any{"type": "subscribed", "job": job, "after": after, "status": rec.Status(time.Now())})
	if err := s.startResults(after); err != nil {
		c.sendError(job, job, err)
		c.unsubscribe(job)
		return
	}
	go s.progressLoop()
}

func (s *subscription) startResults(after uint64) error {
	g := s.c.g
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{wire.ResultFilter(s.job)}}
	if after > 0 {
		cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
		cfg.OptStartSeq = after + 1
	}
	cons, err := g.js.OrderedConsumer(s.ctx, wire.StreamResults, cfg)
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(64))
	if err != nil {
		return err
	}
	context.AfterFunc(s.ctx, it.Stop)
	go func() {
		defer it.Stop()
		for {
			m, err := it.Next()
			if err != nil {
				return
			}
			md, err := m.Metadata()
			if err != nil {
				continue
			}
			seq := md.Sequence.Stream
			data := m.Data()
			if len(data) < 2 || data[0] != '{' {
				continue
			}
			// Splice the stored chunk result into the message without
			// re-encoding it: {"type":"results","seq":N,<stored fields>}.
			b := make([]byte, 0, len(data)+48)
			b = append(b, `{"type":"results","seq":`...)
			b = strconv.AppendUint(b, seq, 10)
			b = append(b, ',')
			b = append(b, data[1:]...)
			s.mu.Lock()
			if seq <= s.lastSent || s.ended {
				s.mu.Unlock()
				continue
			}
			if !s.c.enqueue("results", b) {
				s.mu.Unlock()
				return
			}
			s.lastSent = seq
			s.maybeEndLocked()
			s.mu.Unlock()
		}
	}()
	return nil
}

// maybeEndLocked sends end once the job is finished and every result up to
// its last one has been sent. s.mu is held.
func (s *subscription) maybeEndLocked() {
	if !s.terminal || s.ended || s.lastSent < s.endSeq {
		return
	}
	s.ended = true
	s.c.sendJSON("end", map[string]any{"type": "end", "job": s.job, "status": s.lastStatus, "last_seq": max(s.endSeq, s.lastSent)})
	s.cancel()
	s.c.mu.Lock()
	if s.c.subs != nil && s.c.subs[s.job] == s {
		delete(s.c.subs, s.job)
	}
	s.c.mu.Unlock()
}

func (s *subscription) progressLoop() {
	g := s.c.g
	w, err := g.b.Jobs.Watch(s.ctx, s.job)
	if err != nil {
		s.c.sendError(s.job, s.job, err)
		return
	}
	defer func() { _ = w.Stop() }()
	var (
		latest   *wire.JobRecord
		lastSent time.Time
		timer    <-chan time.Time
	)
	send := func() {
		st := latest.Status(time.Now())
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.ended {
			return
		}
		s.lastStatus = st
		s.c.sendJSON("progress", map[string]any{"type": "progress", "job": s.job, "status": st})
		lastSent = time.Now()
		if latest.Finished() && !s.terminal {
			s.terminal = true
			ctx, cancel := context.WithTimeout(s.ctx, natsOpTimeout)
			m, err := g.results.GetLastMsgForSubject(ctx, wire.ResultFilter(s.job))
			cancel()
			if err == nil {
				s.endSeq = m.Sequence
			}
			s.maybeEndLocked()
		}
	}
	for {
		select {
		case <-s.ctx.Done():
			return
		case e, ok := <-w.Updates():
			if !ok {
				return
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			var r wire.JobRecord
			if err := json.Unmarshal(e.Value(), &r); err != nil {
				continue
			}
			latest = &r
			if wait := g.cfg.ProgressInterval - time.Since(lastSent); wait <= 0 || r.Finished() {
				timer = nil
				send()
			} else if timer == nil {
				timer = time.After(wait)
			}
		case <-timer:
			timer = nil
			send()
		}
	}
}
