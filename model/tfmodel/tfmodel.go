// Package tfmodel runs the system's SavedModels in process with the
// TensorFlow C library, through github.com/galeone/tfgo.
//
// Load reads a model version directory (a SavedModel plus metadata.json, see
// package model), checks the SavedModel's serving signature against the
// metadata and opens a TensorFlow session; Predict runs one batch. Registry
// loads every model version under a root directory.
//
// The package uses cgo and needs the TensorFlow C library at build and run
// time: eval "$(scripts/tf-env.sh)" sets CGO_CFLAGS, CGO_LDFLAGS and
// LD_LIBRARY_PATH.
package tfmodel

import (
	"errors"
	"fmt"
	"reflect"
	"sync"

	"batchinfer/model"

	tf "github.com/galeone/tensorflow/tensorflow/go"
	corepb "github.com/galeone/tensorflow/tensorflow/go/core/protobuf/for_core_protos_go_proto"
	tg "github.com/galeone/tfgo"
	"google.golang.org/protobuf/proto"
)

// ServeTag is the SavedModel tag set Load loads.
const ServeTag = "serve"

// ErrClosed is returned by Predict after Close.
var ErrClosed = errors.New("model is closed")

// Options configures the TensorFlow sessions that Load opens.
//
// TensorFlow sizes its thread pools from the host's CPU count and ignores
// container CPU limits, so a worker in a CPU-limited container should set
// both fields. Note that TensorFlow creates its process-wide thread pools
// with the options of the first session in the process; later sessions with
// other values share them (see the package tests).
type Options struct {
	// IntraOpThreads is the number of threads one op (a matrix
	// multiplication, a convolution) may use; 0 lets TensorFlow choose.
	IntraOpThreads int
	// InterOpThreads is the number of ops that may run at once; 0 lets
	// TensorFlow choose, and a negative number runs every op in the thread
	// that calls Predict, with no handoff to a pool and back (TensorFlow
	// decides this per session, unlike the pools' sizes).
	InterOpThreads int
}

// sessionOptions serializes o into the tensorflow.ConfigProto that the C API
// takes.
func (o Options) sessionOptions() (*tf.SessionOptions, error) {
	if o.IntraOpThreads < 0 {
		return nil, fmt.Errorf("intra-op thread count must not be negative: %d", o.IntraOpThreads)
	}
	cfg, err := proto.Marshal(&corepb.ConfigProto{
		IntraOpParallelismThreads: int32(o.IntraOpThreads),
		InterOpParallelismThreads: int32(max(o.InterOpThreads, -1)),
	})
	if err != nil {
		return nil, fmt.Errorf("encode session config: %w", err)
	}
	return &tf.SessionOptions{Config: cfg}, nil
}

// Model is one loaded model version. It is safe for concurrent use.
type Model struct {
	meta *model.Metadata
	dir  string

	input, output tf.Output
	inShape       []int64 // metadata input shape; [0] is replaced per batch
	itemSize      int
	outSize       int

	mu     sync.RWMutex // Close takes it for writing, Predict for reading
	tg     *tg.Model
	closed bool
}

// Load loads the model version in dir: it reads dir/metadata.json if there is
// one, completes it from the SavedModel's signature (the one the metadata
// names, or serving_default; see model.Complete), loads the SavedModel with
// the "serve" tag, and runs one prediction (an item of zeros) to check that
// the model runs. A signature that does not match the metadata is refused
// with an error that matches ErrSignatureMismatch (errors.Is) and says which
// field differs.
func Load(dir string, opts Options) (*Model, error) {
	given, err := model.ReadMetadataFile(dir)
	if err != nil {
		return nil, fmt.Errorf("load model in %q: %w", dir, err)
	}
	m, err := load(dir, given, opts)
	if err != nil {
		return nil, fmt.Errorf("load model %q: %w", model.DirID(given, dir), err)
	}
	return m, nil
}

