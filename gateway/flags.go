package gateway

import "batchinfer/internal/config"

// Flags registers the gateway's settings on s.
func (c *Config) Flags(s *config.Set) {
	s.String(&c.Addr, "addr", "GATEWAY_ADDR", ":8000", "HTTP listen address")
	s.Int64(&c.MaxBodyBytes, "max-body-bytes", "GATEWAY_MAX_BODY_BYTES", 64<<20, "largest batch submission body")
	s.Int(&c.MaxItems, "max-items", "GATEWAY_MAX_ITEMS", 100_000, "most items in one batch job")
	s.Int(&c.MaxSyncItems, "max-sync-items", "GATEWAY_MAX_SYNC_ITEMS", 64, "most items in one synchronous prediction")
	s.Int64(&c.MaxSyncBodyBytes, "max-sync-body-bytes", "GATEWAY_MAX_SYNC_BODY_BYTES", 8<<20, "largest synchronous prediction body")
	s.Int(&c.MaxImageBytes, "max-image-bytes", "GATEWAY_MAX_IMAGE_BYTES", 1<<20, "largest encoded input image")
	s.Int(&c.MaxChunkBytes, "max-chunk-bytes", "GATEWAY_MAX_CHUNK_BYTES", 768<<10, "largest queued chunk (keep under NATS max_payload)")
	s.Int(&c.DefaultChunkSize, "chunk-size", "GATEWAY_CHUNK_SIZE", 256, "items per chunk for models whose metadata sets none")
	s.Duration(&c.SyncTimeout, "sync-timeout", "GATEWAY_SYNC_TIMEOUT", c.withDefaults().SyncTimeout, "default and maximum wait of a synchronous prediction")
	s.List(&c.AllowedOrigins, "allowed-origins", "GATEWAY_ALLOWED_ORIGINS", nil, "extra browser origins allowed on the WebSocket (same-origin always is; * for any)")
	s.Int(&c.MaxWSConnections, "max-ws-connections", "GATEWAY_MAX_WS_CONNECTIONS", 1000, "most concurrent WebSocket connections")
	s.Int64(&c.MaxWSMessageBytes, "max-ws-message-bytes", "GATEWAY_MAX_WS_MESSAGE_BYTES", 4<<20, "largest inbound WebSocket message")
	s.Int(&c.MaxWSSubscriptions, "max-ws-subscriptions", "GATEWAY_MAX_WS_SUBSCRIPTIONS", 64, "most jobs one WebSocket follows")
	s.Int(&c.WSSendBuffer, "ws-send-buffer", "GATEWAY_WS_SEND_BUFFER", 1024, "outbound messages buffered per WebSocket before it is closed as slow")
	s.Duration(&c.SlowConsumerTimeout, "slow-consumer-timeout", "GATEWAY_SLOW_CONSUMER_TIMEOUT", c.withDefaults().SlowConsumerTimeout, "how long a WebSocket's send buffer may stay full before it is closed (4008)")
	s.Duration(&c.HeartbeatInterval, "heartbeat", "GATEWAY_HEARTBEAT", c.withDefaults().HeartbeatInterval, "WebSocket heartbeat period")
	s.Duration(&c.ProgressInterval, "progress-interval", "GATEWAY_PROGRESS_INTERVAL", c.withDefaults().ProgressInterval, "least time between progress events per job")
	s.String(&c.UIDir, "ui-dir", "GATEWAY_UI_DIR", "", "serve the built web UI from this directory")
}
