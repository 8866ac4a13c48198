// Package litert runs TFLite models in process with LiteRT's C API
// (libLiteRt.so), through its CompiledModel API on the CPU accelerator.
//
// Load reads a model version: a directory holding model.tflite (and, if it
// likes, metadata.json; see model.Complete) or a .tflite file, whose
// directory may hold metadata.json. Predict runs one batch; the input
// tensor's batch dimension is resized to each batch's size.
//
// The package uses cgo and needs libLiteRt.so at build and run time:
// eval "$(scripts/litert-env.sh)" sets CGO_LDFLAGS and LD_LIBRARY_PATH. The C
// declarations it uses are in litert_c.h, from LiteRT's published headers
// of the pinned version.
package litert

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"batchinfer/model"
)

// ErrClosed is returned by Predict after Close.
var ErrClosed = errors.New("model is closed")

// Options configures the compiled models Load makes.
type Options struct {
	// Threads is the number of threads the CPU accelerator (XNNPACK) uses
	// per model; 0 lets LiteRT choose.
	Threads int
}

// Model is one loaded TFLite model version. It is safe for concurrent use:
// a compiled model runs one batch at a time, so concurrent Predict calls
// take turns.
type Model struct {
	meta *model.Metadata
	path string

	mu       sync.Mutex
	closed   bool
	env      C.LiteRtEnvironment
	lm       C.LiteRtModel
	cm       C.LiteRtCompiledModel
	sig      *signature
	inIndex  C.LiteRtParamIndex // the input's index in the signature
	outIndex int                // the output's index in the signature
	elemType C.LiteRtElementType
	itemSize int
	outSize  int
	bufs     *buffers // for the batch size the model is resized to; nil before the first batch
}

// ModelFile returns the TFLite file of the version at path (a directory
// holding model.tflite, or a .tflite file) and the version's directory.
func ModelFile(path string) (file, dir string, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", "", fmt.Errorf("TFLite model: %w", err)
	}
	if fi.IsDir() {
		return filepath.Join(path, model.TFLiteFile), path, nil
	}
	if !strings.HasSuffix(path, model.TFLiteExt) {
		return "", "", fmt.Errorf("TFLite model %s: not a directory or a %s file", path, model.TFLiteExt)
	}
	return path, filepath.Dir(path), nil
}

// Load loads the TFLite model version at path (see ModelFile): it reads
// metadata.json beside it if there is one, completes it from the model's
// signature (the one the metadata names, or serving_default; see
// model.Complete), compiles the model for the CPU and runs one prediction
// (an item of zeros) to check that it runs. A signature that does not match
// the metadata is refused with an error that matches
// model.ErrSignatureMismatch (errors.Is) and says which field differs; a
// model whose ops this runtime lacks is refused naming them.
func Load(path string, opts Options) (*Model, error) {
	file, dir, err := ModelFile(path)
	if err != nil {
		return nil, err
	}
	given, err := model.ReadMetadataFile(dir)
	if err != nil {
		return nil, fmt.Errorf("load model in %q: %w", dir, err)
	}
	m, err := load(file, dir, given, opts)
	if err != nil {
		return nil, fmt.Errorf("load model %q: %w", model.DirID(given, dir), err)
	}
	return m, nil
}

func load(file, dir string, given *model.Metadata, opts Options) (_ *Model, err error) {
	if opts.Threads < 0 {
		return nil, fmt.Errorf("threads %d must not be negative", opts.Threads)
	}
	if _, err := os.Stat(file); err != nil {
		return nil, fmt.Errorf("read TFLite model: %w", err)
	}
	if err := checkFile(file); err != nil {
		return nil, err
	}
	m := &Model{path: file}
	defer func() {
		if err != nil {
			m.release()
		}
	}()
	if err := check("LiteRtCreateEnvironment", C.litert_create_cpu_env(&m.env)); err != nil {
		return nil, err
	}
	cfile := C.CString(file)
	defer C.free(unsafe.Pointer(cfile))
	if err := check("LiteRtCreateModelFromFile", C.LiteRtCreateModelFromFile(m.env, cfile, &m.lm)); err != nil {
		return nil, fmt.Errorf("read TFLite model %s (not a valid .tflite file?): %w", file, err)
	}
	if m.sig, err = findSignature(m.lm, given.SignatureName()); err != nil {
		return nil, err
	}
	if m.meta, err = model.Complete(given, &m.sig.spec, dir); err != nil {
		return nil, err
	}
	if err := m.compile(opts); err != nil {
		return nil, err
	}
	// One prediction finds what compiling does not: LiteRT prepares the
	// ops (and finds those it lacks) when the input is first sized.
	if _, err := m.predict(make([]float32, m.itemSize), 1); err != nil {
		if ops := m.sig.unsupportedOps(); ops != "" {
			return nil, fmt.Errorf("%s: %w", ops, err)
		}
		return nil, fmt.Errorf("check prediction: %w", err)
	}
	return m, nil
}