func load(dir string, given *model.Metadata, opts Options) (*Model, error) {
	so, err := opts.sessionOptions()
	if err != nil {
		return nil, err
	}
	sig, err := readSignature(dir, given.SignatureName())
	if err != nil {
		return nil, err
	}
	meta, inName, outName, err := checkSignature(dir, given, sig)
	if err != nil {
		return nil, err
	}
	tgm, err := loadTFGo(dir, so)
	if err != nil {
		return nil, err
	}
	m := &Model{
		meta:     meta,
		dir:      dir,
		inShape:  append([]int64(nil), meta.Input.Shape...),
		itemSize: meta.ItemSize(),
		outSize:  meta.OutputSize(),
		tg:       tgm,
	}
	if m.input, err = op(tgm, inName); err != nil {
		m.Close()
		return nil, fmt.Errorf("input %q: %w", meta.Input.Key, err)
	}
	if m.output, err = op(tgm, outName); err != nil {
		m.Close()
		return nil, fmt.Errorf("output %q: %w", meta.Output.Key, err)
	}
	// One prediction finds what loading does not: TensorFlow loads a
	// SavedModel without its variables directory and only fails when it
	// runs.
	if _, err := m.predict(make([]float32, m.itemSize), 1); err != nil {
		m.Close()
		return nil, fmt.Errorf("check prediction: %w", err)
	}
	return m, nil
}

// loadTFGo wraps tfgo.LoadModel, which panics on error.
func loadTFGo(dir string, so *tf.SessionOptions) (m *tg.Model, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("load SavedModel %q: %v", dir, r)
		}
	}()
	return tg.LoadModel(dir, []string{ServeTag}, so), nil
}

// op resolves a graph tensor name ("op:index") with tfgo.Model.Op, which
// panics when the operation does not exist.
func op(m *tg.Model, name string) (out tf.Output, err error) {
	opName, idx, err := splitTensorName(name)
	if err != nil {
		return tf.Output{}, err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tensor %q not in graph: %v", name, r)
		}
	}()
	return m.Op(opName, idx), nil
}

// Meta returns the model's metadata. Callers must not modify it.
func (m *Model) Meta() *model.Metadata { return m.meta }

// Dir returns the directory the model was loaded from.
func (m *Model) Dir() string { return m.dir }

// Predict runs one batch of n items. inputs holds n*Meta().ItemSize() float32
// values, item after item, each row-major in the metadata's input shape.
// Predict returns n*Meta().OutputSize() values laid out the same way. It may
// be called from several goroutines at once; TensorFlow runs the calls
// concurrently.
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
	shape := make([]int64, len(m.inShape))
	copy(shape, m.inShape)
	shape[0] = int64(n)
	in, err := float32Tensor(shape, inputs)
	if err != nil {
		return nil, fmt.Errorf("input tensor: %w", err)
	}
	defer freeTensor(in)

	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	res, err := m.exec(in)
	if err != nil {
		return nil, err
	}
	for _, t := range res[1:] {
		freeTensor(t)
	}
	out := res[0]
	defer freeTensor(out)
	if dt := out.DataType(); dt != tf.Float {
		return nil, fmt.Errorf("output dtype %v, want float32", dt)
	}
	if s := out.Shape(); len(s) == 0 || s[0] != int64(n) || numElements(s) != n*m.outSize {
		return nil, fmt.Errorf("output shape %v, want [%d %v]", s, n, m.meta.Output.Shape[1:])
	}
	res0 := make([]float32, n*m.outSize)
	if err := copyFloat32s(res0, out); err != nil {
		return nil, fmt.Errorf("read output: %w", err)
	}
	return res0, nil
}

// exec runs the session through tfgo.Model.Exec, which panics on error.
func (m *Model) exec(in *tf.Tensor) (res []*tf.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok {
				err = fmt.Errorf("run session: %w", e)
			} else {
				err = fmt.Errorf("run session: %v", r)
			}
		}
	}()
	res = m.tg.Exec([]tf.Output{m.output}, map[tf.Output]*tf.Tensor{m.input: in})
	if len(res) == 0 {
		return nil, errors.New("run session: no output")
	}
	return res, nil
}

// Close waits for running Predict calls and releases the TensorFlow session.
// Predict fails with ErrClosed afterwards. Close may be called more than
// once.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	tgm := m.tg
	m.tg = nil
	// tfgo keeps the session unexported and only closes it from a finalizer;
	// reach it so that Close releases the memory now.
	if s := tfgoSession(tgm); s != nil {
		if err := s.Close(); err != nil {
			return fmt.Errorf("close model %q: %w", m.meta.ID(), err)
		}
	}
	return nil
}

// tfgoSession returns the session inside a tfgo.Model, or nil if this tfgo
// version does not keep one where expected (the finalizer then closes it).
func tfgoSession(m *tg.Model) *tf.Session {
	if m == nil {
		return nil
	}
	f := reflect.ValueOf(m).Elem().FieldByName("saved")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*tf.SavedModel]() {
		return nil
	}
	saved := *(**tf.SavedModel)(f.Addr().UnsafePointer())
	if saved == nil {
		return nil
	}
	return saved.Session
}
