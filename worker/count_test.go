package worker

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
)

// countJob creates a queued job of chunks 256-item chunks and returns its id.
func countJob(t *testing.T, jobs *store.Jobs, name string, chunks int) string {
	t.Helper()
	ctx := context.Background()
	rec := &wire.JobRecord{ID: name, Total: chunks * 256, Chunks: chunks, ChunkSize: 256, State: wire.StateAccepting, CreatedAt: time.Now()}
	if err := jobs.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := jobs.MarkQueued(ctx, name, chunks*256, chunks); err != nil {
		t.Fatal(err)
	}
	return name
}

// revision is the job record's revision: one more per write.
func revision(t *testing.T, in *natsx.Infra, job string) uint64 {
	t.Helper()
	e, err := in.Buckets.Jobs.Get(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	return e.Revision()
}

// testMost is the most chunks a test's counter writes at once.
const testMost = 8

// TestCounter checks when the counter writes a job's counts, and in how
// many record writes, against a real JetStream job bucket.
func TestCounter(t *testing.T) {
	in, _ := natstest.Infra(t)
	jobs := store.NewJobs(in)
	never := func() bool { return false }
	cases := []struct {
		name   string
		linger time.Duration
		chunks int
		more   bool // another chunk of the job held while each is added
		close  bool // the counter is closed after the adds
		// writes is how many record writes the counts take; atOnce: each
		// add is written before the next is made (it waits for nothing).
		writes int
		atOnce bool
		unit   int // the counter's unit (0: none)
	}{
		{name: "no other chunk held: each counted at once", linger: time.Hour, chunks: 3, writes: 3, atOnce: true},
		{name: "others held: counted together after linger", linger: 100 * time.Millisecond, chunks: 5, more: true, writes: 1},
		{name: "linger negative: each counted on its own", linger: -1, chunks: 3, more: true, writes: 3, atOnce: true},
		{name: "more than a write takes: two writes", linger: time.Hour, chunks: testMost + 1, more: true, close: true, writes: 2},
		{name: "closing counts what waits at once", linger: time.Hour, chunks: 4, more: true, close: true, writes: 1},
		{name: "chunks of two units: half as many per write", linger: time.Hour, chunks: 8, more: true, unit: 128, writes: 2},
		{name: "chunks of most units or more: one per write", linger: time.Hour, chunks: 3, more: true, unit: 256 / testMost, writes: 3, atOnce: true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounter(jobs, in.Epoch, tc.linger, testMost, tc.unit, never)
			job := countJob(t, jobs, fmt.Sprintf("count%d", i), tc.chunks)
			before := revision(t, in, job)
			done := make(chan error, tc.chunks)
			more := func() bool { return tc.more }
			for k := range tc.chunks {
				c.add(job, counting{c: wire.ChunkCount{Chunk: k, Done: 256, Bytes: 100}, more: more, done: func(err error) { done <- err }})
				if tc.atOnce {
					waitDone(t, done, 1)
				}
			}
			if tc.close {
				c.close()
			}
			if !tc.atOnce {
				waitDone(t, done, tc.chunks)
			}
			c.close()
			if got := revision(t, in, job) - before; got != uint64(tc.writes) {
				t.Errorf("record writes: got %d, want %d", got, tc.writes)
			}
			rec, err := jobs.Get(context.Background(), job)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Done != tc.chunks*256 || !rec.Finished() {
				t.Errorf("record: done %d of %d, state %s: want every item counted, the job finished", rec.Done, tc.chunks*256, rec.State)
			}
		})
	}
}

// TestCounterLingers checks that a chunk whose job has another held waits
// about linger, not longer, when no other chunk comes.
func TestCounterLingers(t *testing.T) {
	in, _ := natstest.Infra(t)
	jobs := store.NewJobs(in)
	const linger = 150 * time.Millisecond
	c := newCounter(jobs, in.Epoch, linger, testMost, 0, func() bool { return false })
	defer c.close()
	job := countJob(t, jobs, "linger", 2)
	done := make(chan error, 1)
	start := time.Now()
	c.add(job, counting{c: wire.ChunkCount{Chunk: 0, Done: 256}, more: func() bool { return true }, done: func(err error) { done <- err }})
	waitDone(t, done, 1)
	if took := time.Since(start); took < linger {
		t.Errorf("counted after %s: want at least the linger, %s", took, linger)
	}
}

// TestCounterKilled checks that a killed worker's counter writes nothing
// and reports nothing (the chunks come back after their lease).
func TestCounterKilled(t *testing.T) {
	in, _ := natstest.Infra(t)
	jobs := store.NewJobs(in)
	var killed atomic.Bool
	c := newCounter(jobs, in.Epoch, time.Hour, testMost, 0, killed.Load)
	job := countJob(t, jobs, "killed", 2)
	before := revision(t, in, job)
	var reported atomic.Int32
	c.add(job, counting{c: wire.ChunkCount{Chunk: 0, Done: 256}, more: func() bool { return true }, done: func(error) { reported.Add(1) }})
	killed.Store(true)
	c.close()
	if got := revision(t, in, job) - before; got != 0 || reported.Load() != 0 {
		t.Errorf("killed: %d record writes, %d chunks reported; want none", got, reported.Load())
	}
}

// waitDone waits for n counts to be reported, each without error.
func waitDone(t *testing.T, done <-chan error, n int) {
	t.Helper()
	for range n {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a count was not reported within 10s")
		}
	}
}

// TestLeasesOthers checks which held chunks make a chunk linger: another
// of its job, not yet being counted.
func TestLeasesOthers(t *testing.T) {
	counted := func(tk *task) *task { tk.counting.Store(true); return tk }
	cases := []struct {
		name  string
		other *task // held beside a chunk of job "a" (nil: none)
		want  bool
	}{
		{name: "alone", want: false},
		{name: "another chunk of the job", other: &task{job: "a", chunk: 1}, want: true},
		{name: "another job's chunk", other: &task{job: "b", chunk: 1}, want: false},
		{name: "another chunk of the job, being counted", other: counted(&task{job: "a", chunk: 1}), want: false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLeases()
			me := &task{job: "a"}
			l.hold(me)
			if tc.other != nil {
				l.hold(tc.other)
			}
			if got := l.others(me); got != tc.want {
				t.Errorf("others: got %v, want %v", got, tc.want)
			}
		})
	}
}
