// Command gateway serves the HTTP and WebSocket API in front of the queue.
//
//	gateway [flags]          run the service (see -h)
//	gateway healthcheck      exit 0 if the local gateway is healthy
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"batchinfer/gateway"
	"batchinfer/internal/config"
	"batchinfer/internal/runx"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "healthcheck" {
		if err := runx.Healthcheck("http://127.0.0.1:8000/health"); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	log := config.Logger("gateway")
	var cfg gateway.Config
	var shutdown time.Duration
	s := config.New("gateway")
	cfg.Flags(s)
	s.NATS(&cfg.NATS, "nats://127.0.0.1:4222")
	s.Streams(&cfg.Streams)
	s.Duration(&shutdown, "shutdown-timeout", "SHUTDOWN_TIMEOUT", 20*time.Second, "deadline of a graceful shutdown")
	if err := s.Parse(args); err != nil {
		return err
	}
	cfg.Version = version
	s.Log(log.Info()).Str("version", version).Msg("starting")

	g, err := gateway.New(cfg, log)
	if err != nil {
		return err
	}
	if err := g.Start(context.Background()); err != nil {
		return err
	}
	sig := runx.WaitForSignal(context.Background())
	log.Info().Str("signal", fmt.Sprint(sig)).Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), shutdown)
	defer cancel()
	return g.Stop(ctx)
}
