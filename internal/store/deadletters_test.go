package store

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"batchinfer/internal/wire"
)

func letter(chunk int, redrive uint64) *wire.DeadLetter {
	return &wire.DeadLetter{Kind: wire.LetterBatch, Tenant: "acme", Job: "j1", Model: "digits", Version: "1", Chunk: chunk, Count: 2,
		Reason: "gave up", Deliveries: 5, DeadAt: time.Now(), Redrive: redrive}
}

// A chunk's run is dead-lettered once: the same run again keeps the first
// letter; a later run (a redrive that died too) has a letter of its own.
// The payload reads back as written, and goes with its letter.
func TestDeadLettersOncePerRun(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	d := NewDeadLetters(in)
	parts := [][]byte{[]byte("part zero"), []byte("part one")}
	first, err := d.Put(ctx, letter(3, 0), parts, 0)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := d.Put(ctx, letter(3, 0), parts, 0); err != nil || again != first {
		t.Fatalf("the same run again: %d, %v; want %d", again, err, first)
	}
	later, err := d.Put(ctx, letter(3, first), parts, 0)
	if err != nil || later == first {
		t.Fatalf("a later run: %d, %v", later, err)
	}
	l, err := d.Get(ctx, first)
	if err != nil || l.Chunk != 3 || l.Parts != 2 || l.Tenant != "acme" {
		t.Fatalf("%+v %v", l, err)
	}
	got, err := d.Parts(ctx, l)
	if err != nil || len(got) != 2 || !bytes.Equal(got[1], parts[1]) {
		t.Fatalf("payload %q, %v", got, err)
	}
	page, next, err := d.List(ctx, wire.DeadLetterFilter("acme", "", "", "j1"), 0, 1)
	if err != nil || len(page) != 1 || page[0].Seq != first || next != later {
		t.Fatalf("first page %+v next %d, %v", page, next, err)
	}
	if err := d.Delete(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Parts(ctx, l); !errors.Is(err, ErrPayloadGone) {
		t.Fatalf("payload of a deleted letter: %v", err)
	}
	if err := d.Delete(ctx, l); !errors.Is(err, ErrLetterNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := d.Get(ctx, first); !errors.Is(err, ErrLetterNotFound) {
		t.Fatalf("deleted letter: %v", err)
	}
	if err := d.PurgeJob(ctx, "j1"); err != nil {
		t.Fatal(err)
	}
	if page, _, err := d.List(ctx, wire.DeadLetterFilter("", "", "", ""), 0, 10); err != nil || len(page) != 0 {
		t.Fatalf("after the job's purge %+v %v", page, err)
	}
}

// One redrive or purge of a letter at a time; a claim left by a holder
// that died is taken over once stale; a redrive's claim says the letter
// was redriven.
func TestDeadLetterClaims(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	d := NewDeadLetters(in)
	seq, err := d.Put(ctx, letter(0, 0), [][]byte{[]byte("x")}, 0)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := d.Get(ctx, seq)
	claim, err := d.Claim(ctx, l, ClaimRedrive, "acme", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var ce *ClaimedError
	if _, err := d.Claim(ctx, l, ClaimPurge, "acme", time.Minute); !errors.As(err, &ce) || ce.Claim.Op != ClaimRedrive {
		t.Fatalf("a second claim: %v", err)
	}
	taken, err := d.Claim(ctx, l, ClaimPurge, "acme", 0) // stale at once
	if err != nil || taken == claim {
		t.Fatalf("take-over: %d, %v", taken, err)
	}
	if c, err := d.Claimed(ctx, seq); err != nil || c == nil || c.Op != ClaimPurge {
		t.Fatalf("claim after the take-over %+v, %v (the one taken over must be gone)", c, err)
	}
	if err := d.Release(ctx, taken); err != nil {
		t.Fatal(err)
	}
	if c, err := d.Claimed(ctx, seq); err != nil || c != nil {
		t.Fatalf("claim after its release %+v, %v", c, err)
	}
}

// A result of a redriven run replaces the stored one of the run before;
// one of an earlier run never replaces a later one.
func TestResultsOfARedrivenRun(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	res := NewResults(in.JS, in.Results)
	dead := &wire.ChunkResult{Job: "j1", Chunk: 2, Failed: 2}
	if _, _, err := res.Put(ctx, dead, dead.AppendJSON(nil)); err != nil {
		t.Fatal(err)
	}
	redriven := &wire.ChunkResult{Job: "j1", Chunk: 2, Done: 2, Redrive: 7}
	if got, _, err := res.Put(ctx, redriven, redriven.AppendJSON(nil)); err != nil || got != redriven {
		t.Fatalf("the redriven run: %+v, %v", got, err)
	}
	late := &wire.ChunkResult{Job: "j1", Chunk: 2, Failed: 2}
	if got, _, err := res.Put(ctx, late, late.AppendJSON(nil)); err != nil || got.Redrive != 7 || got.Done != 2 {
		t.Fatalf("a late result of the run that died: %+v, %v", got, err)
	}
	if err := res.DropStale(ctx, "j1", 2, 7); err != nil {
		t.Fatal(err)
	}
	if cr, _, err := res.Chunk(ctx, "j1", 2); err != nil || cr == nil || cr.Redrive != 7 {
		t.Fatalf("DropStale dropped the run of its own letter: %+v %v", cr, err)
	}
	if err := res.DropStale(ctx, "j1", 2, 9); err != nil {
		t.Fatal(err)
	}
	if cr, _, err := res.Chunk(ctx, "j1", 2); err != nil || cr != nil {
		t.Fatalf("after DropStale of a later letter: %+v %v", cr, err)
	}
}

// A chunk's input in parts reads back raw and is put back as it was.
func TestInputsRawAndRestore(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	inputs := NewInputs(in)
	items := []wire.Item{{Kind: wire.ItemTensor, Data: []byte{1, 2, 3, 4}}, {Kind: wire.ItemImage, Data: []byte("png")}}
	parts := [][]byte{wire.EncodeChunk(nil, items[:1]), wire.EncodeChunk(nil, items[1:])}
	if err := inputs.Restore(ctx, "digits", "1", "j1", 5, parts); err != nil {
		t.Fatal(err)
	}
	if err := inputs.Restore(ctx, "digits", "1", "j1", 5, parts); err != nil { // stored already: not an error
		t.Fatal(err)
	}
	raw, err := inputs.Raw(ctx, "digits", "1", "j1", 5)
	if err != nil || len(raw) != 2 || !bytes.Equal(raw[1], parts[1]) {
		t.Fatalf("raw %q, %v", raw, err)
	}
	got, _, err := inputs.Chunk(ctx, "digits", "1", "j1", 5)
	if err != nil || len(got) != 2 || string(got[1].Data) != "png" {
		t.Fatalf("chunk %+v, %v", got, err)
	}
	if err := inputs.DeleteChunk(ctx, "digits", "1", "j1", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := inputs.Raw(ctx, "digits", "1", "j1", 5); !errors.Is(err, ErrInputGone) {
		t.Fatalf("deleted input: %v", err)
	}
	// Dropped without waiting: gone soon, only that chunk's parts.
	for _, c := range []int{6, 7} {
		if err := inputs.Restore(ctx, "digits", "1", "j1", c, parts); err != nil {
			t.Fatal(err)
		}
	}
	if err := inputs.DropChunk("digits", "1", "j1", 6); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, err := inputs.Raw(ctx, "digits", "1", "j1", 6); !errors.Is(err, ErrInputGone); _, err = inputs.Raw(ctx, "digits", "1", "j1", 6) {
		if time.Now().After(deadline) {
			t.Fatalf("dropped input still there after 5 s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if raw, err := inputs.Raw(ctx, "digits", "1", "j1", 7); err != nil || len(raw) != 2 {
		t.Fatalf("another chunk's input: %d parts, %v", len(raw), err)
	}
}

// A redrive takes the chunk back in the record and enters the finished job
// in its tenant's unfinished set again; a finish that lands after it does
// not take the job out.
func TestJobsRedriveReopens(t *testing.T) {
	in := open(t)
	ctx := context.Background()
	jobs := NewJobs(in)
	rec := &wire.JobRecord{ID: "j1", Tenant: "t1", Model: "digits", Version: "1", Total: 20, Chunks: 2, ChunkSize: 10, State: wire.StateQueued, CreatedAt: time.Now(), RetentionMS: 60_000}
	if err := jobs.Create(ctx, rec); err != nil {
		t.Fatal(err)
	}
	for c := range 2 {
		if err := jobs.Count(ctx, "j1", wire.ChunkCount{Chunk: c, Done: 10 - 10*c, Failed: 10 * c}); err != nil {
			t.Fatal(err)
		}
	}
	finished, _ := jobs.Get(ctx, "j1")
	r, changed, err := jobs.Redrive(ctx, "j1", wire.ChunkCount{Chunk: 1, Failed: 10}, 42)
	if err != nil || !changed || r.Finished() {
		t.Fatalf("%+v %v %v", r, changed, err)
	}
	if err := jobs.Finished(ctx, finished); err != nil { // the worker that finished it, late
		t.Fatal(err)
	}
	if ids, err := jobs.ActiveOf(ctx, "t1"); err != nil || len(ids) != 1 {
		t.Fatalf("unfinished jobs %v, %v: a late finish took the reopened job out", ids, err)
	}
	if _, _, err := jobs.Redrive(ctx, "j1", wire.ChunkCount{Chunk: 0, Done: 10}, 43); err != nil {
		t.Fatal(err) // another chunk, another letter
	}
	if _, _, err := jobs.Redrive(ctx, "j1", wire.ChunkCount{Chunk: 1, Failed: 10}, 44); !errors.Is(err, wire.ErrRedriveState) {
		t.Fatalf("a chunk being redriven, from another letter: %v", err)
	}
	for _, c := range []wire.ChunkCount{{Chunk: 1, Done: 10, Redrive: 42}, {Chunk: 0, Done: 10, Redrive: 43}} {
		if err := jobs.Count(ctx, "j1", c); err != nil {
			t.Fatal(err)
		}
	}
	if r, _ := jobs.Get(ctx, "j1"); !r.Finished() || r.Done != 20 || r.Failed != 0 || r.Redriven != 2 {
		t.Fatalf("after the redriven runs %+v", r)
	}
	if ids, err := jobs.ActiveOf(ctx, "t1"); err != nil || len(ids) != 0 {
		t.Fatalf("unfinished jobs %v, %v", ids, err)
	}
}
