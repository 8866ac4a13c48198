package natsx

import (
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// EmbeddedConfig configures an in-process NATS server with JetStream.
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

// RunEmbedded starts an embedded NATS server with JetStream and waits until
// it accepts connections. Shut it down with Shutdown and WaitForShutdown.
func RunEmbedded(cfg EmbeddedConfig) (*server.Server, error) {
	opts := &server.Options{
		ServerName:    "embedded",
		Host:          cfg.Host,
		Port:          cfg.Port,
		JetStream:     true,
		StoreDir:      cfg.StoreDir,
		NoSigs:        true,
		NoLog:         true,
		MaxPayload:    cfg.MaxPayload,
		Username:      cfg.User,
		Password:      cfg.Password,
		Authorization: cfg.Token,
	}
	if cfg.MaxStore > 0 {
		opts.JetStreamMaxStore = cfg.MaxStore // memory stays dynamic
	}
	if opts.Host == "" {
		opts.Host = "127.0.0.1"
	}
	if opts.Port == 0 {
		opts.Port = server.RANDOM_PORT
	}
	if opts.MaxPayload == 0 {
		opts.MaxPayload = 8 << 20
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready after 10s")
	}
	return s, nil
}
