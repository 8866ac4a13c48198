package wire

import (
	"errors"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// finishedJob is a job of chunks chunks of 10 items, all counted done but
// chunk dead, counted failed (with a stored result of 300 bytes).
func finishedJob(t *testing.T, chunks, dead int) *JobRecord {
	t.Helper()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	r := &JobRecord{ID: "j1", Total: chunks * 10, Chunks: chunks, ChunkSize: 10, State: StateQueued, RetentionMS: 1000}
	for c := 0; c < chunks; c++ {
		cc := ChunkCount{Chunk: c, Done: 10, Bytes: 100}
		if c == dead {
			cc = ChunkCount{Chunk: c, Failed: 10, Bytes: 300}
		}
		if !r.Count(cc, now) {
			t.Fatalf("chunk %d not counted", c)
		}
	}
	if !r.Finished() || r.FinishedAt == nil || r.ExpiresAt == nil {
		t.Fatalf("job not finished: %+v", r)
	}
	return r
}

// A redrive takes back exactly what was counted for the chunk and opens the
// job again; only the run of the redrive's letter counts then, once.
func TestRedriveTakesBackAndCountsOnce(t *testing.T) {
	for _, tc := range []struct {
		name          string
		chunks, dead  int
		wantUncounted int
	}{
		{"chunk below CountedBelow", 40, 3, 3},
		{"the first chunk", 40, 0, 0},
		{"the last chunk", 40, 39, 39},
		{"a chunk in the bitset", 13, 9, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := finishedJob(t, tc.chunks, tc.dead)
			now := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
			changed, err := r.Redrive(ChunkCount{Chunk: tc.dead, Failed: 10, Bytes: 300}, 77, now)
			if err != nil || !changed {
				t.Fatalf("redrive: %v, %v", changed, err)
			}
			if r.Finished() || r.FinishedAt != nil || r.ExpiresAt != nil || r.Failed != 0 || r.Done != (tc.chunks-1)*10 ||
				r.ResultBytes != int64(tc.chunks-1)*100 || r.Redriven != 1 {
				t.Fatalf("after the redrive %+v", r)
			}
			for c := 0; c < tc.chunks; c++ {
				if r.IsCounted(c) != (c != tc.wantUncounted) {
					t.Fatalf("chunk %d counted %v", c, r.IsCounted(c))
				}
			}
			if got := r.FirstUnsent(); got != tc.chunks {
				t.Errorf("FirstUnsent %d, want %d: the redriven chunk is sent from the redrive list", got, tc.chunks)
			}
			if !r.RedrivePending(tc.dead) || r.Status(now).State != StateRunning {
				t.Fatalf("pending %v, state %s", r.RedrivePending(tc.dead), r.Status(now).State)
			}
			if again, err := r.Redrive(ChunkCount{Chunk: tc.dead}, 77, now); again || err != nil {
				t.Fatalf("the same letter again: %v, %v", again, err)
			}
			if r.Count(ChunkCount{Chunk: tc.dead, Failed: 10}, now) { // the run that died, late
				t.Fatal("a count of the run before the redrive was taken")
			}
			if !r.Count(ChunkCount{Chunk: tc.dead, Done: 10, Bytes: 120, Redrive: 77}, now) {
				t.Fatal("the redriven run was not counted")
			}
			if r.Count(ChunkCount{Chunk: tc.dead, Done: 10, Redrive: 77}, now) {
				t.Fatal("counted twice")
			}
			if !r.Finished() || r.Done != tc.chunks*10 || r.Failed != 0 || r.FinishedAt == nil || r.ExpiresAt == nil ||
				len(r.Redrives) != 0 || r.ResultBytes != int64(tc.chunks-1)*100+120 || r.CountedBelow != tc.chunks-tc.chunks%8 {
				t.Fatalf("after the redriven run %+v", r)
			}
		})
	}
}

func TestRedriveRefusals(t *testing.T) {
	now := time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)
	past := now.Add(-time.Hour)
	for _, tc := range []struct {
		name  string
		edit  func(*JobRecord)
		chunk int
		want  error
	}{
		{"expired", func(r *JobRecord) { r.State = StateExpired }, 1, ErrRedriveExpired},
		{"failed", func(r *JobRecord) { r.State, r.Error = StateFailed, "boom" }, 1, ErrRedriveEnded},
		{"cancelled", func(r *JobRecord) { r.CancelledAt = &past }, 1, ErrRedriveEnded},
		{"deadline passed", func(r *JobRecord) { r.Deadline = &past }, 1, ErrRedriveEnded},
		{"skipped", func(r *JobRecord) { from := 1; r.SkipFrom = &from }, 1, ErrRedriveEnded},
		{"not counted", func(r *JobRecord) { r.Counted, r.CountedBelow = []byte{0b101}, 0 }, 1, ErrRedriveState},
		{"unknown chunk", func(*JobRecord) {}, 99, ErrRedriveState},
		{"another letter's redrive", func(r *JobRecord) { r.Redrives = []ChunkRedrive{{Chunk: 1, Letter: 5}} }, 1, ErrRedriveState},
		{"too many redrives", func(r *JobRecord) {
			for k := 0; k < MaxPendingRedrives; k++ {
				r.Redrives = append(r.Redrives, ChunkRedrive{Chunk: 1000 + k, Letter: uint64(k + 1)})
			}
		}, 1, ErrRedriveState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := finishedJob(t, 3, 1)
			tc.edit(r)
			before := string(Marshal(r))
			changed, err := r.Redrive(ChunkCount{Chunk: tc.chunk, Failed: 10}, 9, now)
			if changed || !errors.Is(err, tc.want) {
				t.Fatalf("changed %v, err %v; want %v", changed, err, tc.want)
			}
			if string(Marshal(r)) != before {
				t.Fatal("a refused redrive changed the record")
			}
		})
	}
}

