// Package tfflags holds the TensorFlow runtime's settings and registers it
// for package loader: what the commands that link TensorFlow add to
// package modelflags.
package tfflags

import (
	"runtime"

	"batchinfer/internal/config"
	"batchinfer/model"
	"batchinfer/model/loader"
	"batchinfer/model/tfmodel"
)

// Flags are TensorFlow's settings.
type Flags struct {
	Intra int
	Inter int
}

// Register adds the settings to s.
func (f *Flags) Register(s *config.Set) {
	s.Int(&f.Intra, "intra-op-threads", "TF_INTRA_OP_THREADS", 1, "TensorFlow intra-op threads (0: GOMAXPROCS, which follows the container's CPU limit); 1 measured best on 2 vCPUs for every model here (docs/benchmarks.md): scale with workers")
	s.Int(&f.Inter, "inter-op-threads", "TF_INTER_OP_THREADS", -1, "TensorFlow inter-op threads (-1: every op in the thread that calls the model, no handoff to a pool; a single-item call measured 1.9 – 2.6 × the calls/s of 1 on 2 vCPUs, docs/benchmarks.md)")
}

// Options are the session options the settings give.
func (f *Flags) Options() tfmodel.Options {
	intra := f.Intra
	if intra <= 0 {
		intra = runtime.GOMAXPROCS(0)
	}
	return tfmodel.Options{IntraOpThreads: intra, InterOpThreads: f.Inter}
}

// Runtime is the runtime of SavedModels (saved_model.pb).
func (f *Flags) Runtime() loader.Runtime {
	opts := f.Options()
	return loader.Runtime{Name: "tensorflow", File: model.SavedModelFile, Load: func(dir string) (loader.Model, error) {
		return tfmodel.Load(dir, opts)
	}}
}
