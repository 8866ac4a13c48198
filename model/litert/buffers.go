package litert

// #include <stdlib.h>
// #include "helpers.h"
import "C"

import (
	"fmt"
	"slices"
	"unsafe"
)

// buffers are the input and output tensor buffers of one batch size. They
// live in C memory, so LiteRT may keep pointers to them between calls.
type buffers struct {
	batch    int
	in       []C.LiteRtTensorBuffer
	out      []C.LiteRtTensorBuffer
	inElems  int
	outElems []int
}

// resize sets the input's batch dimension to n and makes buffers for it.
// The compiled model plans its memory for the new shape; the outputs'
// shapes follow from it.
func (m *Model) resize(n int) error {
	if m.bufs != nil {
		m.bufs.free()
		m.bufs = nil
	}
	shape := slices.Clone(m.meta.Input.Shape)
	shape[0] = int64(n)
	dims := make([]C.int, len(shape))
	for i, d := range shape {
		dims[i] = C.int(d)
	}
	if err := check("LiteRtCompiledModelResizeInputTensor",
		C.LiteRtCompiledModelResizeInputTensor(m.cm, m.sig.index, 0, &dims[0], C.size_t(len(dims)))); err != nil {
		return fmt.Errorf("resize input to %v: %w", shape, err)
	}
	b := &buffers{batch: n, inElems: n * m.itemSize}
	var req C.LiteRtTensorBufferRequirements
	if err := check("LiteRtGetCompiledModelInputBufferRequirements",
		C.LiteRtGetCompiledModelInputBufferRequirements(m.cm, m.sig.index, 0, &req)); err != nil {
		return err
	}
	buf, err := m.newBuffer(req, m.elemType, shape)
	if err != nil {
		return err
	}
	b.in = append(b.in, buf)
	if err := m.outputBuffers(b); err != nil {
		b.free()
		return err
	}
	if got, want := b.outElems[m.outIndex], n*m.outSize; got != want {
		b.free()
		return fmt.Errorf("output %q has %d values for a batch of %d, want %d", m.meta.Output.Key, got, n, want)
	}
	m.bufs = b
	return nil
}

// outputBuffers makes a buffer for each of the signature's outputs, shaped
// as the compiled model now lays them out.
func (m *Model) outputBuffers(b *buffers) error {
	outs := m.sig.spec.Outputs
	layouts := make([]C.LiteRtLayout, len(outs))
	if err := check("LiteRtGetCompiledModelOutputTensorLayouts",
		C.LiteRtGetCompiledModelOutputTensorLayouts(m.cm, m.sig.index, C.size_t(len(layouts)), &layouts[0], true)); err != nil {
		return err
	}
	for i := range outs {
		var req C.LiteRtTensorBufferRequirements
		if err := check("LiteRtGetCompiledModelOutputBufferRequirements",
			C.LiteRtGetCompiledModelOutputBufferRequirements(m.cm, m.sig.index, C.LiteRtParamIndex(i), &req)); err != nil {
			return err
		}
		shape := layoutDims(&layouts[i])
		buf, err := m.newBuffer(req, m.sig.outTypes[i], shape)
		if err != nil {
			return err
		}
		b.out = append(b.out, buf)
		elems := 1
		for _, d := range shape {
			elems *= int(d)
		}
		b.outElems = append(b.outElems, elems)
	}
	return nil
}

// newBuffer makes a host-memory tensor buffer of the size req asks for.
func (m *Model) newBuffer(req C.LiteRtTensorBufferRequirements, et C.LiteRtElementType, shape []int64) (C.LiteRtTensorBuffer, error) {
	var size C.size_t
	if err := check("LiteRtGetTensorBufferRequirementsBufferSize", C.LiteRtGetTensorBufferRequirementsBufferSize(req, &size)); err != nil {
		return nil, err
	}
	var tt C.LiteRtRankedTensorType
	tt.element_type = et
	setLayout(&tt.layout, shape)
	var buf C.LiteRtTensorBuffer
	if err := check("LiteRtCreateManagedTensorBuffer",
		C.LiteRtCreateManagedTensorBuffer(m.env, C.kLiteRtTensorBufferTypeHostMemory, &tt, size, &buf)); err != nil {
		return nil, err
	}
	return buf, nil
}

// write copies the batch's inputs into the input buffer.
func (b *buffers) write(inputs []float32) error {
	var p unsafe.Pointer
	if err := check("LiteRtLockTensorBuffer", C.LiteRtLockTensorBuffer(b.in[0], &p, C.kLiteRtTensorBufferLockModeWrite)); err != nil {
		return err
	}
	copy(floats(p, b.inElems), inputs)
	return check("LiteRtUnlockTensorBuffer", C.LiteRtUnlockTensorBuffer(b.in[0]))
}

// read copies output i into dst, which has its number of values.
func (b *buffers) read(i int, dst []float32) error {
	var p unsafe.Pointer
	if err := check("LiteRtLockTensorBuffer", C.LiteRtLockTensorBuffer(b.out[i], &p, C.kLiteRtTensorBufferLockModeRead)); err != nil {
		return err
	}
	copy(dst, floats(p, len(dst)))
	return check("LiteRtUnlockTensorBuffer", C.LiteRtUnlockTensorBuffer(b.out[i]))
}

// free destroys the buffers.
func (b *buffers) free() {
	for _, buf := range append(b.in, b.out...) {
		C.LiteRtDestroyTensorBuffer(buf)
	}
	b.in, b.out = nil, nil
}
