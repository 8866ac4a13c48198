package main

import (
	"strings"
	"testing"

	"batchinfer/api"
)

func TestMeasureFindsThePausesAfterAFault(t *testing.T) {
	arrivals := []int64{100, 200, 300, 1300, 1400, 4400, 4500, 4600}
	// Up to a limit that is not the job's end, a pause to the end fails.
	if _, err := measure(fault{At: 250, Name: "kill"}, arrivals, 10_000, false, 1000); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("a pause to the end of the window: %v", err)
	}
	// Marks 250 (fault), 300, 1300, 1400, 4400, 4500, 4600: pauses
	// 300 -> 1300 and 1400 -> 4400, so results flow for good from 4400,
	// 4150 ms after the fault.
	s, err := measure(fault{At: 250, Name: "kill"}, arrivals, 4600, true, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if s.LongestGapMs != 3000 || s.Pauses != 2 || s.ResumeMs != 4150 || s.ChunksInWindow != 6 {
		t.Fatalf("%+v", s)
	}
	// No pause: resumed with the first result after the fault.
	s, err = measure(fault{At: 4450, Name: "rejoin"}, arrivals, 4600, true, 1000)
	if err != nil || s.ResumeMs != 50 || s.Pauses != 0 {
		t.Fatalf("%+v %v", s, err)
	}
	if _, err := measure(fault{At: 5000, Name: "late"}, arrivals, 6000, true, 1000); err == nil {
		t.Fatal("a fault after the last result must fail")
	}
}

func TestTallyCountsLossDuplicatesAndSeqGaps(t *testing.T) {
	tl := newTally(4)
	msg := func(chunk int, idx ...int) *api.ChunkResult {
		m := &api.ChunkResult{Chunk: chunk}
		for _, i := range idx {
			m.Items = append(m.Items, api.ItemResult{Index: i})
		}
		return m
	}
	tl.add(10, msg(0, 0, 1))
	tl.add(12, msg(1, 1)) // seq 11 skipped, index 1 again, 2 and 3 never
	tl.state, tl.endSeq, tl.done = "completed", 12, 4
	f := &follower{job: "j"}
	s := tl.summary(f)
	if s.Lost != 2 || s.Duplicated != 1 || s.SeqGaps != 1 || s.FirstSeq != 10 || s.LastSeq != 12 {
		t.Fatalf("%+v", s)
	}
	if err := s.check(true); err == nil {
		t.Fatal("check passed")
	}
	ok := newTally(2)
	ok.add(5, msg(0, 0))
	ok.add(6, msg(1, 1))
	ok.state, ok.endSeq, ok.done = "completed", 6, 2
	if err := ok.summary(f).check(true); err != nil {
		t.Fatal(err)
	}
}
