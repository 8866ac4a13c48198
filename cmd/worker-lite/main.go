// Command worker-lite runs TFLite models (model.tflite) for the queue on
// LiteRT, and links no TensorFlow: a small image for CPU inference. It
// serves the same queues as the worker; model versions without a TFLite
// model are left to TensorFlow workers.
//
//	worker-lite [flags]          run the service (see -h)
//	worker-lite healthcheck      exit 0 if the worker at -health-addr / WORKER_HEALTH_ADDR is ready
//	worker-lite check-model DIR  check a pushed TFLite model version (what a worker runs, in a process of its own)
package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"batchinfer/cmd/internal/modelflags"
	"batchinfer/cmd/internal/settings"
	"batchinfer/internal/config"
	"batchinfer/internal/runx"
	"batchinfer/model/loader"
	"batchinfer/worker"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { runx.Main("worker-lite", run) }

func run(args []string) error {
	if check, rest := runx.Subcommand(args, modelflags.CheckModelCommand); check {
		return modelflags.CheckModel("worker-lite", rest, nil, func() []loader.Runtime { return nil })
	}
	healthcheck, args := runx.Subcommand(args, "healthcheck")
	log := config.Logger("worker-lite")
	var cfg worker.Config
	var mf modelflags.Flags
	var proc settings.Process
	s := config.New("worker-lite")
	settings.Worker(s, &cfg, &proc)
	mf.Register(s)
	if err := s.Parse(args); err != nil {
		return err
	}
	if healthcheck {
		return runx.HealthcheckAt(cfg.HealthAddr, "/ready")
	}
	cfg.Version = version
	runx.DefaultGOGC(worker.GOGC) // unless GOGC is in the environment
	s.Log(log.Info()).Str("version", version).Msg("starting")
	stopPprof, err := runx.Pprof(proc.Pprof, false, log)
	if err != nil {
		return err
	}
	defer stopPprof()

	loadStart := time.Now()
	reg, models, err := mf.Load(modelflags.WarmupBatches(cfg))
	if err != nil {
		return err
	}
	defer reg.Close()
	modelflags.LogLoaded(log, reg, time.Since(loadStart))
	opts, err := mf.Options(modelflags.WarmupBatches(cfg))
	if err != nil {
		return err
	}
	w, err := worker.New(cfg, models, log, opts...)
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
