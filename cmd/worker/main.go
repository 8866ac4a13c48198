// Command worker runs model versions for the queue: SavedModels on
// TensorFlow, and TFLite models (model.tflite) on LiteRT where a version has
// no SavedModel.
//
//	worker [flags]          run the service (see -h)
//	worker healthcheck      exit 0 if the worker at -health-addr / WORKER_HEALTH_ADDR is ready
//	worker check-model DIR  check a pushed model version (what a worker runs, in a process of its own)
package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"batchinfer/cmd/internal/modelflags"
	"batchinfer/cmd/internal/settings"
	"batchinfer/cmd/internal/tfflags"
	"batchinfer/internal/config"
	"batchinfer/internal/runx"
	"batchinfer/model/loader"
	"batchinfer/worker"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { runx.Main("worker", run) }

func run(args []string) error {
	if check, rest := runx.Subcommand(args, modelflags.CheckModelCommand); check {
		var tf tfflags.Flags
		return modelflags.CheckModel("worker", rest, tf.Register, func() []loader.Runtime { return []loader.Runtime{tf.Runtime()} })
	}
	healthcheck, args := runx.Subcommand(args, "healthcheck")
	log := config.Logger("worker")
	var cfg worker.Config
	var mf modelflags.Flags
	var tf tfflags.Flags
	var proc settings.Process
	s := config.New("worker")
	settings.Worker(s, &cfg, &proc)
	mf.Register(s)
	tf.Register(s)
	if err := s.Parse(args); err != nil {
		return err
	}
	if healthcheck {
		return runx.HealthcheckAt(cfg.HealthAddr, "/ready")
	}
	cfg.Version = version
	runx.DefaultGOGC(worker.GOGC) // unless GOGC is in the environment
	// TensorFlow's intra-op threads (0: all of the processors) are sized
	// before Go's own are cut to half of them.
	rt := tf.Runtime()
	procs := runx.DefaultGOMAXPROCS(worker.GoProcs) // unless GOMAXPROCS is in the environment
	s.Log(log.Info()).Str("version", version).Int("gomaxprocs", procs).Msg("starting")
	stopPprof, err := runx.Pprof(proc.Pprof, false, log)
	if err != nil {
		return err
	}
	defer stopPprof()

	loadStart := time.Now()
	reg, models, err := mf.Load(modelflags.WarmupBatches(cfg), rt)
	if err != nil {
		return err
	}
	defer reg.Close()
	modelflags.LogLoaded(log, reg, time.Since(loadStart))
	opts, err := mf.Options(modelflags.WarmupBatches(cfg), rt)
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
