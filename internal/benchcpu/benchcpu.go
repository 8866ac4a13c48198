// Package benchcpu reports the CPU time a Go benchmark's process spent per
// unit of work, beside the wall time `go test -bench` reports: on a shared
// machine whose cores other work takes part of the time, wall time per
// operation moves with the load, CPU time much less. It counts every thread
// of the process (user and system time, the garbage collector's included),
// from getrusage(RUSAGE_SELF).
package benchcpu

import (
	"syscall"
	"testing"
	"time"
)

// Meter is the process's CPU time when a measurement began.
type Meter struct{ start time.Duration }

// Start begins a measurement; call it just before the benchmark's loop.
func Start() Meter { return Meter{start: used()} }

// Report adds the CPU time since Start divided by per (the units of work
// done in all of b's iterations, e.g. b.N × items per iteration) as the
// metric "cpu-ns/"+unit. per ≤ 0 reports nothing.
func (m Meter) Report(b *testing.B, per int, unit string) {
	if per <= 0 {
		return
	}
	b.ReportMetric(float64(used()-m.start)/float64(per), "cpu-ns/"+unit)
}

// ReportBytes adds the bytes processed in all of b's iterations per
// second of CPU time since Start, as "MB/cpu-s": a throughput per core that
// does not depend on how much of a core the benchmark got.
func (m Meter) ReportBytes(b *testing.B, bytes int64) {
	if d := used() - m.start; d > 0 {
		b.ReportMetric(float64(bytes)/d.Seconds()/1e6, "MB/cpu-s")
	}
}

// used is the process's user + system CPU time so far.
func used() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
