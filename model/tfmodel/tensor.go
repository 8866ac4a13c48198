package tfmodel

// #cgo LDFLAGS: -ltensorflow
// #include <tensorflow/c/c_api.h>
import "C"

import (
	"bytes"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"unsafe"

	tf "github.com/galeone/tensorflow/tensorflow/go"
)

// float32Tensor makes a float32 tensor of the given shape holding values,
// copying them once, straight into the tensor's buffer. tf.NewTensor on a
// nested [][]...float32 would walk every row with reflection.
func float32Tensor(shape []int64, values []float32) (*tf.Tensor, error) {
	return tf.ReadTensor(tf.Float, shape, bytes.NewReader(float32Bytes(values)))
}

// copyFloat32s copies the contents of a float32 tensor into dst, which must
// have exactly its number of elements. Tensor.Value would allocate a fresh
// nested slice per row.
func copyFloat32s(dst []float32, t *tf.Tensor) error {
	w := &fixedWriter{buf: float32Bytes(dst)}
	if _, err := t.WriteContentsTo(w); err != nil {
		return err
	}
	if len(w.buf) != 0 {
		return fmt.Errorf("tensor has %d bytes too few", len(w.buf))
	}
	return nil
}

// float32Bytes reinterprets values as bytes in the machine's byte order, which
// is the byte order of TensorFlow's tensor buffers.
func float32Bytes(values []float32) []byte {
	if len(values) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&values[0])), len(values)*4)
}

// fixedWriter writes into a fixed buffer and fails when it is full.
type fixedWriter struct{ buf []byte }

func (w *fixedWriter) Write(p []byte) (int, error) {
	n := copy(w.buf, p)
	w.buf = w.buf[n:]
	if n < len(p) {
		return n, io.ErrShortWrite
	}
	return n, nil
}

// freeTensor releases a tensor's C memory now instead of from its finalizer.
// The Go garbage collector does not see C allocations, so without this a
// busy worker keeps many batches' worth of tensors alive until the next
// collection happens to run (hundreds of MiB for an image model). The galeone
// binding has no exported way to free a tensor, so this reaches its C
// pointer; if a binding version lays Tensor out differently, it does nothing
// and the finalizer frees the tensor as before. t must not be used after.
func freeTensor(t *tf.Tensor) {
	if t == nil {
		return
	}
	f := reflect.ValueOf(t).Elem().FieldByName("c")
	if !f.IsValid() || f.Kind() != reflect.Pointer {
		return
	}
	p := (*unsafe.Pointer)(f.Addr().UnsafePointer())
	if *p == nil {
		return
	}
	runtime.SetFinalizer(t, nil)
	C.TF_DeleteTensor((*C.TF_Tensor)(*p))
	*p = nil
}

func numElements(shape []int64) int {
	n := 1
	for _, d := range shape {
		n *= int(d)
	}
	return n
}
