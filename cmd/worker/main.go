// Command worker runs TensorFlow SavedModels for the queue.
//
//	worker [flags]          run the service (see -h)
//	worker healthcheck      exit 0 if the worker at -health-addr / WORKER_HEALTH_ADDR is ready
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"batchinfer/cmd/internal/modelflags"
	"batchinfer/cmd/internal/settings"
	"batchinfer/internal/config"
	"batchinfer/internal/runx"
	"batchinfer/worker"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	healthcheck := len(args) > 0 && args[0] == "healthcheck"
	if healthcheck {
		args = args[1:]
	}
	log := config.Logger("worker")
	var cfg worker.Config
	var mf modelflags.Flags
	var proc settings.Process
	s := config.New("worker")
	settings.Worker(s, &cfg, &proc)
	mf.Register(s)
	if err := s.Parse(args); err != nil {
		return err
	}
	if healthcheck {
		url, err := runx.HealthURL(cfg.HealthAddr, "/ready")
		if err != nil {
			return err
		}
		return runx.Healthcheck(url)
	}
	cfg.Version = version
	s.Log(log.Info()).Str("version", version).Msg("starting")
	stopPprof, err := runx.Pprof(proc.Pprof, false, log)
	if err != nil {
		return err
	}
	defer stopPprof()

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
	sig, failed := runx.Wait(context.Background(), w.Err())
	log.Info().Str("signal", fmt.Sprint(sig)).AnErr("failure", failed).Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), proc.Shutdown)
	defer cancel()
	return errors.Join(failed, w.Stop(ctx))
}
