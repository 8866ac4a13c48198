package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"batchinfer/api"

	"github.com/gorilla/websocket"
)

// writeTimeout bounds one message's write to the WebSocket.
const writeTimeout = 10 * time.Second

// Message is any server message of the WebSocket (websocket.md): Type
// says which, and the fields of that type are set. Raw is the message as
// it came.
type Message struct {
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"`
	// Job is the job's id (of accepted: its status's).
	Job string `json:"-"`
	// Accepted is the job an accepted message answers with.
	Accepted *api.JobStatus `json:"-"`
	// Status is the job's status (subscribed, progress, end).
	Status *api.JobStatus `json:"status,omitempty"`
	// results: its sequence and chunk; end: LastSeq; subscribed: After and
	// whether results are streamed.
	Seq     uint64           `json:"seq,omitempty"`
	LastSeq uint64           `json:"last_seq,omitempty"`
	After   uint64           `json:"after,omitempty"`
	Results bool             `json:"results,omitempty"`
	Chunk   int              `json:"chunk,omitempty"`
	Start   int              `json:"start,omitempty"`
	Done    int              `json:"done,omitempty"`
	Failed  int              `json:"failed,omitempty"`
	Skipped int              `json:"skipped,omitempty"`
	Worker  string           `json:"worker,omitempty"`
	Items   []api.ItemResult `json:"items,omitempty"`
	// prediction
	Model     string  `json:"model,omitempty"`
	Version   string  `json:"version,omitempty"`
	LatencyMS float64 `json:"latency_ms,omitempty"`
	// hello, authenticated, heartbeat
	Server           string `json:"server,omitempty"`
	HeartbeatMS      int64  `json:"heartbeat_ms,omitempty"`
	MaxMessageBytes  int64  `json:"max_message_bytes,omitempty"`
	MaxSubscriptions int    `json:"max_subscriptions,omitempty"`
	AuthRequired     bool   `json:"auth_required,omitempty"`
	Tenant           string `json:"tenant,omitempty"`
	Time             string `json:"time,omitempty"`
	// error
	Code         api.Code     `json:"code,omitempty"`
	Message      string       `json:"message,omitempty"`
	Details      []api.Detail `json:"details,omitempty"`
	RetryAfterMS int64        `json:"retry_after_ms,omitempty"`

	Raw []byte `json:"-"`
}

// UnmarshalJSON reads any server message: "job" is an id, or in accepted
// the job's status.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	var v struct {
		plain
		Job json.RawMessage `json:"job"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Message(v.plain)
	switch j := bytes.TrimSpace(v.Job); {
	case len(j) == 0 || bytes.Equal(j, []byte("null")):
	case j[0] == '{':
		var st api.JobStatus
		if err := json.Unmarshal(j, &st); err != nil {
			return fmt.Errorf("%s message: job: %w", m.Type, err)
		}
		m.Accepted, m.Job = &st, st.ID
	default:
		if err := json.Unmarshal(j, &m.Job); err != nil {
			return fmt.Errorf("%s message: job: %w", m.Type, err)
		}
	}
	return nil
}

// Err is an error message as an *api.Error (nil for other types).
func (m *Message) Err() *api.Error {
	if m.Type != api.TypeError {
		return nil
	}
	return &api.Error{Code: m.Code, Message: m.Message, Details: m.Details,
		RetryAfter: time.Duration(m.RetryAfterMS) * time.Millisecond}
}

// DialOptions shape a WebSocket connection.
type DialOptions struct {
	// Origin is sent as the Origin header (a browser's), when set.
	Origin string
	// NoCredentials opens the connection without the Authorization
	// header, as a browser must: the first message is then Auth.
	NoCredentials bool
	// Header holds more request headers.
	Header http.Header
	// Dialer is the WebSocket dialer (websocket.DefaultDialer when nil).
	Dialer *websocket.Dialer
}

// Conn is one WebSocket connection to the gateway (GET /v1/ws), speaking
// the api package's messages. Reads are for one goroutine; Send may be
// called from any.
type Conn struct {
	ws  *websocket.Conn
	wmu sync.Mutex
}

// DialWS opens a WebSocket to the gateway without reading anything of it;
// a refused upgrade returns its answer too (and an *api.Error). Dial is
// the usual way in.
func (c *Client) DialWS(ctx context.Context, opts DialOptions) (*Conn, *http.Response, error) {
	h := http.Header{}
	for k, v := range opts.Header {
		h[k] = v
	}
	if opts.Origin != "" {
		h.Set("Origin", opts.Origin)
	}
	if !opts.NoCredentials {
		c.authorize(h)
	}
	d := opts.Dialer
	if d == nil {
		d = websocket.DefaultDialer
	}
	ws, resp, err := d.DialContext(ctx, c.wsURL(), h)
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, resp, errorKeepingBody(resp)
		}
		return nil, resp, fmt.Errorf("websocket: %w", err)
	}
	return &Conn{ws: ws}, resp, nil
}

// Dial opens a WebSocket to the gateway and reads its hello.
func (c *Client) Dial(ctx context.Context, opts DialOptions) (*Conn, *Message, error) {
	conn, _, err := c.DialWS(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	hello, err := conn.Read(writeTimeout)
	if err == nil && hello.Type != api.TypeHello {
		err = fmt.Errorf("websocket: first message %q, want hello", hello.Type)
	}
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, &hello, nil
}

// wsURL is the WebSocket's URL: the base URL's scheme made ws or wss.
func (c *Client) wsURL() string {
	base := strings.TrimRight(c.BaseURL, "/")
	switch {
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	}
	return base + "/v1/ws"
}

// Send writes v (one of the api package's client messages) as a text
// message.
func (c *Conn) Send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("websocket: encode: %w", err)
	}
	return c.SendRaw(b)
}

// SendRaw writes b as a text message as it is.
func (c *Conn) SendRaw(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(writeTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, b); err != nil {
		return fmt.Errorf("websocket: send: %w", err)
	}
	return nil
}

// Subscribe follows job from after its sequence after (0: from its
// start); results false follows its progress only.
func (c *Conn) Subscribe(job string, after uint64, results bool) error {
	sub := api.Subscribe{Type: api.TypeSubscribe, Job: job, After: ptr(int64(after))}
	if !results {
		sub.Results = ptr(false)
	}
	return c.Send(sub)
}

// Read returns the next message, heartbeats included, waiting at most
// timeout (0: without a deadline). A closed connection is a
// *websocket.CloseError.
func (c *Conn) Read(timeout time.Duration) (Message, error) {
	var dl time.Time
	if timeout > 0 {
		dl = time.Now().Add(timeout)
	}
	_ = c.ws.SetReadDeadline(dl)
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return Message{}, err
	}
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return Message{}, fmt.Errorf("websocket: message %.200q: %w", b, err)
	}
	m.Raw = b
	return m, nil
}

// Close closes the connection (without a close handshake).
func (c *Conn) Close() error { return c.ws.Close() }

// WebSocket is the underlying connection, for what the protocol's
// messages do not cover (close codes, raw frames).
func (c *Conn) WebSocket() *websocket.Conn { return c.ws }

func ptr[T any](v T) *T { return &v }
