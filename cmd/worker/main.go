// Command worker runs TensorFlow SavedModels for the queue.
//
//	worker [flags]          run the service (see -h)
//	worker healthcheck      exit 0 if the local worker is ready
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"batchinfer/cmd/internal/modelflags"
	"batchinfer/internal/config"
	"batchinfer/internal/runx"
	"batchinfer/worker"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		if err := runx.Healthcheck("http://127.0.0.1:8001/ready"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	log := config.Logger("worker")
	var cfg worker.Config
	var mf modelflags.Flags
	var shutdown time.Duration
	s := config.New("worker")
	cfg.Flags(s)
	s.NATS(&cfg.NATS, "nats://127.0.0.1:4222")
	s.Streams(&cfg.Streams)
	mf.Register(s)
	s.Duration(&shutdown, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 25*time.Second, "deadline of a graceful shutdown")
	if err := s.Parse(args); err != nil {
		return err
	}
	cfg.Version = version
	s.Log(log.Info()).Str("version", version).Msg("starting")

	reg, models, err := mf.Load()
	if err != nil {
		return err
	}
	defer reg.Close()
	w, err := worker.New(cfg, models, log)
	if err != nil {
		return err
	}
	if err := w.Start(context.Background()); err != nil {
		return err
	}
	sig := runx.WaitForSignal(context.Background())
	log.Info().Str("signal", fmt.Sprint(sig)).Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), shutdown)
	defer cancel()
	return w.Stop(ctx)
}
