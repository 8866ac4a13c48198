package natsx

// EmbeddedConfig configures an in-process NATS server with JetStream
// (natsembed.Run starts one: apart, so that the services that only connect
// to NATS do not link the server).
type EmbeddedConfig struct {
	Host     string // default 127.0.0.1
	Port     int    // 0 = random free port (server.RANDOM_PORT)
	StoreDir string // JetStream file store
	User     string
	Password string
	Token    string
	// MaxPayload is the largest message the server accepts (default 8 MiB).
	MaxPayload int32
	// MaxStore is JetStream's max_file_store (0: three quarters of the
	// disk's free space when the server starts, nats-server's default).
	MaxStore int64
}