// compile compiles the model for the CPU accelerator and finds the
// metadata's input and output in the signature.
func (m *Model) compile(opts Options) error {
	var o C.LiteRtOptions
	if err := check("LiteRtCreateOptions", C.LiteRtCreateOptions(&o)); err != nil {
		return err
	}
	defer C.LiteRtDestroyOptions(o)
	if err := check("LiteRtSetOptionsHardwareAccelerators", C.LiteRtSetOptionsHardwareAccelerators(o, C.kLiteRtHwAcceleratorCpu)); err != nil {
		return err
	}
	if opts.Threads > 0 {
		if err := check("CPU options", C.litert_add_cpu_threads(o, C.int(opts.Threads))); err != nil {
			return err
		}
	}
	if err := check("LiteRtCreateCompiledModel", C.LiteRtCreateCompiledModel(m.env, m.lm, o, &m.cm)); err != nil {
		if ops := m.sig.unsupportedOps(); ops != "" {
			return fmt.Errorf("%s: %w", ops, err)
		}
		return fmt.Errorf("compile: %w", err)
	}
	m.itemSize, m.outSize = m.meta.ItemSize(), m.meta.OutputSize()
	m.outIndex = -1
	for i, t := range m.sig.spec.Outputs {
		if t.Key == m.meta.Output.Key {
			m.outIndex = i
		}
	}
	m.elemType = C.kLiteRtElementTypeFloat32
	return nil
}

// Meta returns the model's metadata. Callers must not modify it.
func (m *Model) Meta() *model.Metadata { return m.meta }

// Path returns the TFLite file the model was loaded from.
func (m *Model) Path() string { return m.path }

// Predict runs one batch of n items. inputs holds n*Meta().ItemSize()
// float32 values, item after item, each row-major in the metadata's input
// shape. Predict returns n*Meta().OutputSize() values laid out the same way.
func (m *Model) Predict(inputs []float32, n int) ([]float32, error) {
	out, err := m.predict(inputs, n)
	if err != nil {
		return nil, fmt.Errorf("predict %s: %w", m.meta.ID(), err)
	}
	return out, nil
}

func (m *Model) predict(inputs []float32, n int) ([]float32, error) {
	if n <= 0 {
		return nil, fmt.Errorf("batch size %d must be positive", n)
	}
	if len(inputs) != n*m.itemSize {
		return nil, fmt.Errorf("%d input values for %d items of %d", len(inputs), n, m.itemSize)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.bufs == nil || m.bufs.batch != n {
		if err := m.resize(n); err != nil {
			return nil, err
		}
	}
	if err := m.bufs.write(inputs); err != nil {
		return nil, err
	}
	if err := check("LiteRtRunCompiledModel", C.LiteRtRunCompiledModel(m.cm, m.sig.index,
		C.size_t(len(m.bufs.in)), &m.bufs.in[0], C.size_t(len(m.bufs.out)), &m.bufs.out[0])); err != nil {
		return nil, err
	}
	out := make([]float32, n*m.outSize)
	if err := m.bufs.read(m.outIndex, out); err != nil {
		return nil, err
	}
	return out, nil
}

// Close waits for a running Predict call and releases the model. Predict
// fails with ErrClosed afterwards. Close may be called more than once.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	m.release()
	return nil
}

// release frees what the model holds, in reverse order of creation.
func (m *Model) release() {
	if m.bufs != nil {
		m.bufs.free()
		m.bufs = nil
	}
	if m.cm != nil {
		C.LiteRtDestroyCompiledModel(m.cm)
		m.cm = nil
	}
	if m.lm != nil {
		C.LiteRtDestroyModel(m.lm)
		m.lm = nil
	}
	if m.env != nil {
		C.LiteRtDestroyEnvironment(m.env)
		m.env = nil
	}
}
