// Package modelflags loads the models a worker serves, from settings shared
// by the worker commands and standalone: the models directory, which models,
// warm-up, and the LiteRT runtime (which every worker links). TensorFlow's
// settings and runtime are package tfflags', so that a command that does
// not link TensorFlow (worker-lite) can use this one.
package modelflags

import (
	"fmt"
	"os"
	"strconv"
	"strings"
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
// models directory, when the registry is on. Pushed versions are checked
// by the command itself, run again with the check-model subcommand
// (CheckModel): a model file that crashes its runtime crashes that
// process, not the worker.
func (f *Flags) Options(warmupBatches []int, runtimes ...loader.Runtime) ([]worker.Option, error) {
	if !f.Registry {
		return nil, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("registry: the command's own path, to check pushed models with: %w", err)
	}
	batches := make([]string, len(warmupBatches))
	for i, n := range warmupBatches {
		batches[i] = strconv.Itoa(n)
	}
	argv := []string{exe, CheckModelCommand, "-warmup-rounds", strconv.Itoa(f.WarmupRounds),
		"-warmup-batches", strings.Join(batches, ","), "-litert-threads", strconv.Itoa(f.LiteThreads)}
	return []worker.Option{worker.WithRegistry(worker.RegistrySource{
		Runtimes: append(runtimes, f.LiteRT()), Only: f.Only, Dir: f.RegistryDir,
		Warmup: model.Warmup{Rounds: f.WarmupRounds, Batches: warmupBatches},
		Check:  worker.SubprocessChecker(argv, nil),
	})}, nil
}

// CheckModelCommand is the worker commands' subcommand that checks a
// pushed model version in a process of its own.
const CheckModelCommand = "check-model"

// CheckModel runs the check-model subcommand of command name: args are
// settings (those of Register and of more, and -warmup-batches) then the
// version's directory; it checks the version with runtimes (then LiteRT)
// and writes the outcome to stdout (worker.RunCheck).
func CheckModel(name string, args []string, more func(*config.Set), runtimes func() []loader.Runtime) error {
	var f Flags
	var batches []string
	s := config.New(name + " " + CheckModelCommand)
	f.Register(s)
	if more != nil {
		more(s)
	}
	s.List(&batches, "warmup-batches", "", []string{"1"}, "batch sizes of the warm-up")
	if err := s.Parse(args); err != nil {
		return err
	}
	if len(s.Args()) != 1 {
		return fmt.Errorf("%w: usage: %s %s [settings] DIR", config.ErrInvalid, name, CheckModelCommand)
	}
	warmup := model.Warmup{Rounds: f.WarmupRounds}
	for _, b := range batches {
		n, err := strconv.Atoi(b)
		if err != nil || n <= 0 {
			return fmt.Errorf("%w: -warmup-batches %q: want positive integers", config.ErrInvalid, b)
		}
		warmup.Batches = append(warmup.Batches, n)
	}
	return worker.RunCheck(os.Stdout, s.Args()[0], append(runtimes(), f.LiteRT()), warmup)
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
