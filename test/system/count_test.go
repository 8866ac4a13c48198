package system

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/worker"

	"github.com/nats-io/nats.go"
)

// A worker holding more chunks of a job counts them into the job record
// together (WORKER_COUNT_BATCH, 2 by default): a 40-chunk job is counted
// in about 20 record writes (at most 30 here), where one per chunk (WORKER_COUNT_LINGER
// negative) takes 40; every item is counted once either way.
func TestChunksCountedTogether(t *testing.T) {
	const items, chunks = 400, 40 // smallChunks: 10 items a chunk
	for _, tc := range []struct {
		name        string
		linger      time.Duration
		least, most int // record writes that count items
	}{
		{name: "two per write", linger: time.Second, least: chunks / 2, most: chunks * 3 / 4},
		{name: "one per write", linger: -1, least: chunks, most: chunks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Start(t, Options{Gateway: smallChunks, Worker: func(c *worker.Config) { c.CountLinger = tc.linger }})
			writes := s.watchRecords(t)
			inputs, _ := DigitInputs(t, items)
			job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
			if st := s.waitJob(t, job.ID, 30*time.Second); st.Done != items {
				t.Fatalf("job: %+v, want %d items done", st, items)
			}
			counted := 0
			prev := 0
			for _, r := range writes(job.ID) {
				if r.Done+r.Failed > prev {
					counted++
					prev = r.Done + r.Failed
				}
			}
			t.Logf("%d record writes counted the %d chunks", counted, chunks)
			if counted < tc.least || counted > tc.most {
				t.Fatalf("%d record writes counted the %d chunks: want %d to %d", counted, chunks, tc.least, tc.most)
			}
		})
	}
}

// watchRecords follows every job record write as a core subscriber sees
// it; the returned func gives one job's, in order.
func (s *System) watchRecords(t *testing.T) func(job string) []wire.JobRecord {
	t.Helper()
	nc := s.natsConn(t)
	t.Cleanup(nc.Close)
	var mu sync.Mutex
	seen := map[string][]wire.JobRecord{}
	_, err := nc.Subscribe("$KV."+wire.BucketJobs+".>", func(m *nats.Msg) {
		var r wire.JobRecord
		if json.Unmarshal(m.Data, &r) != nil {
			return
		}
		mu.Lock()
		seen[r.ID] = append(seen[r.ID], r)
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return func(job string) []wire.JobRecord {
		mu.Lock()
		defer mu.Unlock()
		return append([]wire.JobRecord(nil), seen[job]...)
	}
}
