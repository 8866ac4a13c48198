package gateway

import (
	"time"

	"batchinfer/internal/natsx"
)

// Config configures a Gateway. Zero values take the defaults below.
type Config struct {
	// Addr is the listen address, e.g. ":8000" or "127.0.0.1:0".
	Addr    string
	NATS    natsx.ConnConfig
	Streams natsx.StreamConfig
	// Version is reported in hello messages and /health.
	Version string

	// MaxBodyBytes bounds a batch submission body.
	MaxBodyBytes int64
	// MaxItems bounds the items of one batch job.
	MaxItems int
	// MaxSyncItems bounds the items of a synchronous prediction.
	MaxSyncItems int
	// MaxSyncBodyBytes bounds a synchronous prediction body.
	MaxSyncBodyBytes int64
	// MaxImageBytes bounds one encoded input image.
	MaxImageBytes int
	// MaxChunkBytes bounds the payload of one queued chunk (keep it under the
	// NATS server's max_payload).
	MaxChunkBytes int
	// DefaultChunkSize is used for models whose metadata sets no chunk_size.
	DefaultChunkSize int
	// SyncTimeout is the default and the maximum wait of a synchronous prediction.
	SyncTimeout time.Duration
	// MaxJobsListed bounds GET /v1/jobs.
	MaxJobsListed int

	// AllowedOrigins lists the browser origins allowed on the WebSocket
	// ("*" allows any). Same-origin requests are always allowed.
	AllowedOrigins []string
	// MaxWSConnections bounds concurrent WebSocket connections.
	MaxWSConnections int
	// MaxWSMessageBytes bounds one inbound WebSocket message.
	MaxWSMessageBytes int64
	// MaxWSSubscriptions bounds the jobs one connection follows at once.
	MaxWSSubscriptions int
	// WSSendBuffer is the number of outbound messages buffered per connection
	// before it is closed as a slow consumer.
	WSSendBuffer int
	// SlowConsumerTimeout is how long a full send buffer may stay full.
	SlowConsumerTimeout time.Duration
	// HeartbeatInterval is the WebSocket heartbeat period.
	HeartbeatInterval time.Duration
	// ProgressInterval throttles progress events per job and connection.
	ProgressInterval time.Duration

	// UIDir, when set, is served at / with a single-page-app fallback.
	UIDir string
}

func (c Config) withDefaults() Config {
	setDefault(&c.Addr, ":8000")
	setDefault(&c.Version, "dev")
	setDefault(&c.MaxBodyBytes, 64<<20)
	setDefault(&c.MaxItems, 100_000)
	setDefault(&c.MaxSyncItems, 64)
	setDefault(&c.MaxSyncBodyBytes, 8<<20)
	setDefault(&c.MaxImageBytes, 1<<20)
	setDefault(&c.MaxChunkBytes, 768<<10)
	setDefault(&c.DefaultChunkSize, 256)
	setDefault(&c.SyncTimeout, 10*time.Second)
	setDefault(&c.MaxJobsListed, 100)
	setDefault(&c.MaxWSConnections, 1000)
	setDefault(&c.MaxWSMessageBytes, 4<<20)
	setDefault(&c.MaxWSSubscriptions, 64)
	setDefault(&c.WSSendBuffer, 1024)
	setDefault(&c.SlowConsumerTimeout, 10*time.Second)
	setDefault(&c.HeartbeatInterval, 15*time.Second)
	setDefault(&c.ProgressInterval, 200*time.Millisecond)
	return c
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}
