package litert

// #cgo LDFLAGS: -lLiteRt
// #include "helpers.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// statusNames are the LiteRtStatus values of litert_common.h (v2.2.0).
// libLiteRt.so does not export LiteRtGetStatusString.
var statusNames = map[C.LiteRtStatus]string{
	1: "invalid argument", 2: "memory allocation failure", 3: "runtime failure",
	4: "missing input tensor", 5: "unsupported", 6: "not found", 7: "timeout expired",
	8: "wrong version", 9: "unknown error", 10: "already exists", 100: "cancelled",
	500: "file I/O error", 501: "invalid flatbuffer", 502: "dynamic loading error",
	503: "serialization error", 504: "compilation error",
	1000: "index out of bounds", 1001: "invalid IR type", 1002: "invalid graph invariant",
	1003: "graph modification error", 5000: "unsupported op shape inferer", 5001: "shape inference failed",
}

// StatusError is a failed LiteRT C API call.
type StatusError struct {
	Call   string // the C function
	Status int    // its LiteRtStatus
}

// Error names the call and its status, e.g.
// "LiteRtCreateModelFromFile: invalid flatbuffer (501)".
func (e *StatusError) Error() string {
	name, ok := statusNames[C.LiteRtStatus(e.Status)]
	if !ok {
		name = "status"
	}
	return fmt.Sprintf("%s: %s (%d)", e.Call, name, e.Status)
}

// check turns a LiteRtStatus into an error.
func check(call string, s C.LiteRtStatus) error {
	if s == C.kLiteRtStatusOk {
		return nil
	}
	return &StatusError{Call: call, Status: int(s)}
}

// dtypeNames name LiteRT element types as metadata.json does (NumPy names).
var dtypeNames = map[C.LiteRtElementType]string{
	C.kLiteRtElementTypeFloat32: "float32", C.kLiteRtElementTypeFloat64: "float64",
	C.kLiteRtElementTypeFloat16: "float16", C.kLiteRtElementTypeBFloat16: "bfloat16",
	C.kLiteRtElementTypeInt8: "int8", C.kLiteRtElementTypeInt16: "int16",
	C.kLiteRtElementTypeInt32: "int32", C.kLiteRtElementTypeInt64: "int64",
	C.kLiteRtElementTypeUInt8: "uint8", C.kLiteRtElementTypeBool: "bool",
	C.kLiteRtElementTypeTfString: "string", C.kLiteRtElementTypeComplex64: "complex64",
}

func dtypeName(t C.LiteRtElementType) string {
	if n, ok := dtypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("element type %d", int(t))
}

// layoutDims returns a layout's dimensions (dynamic ones < 0).
func layoutDims(l *C.LiteRtLayout) []int64 {
	rank := int(C.litert_layout_rank(l))
	dims := make([]int64, rank)
	for i := range rank {
		dims[i] = int64(l.dimensions[i])
	}
	return dims
}

// setLayout makes l a dense layout of dims.
func setLayout(l *C.LiteRtLayout, dims []int64) {
	C.litert_set_layout(l, C.uint(len(dims)))
	for i, d := range dims {
		l.dimensions[i] = C.int32_t(d)
	}
}

// cString returns a Go copy of a C string owned by LiteRT.
func cString(p *C.char) string { return C.GoString(p) }

// floats views n float32 values of C memory at p.
func floats(p unsafe.Pointer, n int) []float32 { return unsafe.Slice((*float32)(p), n) }
