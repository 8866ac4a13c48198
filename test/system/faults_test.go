package system

import (
	"strings"
	"testing"
	"time"

	"batchinfer/worker"
)

// A worker killed while it holds chunks (one of them inside TensorFlow):
// another worker gets them after AckWait and every item has exactly one
// result.
func TestWorkerKilledMidChunkAnotherFinishes(t *testing.T) {
	gate := newGate()
	s := Start(t, Options{
		Models: gate.wrap,
		Worker: func(c *worker.Config) { c.AckWait = time.Second },
	})
	gate.close()
	inputs, labels := DigitInputs(t, 3000)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	s.replaceWorkerInInference(t, gate)
	st := s.waitJob(t, job.ID, 60*time.Second)
	if st.Done != 3000 || st.Failed != 0 || st.State != "completed" {
		t.Fatalf("status %+v", st)
	}
	for _, it := range s.allResults(t, job.ID, 3000) {
		if it.Class == nil || *it.Class != labels[it.Index] {
			t.Fatalf("item %d: %+v", it.Index, it)
		}
	}
}

// A chunk that keeps failing in TensorFlow is given up after MaxDeliver
// attempts: its items fail with the reason and the job still finishes.
func TestFailingChunkIsDeadLettered(t *testing.T) {
	s := Start(t, Options{
		Models: func(ps []worker.Predictor) []worker.Predictor {
			for i, p := range ps {
				if p.Meta().Name == "breast_cancer" {
					ps[i] = failing{p}
				}
			}
			return ps
		},
		Worker: func(c *worker.Config) { c.MaxDeliver = 2 },
	})
	rows := make([][]float32, 10)
	for i := range rows {
		rows[i] = make([]float32, 30)
	}
	job := s.submit(t, map[string]any{"model": "breast_cancer", "inputs": rows})
	st := s.waitJob(t, job.ID, 30*time.Second)
	if st.Failed != 10 || st.Done != 0 {
		t.Fatalf("status %+v", st)
	}
	for _, it := range s.allResults(t, job.ID, 10) {
		if !strings.Contains(it.Error, "injected TensorFlow failure") || !strings.Contains(it.Error, "2 attempts") {
			t.Fatalf("item %d error %q", it.Index, it.Error)
		}
	}
	// Other models keep working.
	inputs, _ := DigitInputs(t, 100)
	if st := s.waitJob(t, s.submit(t, map[string]any{"model": "digits", "inputs": inputs}).ID, 30*time.Second); st.Done != 100 {
		t.Fatalf("digits after dead letter: %+v", st)
	}
}

// A chunk whose every worker dies is dead-lettered from JetStream's
// max-deliveries advisory by a surviving worker.
func TestCrashingChunkDeadLetteredByAdvisory(t *testing.T) {
	gate := newGate()
	s := Start(t, Options{
		Models: gate.wrap,
		Worker: func(c *worker.Config) { c.AckWait = time.Second; c.MaxDeliver = 1; c.Prefetch, c.PrefetchMax = 1, 1 },
	})
	gate.close()
	inputs, _ := DigitInputs(t, 10)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	s.replaceWorkerInInference(t, gate)
	st := s.waitJob(t, job.ID, 60*time.Second)
	if st.Failed != 10 {
		t.Fatalf("status %+v", st)
	}
	for _, it := range s.allResults(t, job.ID, 10) {
		if !strings.Contains(it.Error, "gave up after 1 deliveries") {
			t.Fatalf("item %d error %q", it.Index, it.Error)
		}
	}
	// The chunk is kept with its payload; redriven (the worker that took
	// the place of the one killed is healthy), its items are done, once.
	ls := s.letters(t, "job="+job.ID)
	if len(ls) != 1 || ls[0].Count != 10 || !strings.Contains(ls[0].Reason, "gave up after 1 deliveries") {
		t.Fatalf("letters %+v", ls)
	}
	checkPayload(t, s, ls[0].ID, inputs, 0)
	if code := s.PostJSON("/v1/deadletters/"+ls[0].ID+"/redrive", nil, nil); code != 202 {
		t.Fatalf("redrive: %d", code)
	}
	if st := s.waitJob(t, job.ID, 60*time.Second); st.Done != 10 || st.Failed != 0 {
		t.Fatalf("after the redrive %+v", st)
	}
	for _, it := range s.allResults(t, job.ID, 10) {
		if it.Error != "" || it.Class == nil {
			t.Fatalf("item %d after the redrive: %+v", it.Index, it)
		}
	}
}

// The NATS server restarts in the middle of a job: gateway and workers
// reconnect and every item has exactly one result.
func TestNATSRestartMidJobLosesNothing(t *testing.T) {
	gate := newGate()
	s := Start(t, Options{Models: gate.wrap, Worker: func(c *worker.Config) { c.AckWait = 2 * time.Second }})
	gate.close()
	inputs, labels := DigitInputs(t, 4000)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	<-gate.entered
	s.RestartNATS()
	gate.open()
	st := s.waitJob(t, job.ID, 90*time.Second)
	if st.Done != 4000 {
		t.Fatalf("status %+v", st)
	}
	for _, it := range s.allResults(t, job.ID, 4000) {
		if it.Class == nil || *it.Class != labels[it.Index] {
			t.Fatalf("item %d: %+v", it.Index, it)
		}
	}
}