// A chunk counted without a stored result leaves its unstored span.
func TestRedriveLeavesUnstoredSpan(t *testing.T) {
	for _, tc := range []struct {
		spans []ChunkSpan
		chunk int
		want  []ChunkSpan
	}{
		{[]ChunkSpan{{From: 2, To: 3, Reason: "full"}}, 2, nil},
		{[]ChunkSpan{{From: 2, To: 5, Reason: "full"}}, 2, []ChunkSpan{{From: 3, To: 5, Reason: "full"}}},
		{[]ChunkSpan{{From: 2, To: 5, Reason: "full"}}, 4, []ChunkSpan{{From: 2, To: 4, Reason: "full"}}},
		{[]ChunkSpan{{From: 2, To: 5, Reason: "full"}}, 3, []ChunkSpan{{From: 2, To: 3, Reason: "full"}, {From: 4, To: 5, Reason: "full"}}},
	} {
		r := finishedJob(t, 6, 0)
		r.Unstored = tc.spans
		if _, err := r.Redrive(ChunkCount{Chunk: tc.chunk, Done: 10}, 3, time.Now()); err != nil {
			t.Fatal(err)
		}
		if len(r.Unstored)+len(tc.want) > 0 && string(Marshal(r.Unstored)) != string(Marshal(tc.want)) {
			t.Errorf("chunk %d of %v: %v, want %v", tc.chunk, tc.spans, r.Unstored, tc.want)
		}
	}
}

// A job stopped while a redriven chunk waits for its ticket counts the
// chunk as skipped: the job still ends, each item once.
func TestSkipEndsPendingRedrives(t *testing.T) {
	r := finishedJob(t, 4, 2)
	now := time.Now()
	if _, err := r.Redrive(ChunkCount{Chunk: 2, Failed: 10}, 8, now); err != nil {
		t.Fatal(err)
	}
	if !r.Skip(r.FirstUnsent(), "job cancelled", now) {
		t.Fatal("skip changed nothing")
	}
	if !r.Finished() || r.Skipped != 10 || r.Done != 30 || len(r.Redrives) != 0 || !r.IsCounted(2) {
		t.Fatalf("after the skip %+v", r)
	}
	if reason, skipped := r.UnstoredReason(2); reason != "job cancelled" || !skipped {
		t.Fatalf("chunk 2: %q %v", reason, skipped)
	}
	if r.Count(ChunkCount{Chunk: 2, Done: 10, Redrive: 8}, now) {
		t.Fatal("the redriven run counted after the skip")
	}
}

func TestDeadLetterHeaderRoundTrip(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, l := range []DeadLetter{
		{Kind: LetterBatch, Tenant: "acme", Job: "j1", Model: "digits", Version: "1", Chunk: 7, Start: 1792, Count: 256,
			Reason: "gave up", Deliveries: 5, DeadAt: at, Data: "KEY", Parts: 2, Redrive: 41},
		{Kind: LetterSync, Job: SyncJob, Model: "digits", Version: "1", Count: 3, Reason: "x", Deliveries: 1, DeadAt: at, Data: "K2", Parts: 1},
	} {
		got, err := ParseDeadLetter(l.Subject(), l.Header(), 12)
		l.Seq = 12
		if err != nil || *got != l {
			t.Fatalf("%+v\n got %+v (%v)", l, got, err)
		}
	}
	l := DeadLetter{Kind: LetterBatch, Tenant: "acme", Job: "j1", Model: "digits", Version: "1", Data: "K", Parts: 1}
	for _, bad := range []struct {
		subject string
		hdr     nats.Header
	}{
		{"dlq.webhook.acme.j1.completed", l.Header()},
		{"dlq.infer.other.digits.1.j1.0", l.Header()}, // headers of another subject
		{l.Subject(), nats.Header{}},
	} {
		if _, err := ParseDeadLetter(bad.subject, bad.hdr, 1); !errors.Is(err, ErrNotLetter) {
			t.Errorf("%s %v: %v", bad.subject, bad.hdr, err)
		}
	}
	if DeadLetterFilter("", "digits", "", "") != "dlq.infer.*.digits.*.*.*" || !ValidToken("j1") || ValidToken("a.b") || ValidToken("*") || ValidToken("") {
		t.Fatal("filters")
	}
}
