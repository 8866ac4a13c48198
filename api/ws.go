package api

import (
	"encoding/json"

	"batchinfer/internal/wire"
)

// WebSocket close codes beyond RFC 6455's (websocket.md).
const (
	CloseSlowConsumer  = 4008
	CloseTooManyErrors = 4009
	// CloseUnauthorized: missing or invalid credentials, or none in time.
	CloseUnauthorized = 4401
	// CloseQuotaExceeded: the tenant has as many connections as allowed.
	CloseQuotaExceeded = 4429
)

// Message types, the "type" field of every WebSocket message.
const (
	TypeSubscribe     = "subscribe"
	TypeUnsubscribe   = "unsubscribe"
	TypeSubmit        = "submit"
	TypePredict       = "predict"
	TypePing          = "ping"
	TypeAuth          = "auth"
	TypeHello         = "hello"
	TypeAuthenticated = "authenticated"
	TypeSubscribed    = "subscribed"
	TypeUnsubscribed  = "unsubscribed"
	TypeResults       = "results"
	TypeProgress      = "progress"
	TypeEnd           = "end"
	TypeAccepted      = "accepted"
	TypePrediction    = "prediction"
	TypeError         = "error"
	TypeHeartbeat     = "heartbeat"
	TypePong          = "pong"
)

// Client → server messages. Fields a client sends that a type does not
// know are ignored.

// Subscribe starts following a job from the cursor After.
type Subscribe struct {
	Type  string `json:"type"`
	Job   string `json:"job"`
	After *int64 `json:"after,omitempty"`
	// Results false follows progress only (default true).
	Results *bool `json:"results,omitempty"`
}

// Unsubscribe stops following a job.
type Unsubscribe struct {
	Type string `json:"type"`
	Job  string `json:"job"`
}

// Submit queues a batch job.
type Submit struct {
	Type      string            `json:"type"`
	Ref       string            `json:"ref,omitempty"`
	Model     string            `json:"model"`
	Version   string            `json:"version,omitempty"`
	Name      string            `json:"name,omitempty"`
	Inputs    []json.RawMessage `json:"inputs"`
	Subscribe *bool             `json:"subscribe,omitempty"`
	Priority  string            `json:"priority,omitempty"`
	Deadline  string            `json:"deadline,omitempty"`
	Webhook   string            `json:"webhook,omitempty"`
}

// Predict asks for a synchronous prediction.
type Predict struct {
	Type    string            `json:"type"`
	Ref     string            `json:"ref,omitempty"`
	Model   string            `json:"model"`
	Version string            `json:"version,omitempty"`
	Inputs  []json.RawMessage `json:"inputs"`
}

// Auth authenticates a connection opened without credentials (a browser
// cannot set the Authorization header of a WebSocket): the first message.
type Auth struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// Ping asks for a Pong.
type Ping struct {
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"`
}

// Server → client messages.

// Hello is the first message of a connection.
type Hello struct {
	Type             string `json:"type"`
	Server           string `json:"server"`
	HeartbeatMS      int64  `json:"heartbeat_ms"`
	MaxMessageBytes  int64  `json:"max_message_bytes"`
	MaxSubscriptions int    `json:"max_subscriptions"`
	// AuthRequired says the connection must send Auth before anything else.
	AuthRequired bool `json:"auth_required"`
}

// Authenticated answers Auth: the connection now acts for the tenant.
type Authenticated struct {
	Type   string `json:"type"`
	Tenant string `json:"tenant"`
}

// Subscribed confirms a subscription; frames after it belong to it.
type Subscribed struct {
	Type    string         `json:"type"`
	Job     string         `json:"job"`
	After   uint64         `json:"after"`
	Results bool           `json:"results"`
	Status  wire.JobStatus `json:"status"`
}

// Unsubscribed confirms an unsubscribe; nothing of the job follows it.
type Unsubscribed struct {
	Type string `json:"type"`
	Job  string `json:"job"`
}

// Results is a stored chunk result with its stream sequence. The gateway
// splices it from the stored bytes rather than encoding this struct, which
// documents the shape.
type Results struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
	wire.ChunkResult
}

// Progress is a job's status when it changed.
type Progress struct {
	Type   string         `json:"type"`
	Job    string         `json:"job"`
	Status wire.JobStatus `json:"status"`
}

// End says the job is finished and every result was sent.
type End struct {
	Type    string         `json:"type"`
	Job     string         `json:"job"`
	Status  wire.JobStatus `json:"status"`
	LastSeq uint64         `json:"last_seq"`
}

// Accepted answers a submit.
type Accepted struct {
	Type string         `json:"type"`
	Ref  string         `json:"ref,omitempty"`
	Job  wire.JobStatus `json:"job"`
}

// Prediction answers a predict.
type Prediction struct {
	Type    string `json:"type"`
	Ref     string `json:"ref,omitempty"`
	Model   string `json:"model"`
	Version string `json:"version"`
	// Items is a JSON array of ItemResult (see PredictResponse).
	Items     json.RawMessage `json:"items"`
	LatencyMS float64         `json:"latency_ms"`
}

// ErrorMessage answers a message that failed, or ends a subscription.
type ErrorMessage struct {
	Type    string   `json:"type"`
	Ref     string   `json:"ref,omitempty"`
	Job     string   `json:"job,omitempty"`
	Code    Code     `json:"code"`
	Message string   `json:"message"`
	Details []Detail `json:"details,omitempty"`
	// RetryAfterMS is set on limits (busy): when to try again.
	RetryAfterMS int64 `json:"retry_after_ms,omitempty"`
}

// Heartbeat is sent every heartbeat_ms.
type Heartbeat struct {
	Type string `json:"type"`
	Time string `json:"time"`
}

// Pong answers a Ping.
type Pong struct {
	Type string `json:"type"`
	Ref  string `json:"ref,omitempty"`
}

// NewErrorMessage is the WebSocket form of err.
func NewErrorMessage(ref, job string, err *Error) ErrorMessage {
	return ErrorMessage{Type: TypeError, Ref: ref, Job: job, Code: err.Code, Message: err.Message, Details: err.Details,
		RetryAfterMS: err.RetryAfter.Milliseconds()}
}
