package runx

import (
	"os"
	"runtime"
	"runtime/debug"
)

// DefaultGOGC sets the garbage collector's target (GOGC) to percent, unless
// the GOGC environment variable sets it. The worker uses it: its Go heap is
// small next to its models (TensorFlow's memory is not Go's), and collecting
// at 4 × the live heap instead of 2 × took ~2 µs of CPU per digits item off
// it for ~13 MB more peak RSS (docs/benchmarks.md, issue 23 round 2).
func DefaultGOGC(percent int) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(percent)
	}
}

// DefaultGOMAXPROCS runs Go code on procs(n) of the n processors Go would
// use (its default, which follows the container's CPU limit), unless the
// GOMAXPROCS environment variable sets them; procs' answer is kept within
// [1, n]. It returns the number set.
func DefaultGOMAXPROCS(procs func(n int) int) int {
	n := runtime.GOMAXPROCS(0)
	if _, set := os.LookupEnv("GOMAXPROCS"); set {
		return n
	}
	want := min(max(procs(n), 1), n)
	runtime.GOMAXPROCS(want)
	return want
}
