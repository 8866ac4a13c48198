// Command standalone runs the whole system in one process: an embedded NATS
// JetStream server, the gateway (API and web UI on :8000) and workers. It
// needs no Docker; `make run` starts it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"batchinfer/cmd/internal/modelflags"
	"batchinfer/gateway"
	"batchinfer/internal/config"
	"batchinfer/internal/natsx"
	"batchinfer/internal/runx"
	"batchinfer/worker"
)

var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "standalone:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	log := config.Logger("standalone")
	var (
		gcfg     gateway.Config
		wcfg     worker.Config
		mf       modelflags.Flags
		ecfg     natsx.EmbeddedConfig
		workers  int
		shutdown time.Duration
	)
	s := config.New("standalone")
	gcfg.Flags(s)
	wcfg.Flags(s)
	mf.Register(s)
	s.Streams(&gcfg.Streams)
	s.String(&ecfg.StoreDir, "data-dir", "DATA_DIR", "data/nats", "JetStream store of the embedded NATS server")
	s.Int(&ecfg.Port, "nats-port", "NATS_PORT", 4222, "port of the embedded NATS server (-1: random)")
	s.String(&ecfg.User, "nats-user", "NATS_USER", "", "require this NATS user")
	s.Secret(&ecfg.Password, "nats-password", "NATS_PASSWORD", "NATS password")
	s.Int(&workers, "workers", "WORKERS", 1, "in-process workers")
	s.Duration(&shutdown, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 20*time.Second, "deadline of a graceful shutdown")
	if err := s.Parse(args); err != nil {
		return err
	}
	if gcfg.UIDir == "" {
		if st, err := os.Stat(filepath.Join("frontend", "dist", "index.html")); err == nil && !st.IsDir() {
			gcfg.UIDir = filepath.Join("frontend", "dist")
		}
	}
	wcfg.HealthAddr = "" // the gateway's /ready covers the process
	gcfg.Version, wcfg.Version = version, version
	s.Log(log.Info()).Str("version", version).Msg("starting")

	ns, err := natsx.RunEmbedded(ecfg)
	if err != nil {
		return err
	}
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	conn := natsx.ConnConfig{URL: ns.ClientURL(), User: ecfg.User, Password: ecfg.Password}
	gcfg.NATS, wcfg.NATS = conn, conn
	wcfg.Streams = gcfg.Streams

	reg, models, err := mf.Load()
	if err != nil {
		return err
	}
	defer reg.Close()

	ctx := context.Background()
	var ws []*worker.Worker
	for i := 0; i < workers; i++ {
		c := wcfg
		if c.ID != "" {
			c.ID = fmt.Sprintf("%s-%d", c.ID, i)
		}
		w, err := worker.New(c, models, log)
		if err != nil {
			return err
		}
		if err := w.Start(ctx); err != nil {
			return err
		}
		ws = append(ws, w)
	}
	g, err := gateway.New(gcfg, log)
	if err != nil {
		return err
	}
	if err := g.Start(ctx); err != nil {
		return err
	}
	log.Info().Str("api", "http://"+g.Addr()).Str("ui", gcfg.UIDir).Str("nats", ns.ClientURL()).Msg("standalone system ready")

	sig := runx.WaitForSignal(ctx)
	log.Info().Str("signal", fmt.Sprint(sig)).Msg("shutting down")
	sctx, cancel := context.WithTimeout(ctx, shutdown)
	defer cancel()
	errs := []error{g.Stop(sctx)}
	for _, w := range ws {
		errs = append(errs, w.Stop(sctx))
	}
	return errors.Join(errs...)
}
