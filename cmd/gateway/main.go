// Command gateway serves the HTTP and WebSocket API in front of the queue.
//
//	gateway [flags]          run the service (see -h)
//	gateway healthcheck      exit 0 if the gateway at -addr / GATEWAY_ADDR is healthy
//
// Invoked as batchinfer (the gateway image's /batchinfer links to it), it is
// the batchinfer command line (cmd/batchinfer): the image ships the CLI for
// the few hundred kilobytes of its own code.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"batchinfer/cmd/internal/cli"
	"batchinfer/cmd/internal/settings"
	"batchinfer/gateway"
	"batchinfer/internal/config"
	"batchinfer/internal/runx"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if filepath.Base(os.Args[0]) == "batchinfer" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, version, os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
		stop()
		os.Exit(code)
	}
	runx.Main("gateway", run)
}

func run(args []string) error {
	healthcheck, args := runx.Subcommand(args, "healthcheck")
	log := config.Logger("gateway")
	var cfg gateway.Config
	var proc settings.Process
	s := config.New("gateway")
	settings.Gateway(s, &cfg, &proc)
	if err := s.Parse(args); err != nil {
		return err
	}
	if healthcheck {
		return runx.HealthcheckAt(cfg.Addr, "/health")
	}
	cfg.Version = version
	s.Log(log.Info()).Str("version", version).Msg("starting")
	stopPprof, err := runx.Pprof(proc.Pprof, true, log)
	if err != nil {
		return err
	}
	defer stopPprof()

	g, err := gateway.New(cfg, log)
	if err != nil {
		return err
	}
	if err := g.Start(context.Background()); err != nil {
		return err
	}
	runx.OnHangup(context.Background(), func() {
		if err := g.ReloadKeys(); err != nil {
			log.Error().Err(err).Msg("settings files reloaded with errors: what could not be read keeps its previous settings")
		}
	})
	sig, failed := runx.Wait(context.Background(), g.Err())
	log.Info().Str("signal", fmt.Sprint(sig)).AnErr("failure", failed).Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), proc.Shutdown)
	defer cancel()
	return errors.Join(failed, g.Stop(ctx))
}
