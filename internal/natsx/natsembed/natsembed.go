// Package natsembed runs a NATS server with JetStream in the process (the
// standalone system, tests). It is apart from natsx so that the gateway
// and the worker, which only connect to NATS, do not link the server.
package natsembed

import (
	"fmt"
	"time"

	"batchinfer/internal/natsx"

	"github.com/nats-io/nats-server/v2/server"
)

// Run starts an embedded NATS server with JetStream and waits until
// it accepts connections. Shut it down with Shutdown and WaitForShutdown.
func Run(cfg natsx.EmbeddedConfig) (*server.Server, error) {
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
