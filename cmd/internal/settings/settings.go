// Package settings registers each command's settings (flags and
// environment variables) in one place, for the command itself and for the
// README's tables, which a test keeps in step with them. It must not
// import TensorFlow (package modelflags): the gateway is built without
// cgo; the commands that load models register modelflags themselves.
package settings

import (
	"time"

	"batchinfer/gateway"
	"batchinfer/internal/config"
	"batchinfer/internal/natsx"
	"batchinfer/worker"
)

// Process are the settings of a command's process rather than of its
// service.
type Process struct {
	// Shutdown is the deadline of a graceful shutdown.
	Shutdown time.Duration
	// Pprof, when set, serves Go's net/http/pprof there (runx.Pprof).
	Pprof string
}

func (p *Process) register(s *config.Set, shutdown time.Duration) {
	s.Duration(&p.Shutdown, "shutdown-timeout", "SHUTDOWN_TIMEOUT", shutdown, "deadline of a graceful shutdown")
	s.String(&p.Pprof, "pprof-addr", "PPROF_ADDR", "", "serve Go's /debug/pprof/ profiles on this address (e.g. 127.0.0.1:6060; keep it private; processes running TensorFlow leave out the CPU profile)")
}

// Gateway registers the gateway command's settings.
func Gateway(s *config.Set, cfg *gateway.Config, p *Process) {
	cfg.Flags(s)
	s.NATS(&cfg.NATS, "nats://127.0.0.1:4222")
	s.Streams(&cfg.Streams)
	cfg.Tracing.Flags(s, "batchinfer-gateway")
	p.register(s, 20*time.Second)
}

// Worker registers the worker command's settings but the model loading
// ones (modelflags.Flags.Register).
func Worker(s *config.Set, cfg *worker.Config, p *Process) {
	cfg.Flags(s)
	s.NATS(&cfg.NATS, "nats://127.0.0.1:4222")
	s.Streams(&cfg.Streams)
	cfg.Tracing.Flags(s, "batchinfer-worker")
	p.register(s, 25*time.Second)
}

// Standalone are the settings of the standalone command.
type Standalone struct {
	Gateway gateway.Config
	Worker  worker.Config
	NATS    natsx.EmbeddedConfig
	Workers int
	Process Process
}

// Register registers the standalone command's settings: the gateway's and
// the worker's, and its own (the embedded NATS server, in-process workers);
// the model loading ones are modelflags'.
func (st *Standalone) Register(s *config.Set) {
	st.Gateway.Flags(s)
	st.Worker.Flags(s)
	s.Streams(&st.Gateway.Streams)
	st.Gateway.Tracing.Flags(s, "batchinfer") // the workers' too (the command copies it)
	st.Own(s)
}

// Own registers the settings only the standalone command has.
func (st *Standalone) Own(s *config.Set) {
	s.String(&st.NATS.StoreDir, "data-dir", "DATA_DIR", "data/nats", "JetStream store of the embedded NATS server")
	s.Int(&st.NATS.Port, "nats-port", "NATS_PORT", 4222, "port of the embedded NATS server (-1: random)")
	s.String(&st.NATS.User, "nats-user", "NATS_USER", "", "require this NATS user")
	s.Secret(&st.NATS.Password, "nats-password", "NATS_PASSWORD", "NATS password")
	s.Int(&st.Workers, "workers", "WORKERS", 1, "in-process workers")
	st.Process.register(s, 20*time.Second)
}
