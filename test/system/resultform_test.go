package system

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/worker"
)

// Results are stored in the compact form by default, and as JSON by a
// worker told to (WORKER_RESULT_FORMAT=json, while gateways older than the
// compact form still run); a gateway reads both, and clients see the same
// bytes either way: the NDJSON results, the JSON pages and the output file
// of one job run in each form, on real TensorFlow. Admission reserves room
// for each form: a JSON worker's results fit what its job reserved.
func TestResultFormsReadTheSame(t *testing.T) {
	s := Start(t, Options{Gateway: chunksOf256})
	inputs, _ := DigitInputs(t, 700) // 3 chunks, the last one short
	body := map[string]any{"model": "digits", "inputs": inputs}
	compact := s.submit(t, body)
	s.waitJob(t, compact.ID, 30*time.Second)

	ctxStopWorker(t, s.Workers[0])
	s.opts.Worker = func(c *worker.Config) { c.ResultFormat = worker.ResultFormatJSON }
	s.AddWorker()
	Eventually(t, 10*time.Second, func() error { // admission sizes results as JSON once the gateway sees it
		var c api.Cluster
		s.GetJSON("/v1/cluster", &c)
		for _, w := range c.Workers {
			if w.ResultFormat == worker.ResultFormatJSON {
				return nil
			}
		}
		return fmt.Errorf("no worker announces JSON results: %+v", c.Workers)
	})
	asJSON := s.submit(t, body)
	s.waitJob(t, asJSON.ID, 30*time.Second)
	s.checkEstimates(t, compact.ID, asJSON.ID)

	_, stream := s.resultsStream(t)
	size := map[bool]int{}
	for job, want := range map[string]bool{compact.ID: true, asJSON.ID: false} {
		for c := 0; c < 3; c++ {
			m, err := stream.GetLastMsgForSubject(context.Background(), wire.ResultSubject(job, c))
			if err != nil {
				t.Fatalf("job %s chunk %d: %v", job, c, err)
			}
			if wire.IsCompactResult(m.Data) != want {
				t.Fatalf("job %s chunk %d stored compact=%v, want %v", job, c, !want, want)
			}
			size[want] += len(m.Data)
		}
	}
	t.Logf("700 digits results stored: %d bytes compact, %d as JSON", size[true], size[false])
	if size[true]*4 > size[false] {
		t.Fatalf("compact results %d bytes, JSON %d: not 4 times smaller", size[true], size[false])
	}
	for _, path := range []string{"/v1/jobs/%s/results?format=ndjson", "/v1/jobs/%s/results?offset=0&limit=700",
		"/v1/jobs/%s/results?offset=250&limit=300", "/v1/jobs/%s/output"} {
		a, b := s.readAs(t, path, compact.ID), s.readAs(t, path, asJSON.ID)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s differs:\ncompact %.300s\n   json %.300s", path, a, b)
		}
	}
}

// readAs reads path (a format with the job's id) and returns its body with
// the id replaced, so two jobs' bodies compare.
func (s *System) readAs(t *testing.T, path, id string) []byte {
	t.Helper()
	code, _, body := s.Do(http.MethodGet, fmt.Sprintf(path, id), "", nil, nil)
	if code != http.StatusOK || len(body) < 1000 {
		t.Fatalf("%s: %d %.200s", fmt.Sprintf(path, id), code, body)
	}
	return bytes.ReplaceAll(body, []byte(id), []byte("JOB"))
}

// checkEstimates checks that what each job stored fits what admission
// reserved for its results (a compact estimate would not hold JSON results:
// ~6 times larger).
func (s *System) checkEstimates(t *testing.T, ids ...string) {
	t.Helper()
	jobs := store.NewJobs(s.infra(t))
	for _, id := range ids {
		rec, err := jobs.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("job %s: %d result bytes stored, %d reserved", id, rec.ResultBytes, rec.ResultBytesEst)
		if rec.ResultBytes <= 0 || rec.ResultBytes > rec.ResultBytesEst {
			t.Errorf("job %s stored %d result bytes, admission reserved %d", id, rec.ResultBytes, rec.ResultBytesEst)
		}
	}
}
