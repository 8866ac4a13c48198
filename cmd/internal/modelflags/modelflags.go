// Package modelflags loads the models a worker serves, from settings shared
// by the worker and standalone commands.
package modelflags

import (
	"runtime"

	"batchinfer/internal/config"
	"batchinfer/model/tfmodel"
	"batchinfer/worker"
)

// Flags are the model-loading settings.
type Flags struct {
	Dir   string
	Only  []string
	Intra int
	Inter int
}

// Register adds the settings to s.
func (f *Flags) Register(s *config.Set) {
	s.String(&f.Dir, "models-dir", "WORKER_MODELS_DIR", "model/models", "directory of NAME/VERSION/ SavedModels with metadata.json")
	s.List(&f.Only, "serve", "WORKER_MODELS", nil, "serve only these models (name or name:version); benchmark-only models must be named")
	s.Int(&f.Intra, "intra-op-threads", "TF_INTRA_OP_THREADS", 1, "TensorFlow intra-op threads (0: GOMAXPROCS, which follows the container's CPU limit); 1 measured best on 2 vCPUs for every model here (docs/benchmarks.md): scale with workers")
	s.Int(&f.Inter, "inter-op-threads", "TF_INTER_OP_THREADS", 1, "TensorFlow inter-op threads")
}

// Load loads the models; close the registry when done.
func (f *Flags) Load() (*tfmodel.Registry, []worker.Predictor, error) {
	intra := f.Intra
	if intra <= 0 {
		intra = runtime.GOMAXPROCS(0)
	}
	reg, err := tfmodel.LoadDir(f.Dir, tfmodel.Options{IntraOpThreads: intra, InterOpThreads: f.Inter}, f.Only...)
	if err != nil {
		return nil, nil, err
	}
	var ps []worker.Predictor
	for _, m := range reg.Models() {
		ps = append(ps, m)
	}
	return reg, ps, nil
}
