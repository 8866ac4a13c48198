package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"batchinfer/internal/benchcpu"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/wire"
)

// BenchmarkJobsCount measures what counting a chunk into its job record
// costs (a KV get, the record's decoding and encoding, a compare-and-set
// update), as the worker does once per chunk: CPU per chunk and per item
// of a 256-item chunk, the embedded NATS server's included (it runs in
// this process). Jobs of 100,000 items (391 chunks) are counted chunk by
// chunk from one goroutine.
func BenchmarkJobsCount(b *testing.B) {
	in, _ := natstest.Infra(b)
	ctx := context.Background()
	jobs := NewJobs(in)
	const items, size = 100000, 256
	chunks := (items + size - 1) / size
	job, next := "", chunks
	newJob := func(n int) {
		job = fmt.Sprintf("bench%d", n)
		rec := &wire.JobRecord{ID: job, Total: items, Chunks: chunks, ChunkSize: size, State: wire.StateAccepting, CreatedAt: time.Now()}
		if err := jobs.Create(ctx, rec); err != nil {
			b.Fatal(err)
		}
		if _, err := jobs.MarkQueued(ctx, job, items, chunks); err != nil {
			b.Fatal(err)
		}
		next = 0
	}
	b.ReportAllocs()
	n := 0
	cpu := benchcpu.Start()
	for b.Loop() {
		if next == chunks {
			n++
			newJob(n) // counted in: once per 391 chunks
		}
		if err := jobs.Count(ctx, job, wire.ChunkCount{Chunk: next, Done: size, Bytes: 80 << 10}); err != nil {
			b.Fatal(err)
		}
		next++
	}
	cpu.Report(b, b.N, "chunk")
	cpu.Report(b, b.N*size, "item")
}
