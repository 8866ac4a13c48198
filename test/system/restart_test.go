package system

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/worker"
)

// slow is SlowModels.
var slow = SlowModels

// follower records, from a WebSocket subscription, every item once and the
// time of each message that moved the job forward.
type follower struct {
	mu       sync.Mutex
	seen     map[int]int
	lastSeq  uint64
	advanced []time.Time
	ended    chan struct{}
	err      error
}

func follow(t *testing.T, s *System, job string) *follower {
	f := &follower{seen: map[int]int{}, ended: make(chan struct{})}
	w := s.MustDialWS()
	w.Send(map[string]any{"type": "subscribe", "job": job})
	go func() {
		defer close(f.ended)
		for {
			m, err := w.TryRead(60 * time.Second)
			if err != nil {
				f.err = err
				return
			}
			f.mu.Lock()
			switch m.Type {
			case "results":
				if m.Seq <= f.lastSeq {
					f.err = errorf("seq %d after %d", m.Seq, f.lastSeq)
				}
				f.lastSeq = m.Seq
				for _, it := range m.Items {
					f.seen[it.Index]++
				}
				f.advanced = append(f.advanced, time.Now())
			case "end":
				f.mu.Unlock()
				return
			case "error":
				f.err = errorf("%s", m.Raw)
			}
			f.mu.Unlock()
		}
	}()
	return f
}

// advancedSince reports whether results arrived after t.
func (f *follower) advancedSince(t time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.advanced) > 0 && f.advanced[len(f.advanced)-1].After(t)
}

// Three NATS restarts in the middle of one job: after each, results flow
// again within 2 s (chunks held by the worker at the restart do not wait
// out their ack deadline), and every item arrives exactly once with the
// right class.
func TestNATSRestartsMidJobResumeWithin2s(t *testing.T) {
	s := Start(t, Options{Models: slow(15 * time.Millisecond), Worker: func(c *worker.Config) { c.MaxBatch = 64 }})
	const n = 40_000
	inputs, labels := DigitInputs(t, n)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	f := follow(t, s, job.ID)
	for r := 0; r < 3; r++ {
		Eventually(t, 30*time.Second, func() error {
			if !f.advancedSince(time.Now().Add(-200 * time.Millisecond)) {
				return errorf("job not running")
			}
			return nil
		})
		s.RestartNATS()
		back := time.Now()
		Eventually(t, 10*time.Second, func() error {
			if !f.advancedSince(back) {
				return errorf("no results since the restart")
			}
			return nil
		})
		if d := time.Since(back); d > 2*time.Second {
			t.Errorf("restart %d: results resumed after %s, want ≤ 2s", r+1, d.Round(time.Millisecond))
		} else {
			t.Logf("restart %d: results resumed after %s", r+1, d.Round(time.Millisecond))
		}
	}
	select {
	case <-f.ended:
	case <-time.After(120 * time.Second):
		t.Fatal("the job did not end")
	}
	if f.err != nil {
		t.Fatal(f.err)
	}
	// No stall anywhere: a chunk lost in flight at a restart comes back at
	// once, not after its ack deadline.
	var gap time.Duration
	for i := 1; i < len(f.advanced); i++ {
		gap = max(gap, f.advanced[i].Sub(f.advanced[i-1]))
	}
	if gap > 2*time.Second {
		t.Errorf("longest pause between results: %s, want ≤ 2s", gap.Round(time.Millisecond))
	} else {
		t.Logf("longest pause between results: %s", gap.Round(time.Millisecond))
	}
	if err := checkAll(f.seen, n); err != nil {
		t.Fatal(err)
	}
	for _, it := range s.allResults(t, job.ID, n) {
		if it.Class == nil || *it.Class != labels[it.Index] {
			t.Fatalf("item %d: %+v", it.Index, it)
		}
	}
}

// counted wraps the models and counts the items each one is asked to run.
type counted struct {
	worker.Predictor
	n *atomic.Int64
	d time.Duration
}

func (p counted) Predict(in []float32, n int) ([]float32, error) {
	p.n.Add(int64(n))
	time.Sleep(p.d)
	return p.Predictor.Predict(in, n)
}

// A batch that takes longer than the lease (AckWait) is still the worker's:
// its lease is renewed while it waits and runs, so no chunk is delivered
// twice and no item is computed twice.
func TestSlowHealthyBatchesAreNotRedelivered(t *testing.T) {
	var items atomic.Int64
	const lease = time.Second
	s := Start(t, Options{
		Models: func(ps []worker.Predictor) []worker.Predictor {
			for i, p := range ps {
				ps[i] = counted{p, &items, 3 * lease / 2}
			}
			return ps
		},
		Worker: func(c *worker.Config) { c.AckWait = lease; c.MaxBatch = 64 },
	})
	inputs, _ := DigitInputs(t, 256)
	st := s.waitJob(t, s.submit(t, map[string]any{"model": "digits", "inputs": inputs}).ID, 60*time.Second)
	if st.Done != 256 {
		t.Fatalf("status %+v", st)
	}
	if n := items.Load(); n != 256 {
		t.Fatalf("%d items computed for 256: chunks were redelivered while their worker worked on them", n)
	}
}

// A worker killed while it holds chunks: with the default lease, another
// worker has them within a few seconds, not after a long ack deadline.
func TestKilledWorkersChunksComeBackWithinLease(t *testing.T) {
	gate := newGate()
	s := Start(t, Options{Models: gate.wrap})
	gate.close()
	inputs, _ := DigitInputs(t, 3000)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	f := follow(t, s, job.ID)
	<-gate.entered
	s.Workers[0].Kill()
	killed := time.Now()
	gate.open()
	s.opts.Models = nil
	s.AddWorker()
	Eventually(t, 20*time.Second, func() error {
		if !f.advancedSince(killed) {
			return errorf("no results since the kill")
		}
		return nil
	})
	if d := time.Since(killed); d > 4*time.Second {
		t.Errorf("results resumed %s after the kill, want ≤ 4s (lease 2s)", d.Round(time.Millisecond))
	}
	<-f.ended
	if err := checkAll(f.seen, 3000); err != nil {
		t.Fatal(err)
	}
}
