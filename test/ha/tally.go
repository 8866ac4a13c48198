package main

import (
	"errors"
	"fmt"

	"batchinfer/api"
)

// tally counts what the follower received.
type tally struct {
	total        int
	seen         []uint8 // deliveries of each item index
	outOfRange   int
	itemErrors   int
	chunks       map[int]int
	firstSeq     uint64
	lastSeq      uint64
	seqBackwards int    // a results message whose seq is not above the last
	seqGaps      uint64 // seqs skipped between consecutive results messages
	messages     int
	reconnects   int
	endSeq       uint64
	state        string
	done, failed int
}

func newTally(total int) tally {
	return tally{total: total, seen: make([]uint8, total), chunks: map[int]int{}}
}

// add counts one results message: its sequence and chunk.
func (t *tally) add(seq uint64, m *api.ChunkResult) {
	t.messages++
	switch {
	case t.lastSeq == 0:
		t.firstSeq = seq
	case seq <= t.lastSeq:
		t.seqBackwards++
	default:
		t.seqGaps += seq - t.lastSeq - 1
	}
	if seq > t.lastSeq {
		t.lastSeq = seq
	}
	t.chunks[m.Chunk]++
	for _, it := range m.Items {
		if it.Index < 0 || it.Index >= t.total {
			t.outOfRange++
			continue
		}
		if t.seen[it.Index] < 255 {
			t.seen[it.Index]++
		}
		if it.Error != "" {
			t.itemErrors++
		}
	}
}

// summary is the follower's verdict, printed as JSON.
type summary struct {
	Job             string  `json:"job"`
	State           string  `json:"state"`
	Total           int     `json:"total"`
	Received        int     `json:"received_items"`
	Lost            int     `json:"lost"`
	Duplicated      int     `json:"duplicated"`
	OutOfRange      int     `json:"out_of_range"`
	ItemErrors      int     `json:"item_errors"`
	Chunks          int     `json:"chunks"`
	ChunkRepeats    int     `json:"chunk_repeats"`
	ResultsMessages int     `json:"results_messages"`
	FirstSeq        uint64  `json:"first_seq"`
	LastSeq         uint64  `json:"last_seq"`
	EndLastSeq      uint64  `json:"end_last_seq"`
	EndDone         int     `json:"end_done"`
	EndFailed       int     `json:"end_failed"`
	SeqBackwards    int     `json:"seq_backwards"`
	SeqGaps         uint64  `json:"seq_gaps"`
	Reconnects      int     `json:"reconnects"`
	JobSeconds      float64 `json:"job_seconds"`
	ItemsPerSecond  float64 `json:"items_per_second"`
}

func (t *tally) summary(f *follower) summary {
	s := summary{Job: f.job, State: t.state, Total: t.total, OutOfRange: t.outOfRange, ItemErrors: t.itemErrors,
		Chunks: len(t.chunks), ResultsMessages: t.messages, FirstSeq: t.firstSeq, LastSeq: t.lastSeq,
		EndLastSeq: t.endSeq, EndDone: t.done, EndFailed: t.failed, SeqBackwards: t.seqBackwards, SeqGaps: t.seqGaps, Reconnects: t.reconnects}
	for _, n := range t.seen {
		switch {
		case n == 0:
			s.Lost++
		case n > 1:
			s.Duplicated += int(n) - 1
		}
		s.Received += int(n)
	}
	for _, n := range t.chunks {
		s.ChunkRepeats += n - 1
	}
	if !f.ended.IsZero() {
		s.JobSeconds = f.ended.Sub(f.start).Seconds()
		s.ItemsPerSecond = float64(t.total) / s.JobSeconds
	}
	return s
}

// check: the job completed, every item exactly once, seqs rising and (with
// contiguous) without a gap, the last one the end's.
func (s summary) check(contiguous bool) error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if s.State != "completed" {
		fail("job %s ended %q, want completed", s.Job, s.State)
	}
	if s.Lost > 0 || s.Duplicated > 0 || s.OutOfRange > 0 {
		fail("%d items lost, %d duplicated, %d out of range", s.Lost, s.Duplicated, s.OutOfRange)
	}
	if s.ItemErrors > 0 || s.EndFailed > 0 || s.EndDone != s.Total {
		fail("%d items failed (end: %d done, %d failed of %d)", s.ItemErrors, s.EndDone, s.EndFailed, s.Total)
	}
	if s.ChunkRepeats > 0 || s.SeqBackwards > 0 {
		fail("%d chunks repeated, %d seqs not rising", s.ChunkRepeats, s.SeqBackwards)
	}
	if contiguous && s.SeqGaps > 0 {
		fail("%d seqs missing between %d and %d", s.SeqGaps, s.FirstSeq, s.LastSeq)
	}
	if s.EndLastSeq != s.LastSeq {
		fail("end says last seq %d, the follower's last is %d", s.EndLastSeq, s.LastSeq)
	}
	return errors.Join(errs...)
}
