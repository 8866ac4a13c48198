package loadgen

import (
	"context"
	"testing"
	"time"
)

// A tick that comes with the phase's end records nothing: a sample taken
// with an ended context read the consumers as -1 and failed the soak's
// consumer check (a 45-minute soak's last sample, 2026-12-07).
func TestRecorderStopsAtPhaseEnd(t *testing.T) {
	for range 200 { // select picks among ready cases at random
		rec := &recorder{r: &runner{}, sm: &sampler{}, rep: &Report{}, t0: time.Now()}
		ctx, cancel := context.WithCancel(context.Background())
		tick := make(chan time.Time, 1)
		tick <- time.Now()
		cancel()
		rec.every(ctx, tick, "after", func() {})
		if n := len(rec.rep.Samples); n != 0 {
			t.Fatalf("%d samples taken after the phase ended", n)
		}
	}
	rec := &recorder{r: &runner{}, sm: &sampler{}, rep: &Report{}, t0: time.Now()}
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time, 1)
	tick <- time.Now()
	rec.every(ctx, tick, "load", cancel) // the phase ends as its sample is taken
	if len(rec.rep.Samples) != 1 || rec.rep.Samples[0].Phase != "load" {
		t.Fatalf("samples: %+v", rec.rep.Samples)
	}
}
