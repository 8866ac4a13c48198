// Package modelflags loads the models a worker serves, from settings shared
// by the worker commands and standalone: the models directory, which models,
// warm-up, and the LiteRT runtime (which every worker links). TensorFlow's
// settings and runtime are package tfflags', so that a command that does
// not link TensorFlow (worker-lite) can use this one.
package modelflags

import (
	"fmt"
	"time"

	"batchinfer/internal/config"
	"batchinfer/model"
	"batchinfer/model/litert"
	"batchinfer/model/loader"
	"batchinfer/worker"

	"github.com/rs/zerolog"
)

// Flags are the model-loading settings.
type Flags struct {
	Dir          string
	Only         []string
	WarmupRounds int
	LiteThreads  int
	// Registry: serve the versions pushed to the model registry too,
	// unpacked in RegistryDir while they load.
	Registry    bool
	RegistryDir string
}

// Register adds the settings to s.
func (f *Flags) Register(s *config.Set) {
	s.String(&f.Dir, "models-dir", "WORKER_MODELS_DIR", "model/models", "directory of NAME/VERSION/ model versions: a SavedModel (saved_model.pb) and/or model.tflite, metadata.json optional")
	s.List(&f.Only, "serve", "WORKER_MODELS", nil, "serve only these models (name or name:version); benchmark-only models must be named")
	s.Int(&f.WarmupRounds, "warmup-rounds", "WORKER_WARMUP_ROUNDS", model.DefaultWarmupRounds, "rounds of synthetic batches (of 1, max-sync-batch and max-batch items) each model runs at load, before the worker reports ready (0: none)")
	s.Int(&f.LiteThreads, "litert-threads", "LITERT_THREADS", 1, "LiteRT CPU (XNNPACK) threads per TFLite model (0: LiteRT chooses); 1, as TensorFlow's default: scale with workers")
	s.Bool(&f.Registry, "registry", "WORKER_REGISTRY", true, "also serve the model versions pushed to the registry (PUT /v1/models/{name}/versions/{v}), loaded and unloaded while the worker runs, and check pushed versions")
	s.String(&f.RegistryDir, "registry-dir", "WORKER_REGISTRY_DIR", "", "where a pushed version is unpacked while it loads or is checked, then removed (default: the system's temporary directory); it must hold the largest version unpacked (and its zip archive)")
}

// Options are the worker options the settings give: the registry source,
// with the same runtimes (then LiteRT), warm-up and selection as the
// models directory, when the registry is on.
func (f *Flags) Options(warmupBatches []int, runtimes ...loader.Runtime) []worker.Option {
	if !f.Registry {
		return nil
	}
	return []worker.Option{worker.WithRegistry(worker.RegistrySource{
		Runtimes: append(runtimes, f.LiteRT()), Only: f.Only, Dir: f.RegistryDir,
		Warmup: model.Warmup{Rounds: f.WarmupRounds, Batches: warmupBatches},
	})}
}

// LiteRT is the runtime of TFLite models (model.tflite).
func (f *Flags) LiteRT() loader.Runtime {
	return loader.Runtime{Name: "litert", File: model.TFLiteFile, Load: func(dir string) (loader.Model, error) {
		return litert.Load(dir, litert.Options{Threads: f.LiteThreads})
	}}
}

// Load loads the models, each with the first of runtimes (then LiteRT) that
// its files call for, and warms each up with batches of the sizes given;
// close the registry when done.
func (f *Flags) Load(warmupBatches []int, runtimes ...loader.Runtime) (*loader.Registry, []worker.Predictor, error) {
	if f.WarmupRounds < 0 || f.LiteThreads < 0 {
		return nil, nil, fmt.Errorf("%w: warmup-rounds and litert-threads must not be negative", config.ErrInvalid)
	}
	reg, err := loader.LoadDir(f.Dir, append(runtimes, f.LiteRT()), loader.Options{
		Only:   f.Only,
		Warmup: model.Warmup{Rounds: f.WarmupRounds, Batches: warmupBatches},
	})
	if err != nil {
		return nil, nil, err
	}
	var ps []worker.Predictor
	for _, m := range reg.Models() {
		ps = append(ps, m.Model)
	}
	return reg, ps, nil
}

// WarmupBatches are the batch sizes a worker with cfg runs: one item, its
// largest synchronous batch and its largest batch.
func WarmupBatches(cfg worker.Config) []int {
	return []int{1, cfg.MaxSyncBatch, cfg.MaxBatch}
}

// LogLoaded logs each loaded version with its runtime, then the total.
func LogLoaded(log zerolog.Logger, reg *loader.Registry, took time.Duration) {
	for _, m := range reg.Models() {
		log.Info().Str("model", m.Meta().ID()).Str("runtime", m.Runtime).Str("dir", m.Dir).Msg("model loaded")
	}
	log.Info().Int("models", len(reg.Models())).Dur("took", took).Msg("models loaded and warmed up")
}
