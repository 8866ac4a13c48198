package worker

import (
	"strings"
	"testing"

	"batchinfer/internal/wire"
)

// The queue's order: synchronous chunks first; a batch chunk goes ahead of
// the chunks not started yet of jobs with more chunks in the queue (round
// robin by rank); a started chunk keeps its place, except before a
// newcomer's chunk (the newcomers' queue), which goes ahead of every other
// job's batch chunk but never of its own job's.
func TestQueueOrder(t *testing.T) {
	const s, b, f = wire.PrioritySync, wire.PriorityBatch, wire.PriorityFirst
	type push struct {
		name, job string
		prio      string
		started   bool // items taken before the next push
	}
	for _, tc := range []struct {
		name   string
		pushes []push
		want   string
	}{
		{"one job keeps arrival order",
			[]push{{"a1", "a", b, false}, {"a2", "a", b, false}, {"a3", "a", b, false}}, "a1 a2 a3"},
		{"a newcomer goes ahead of a job's second chunk",
			[]push{{"a1", "a", b, false}, {"a2", "a", b, false}, {"b1", "b", b, false}}, "a1 b1 a2"},
		{"and of its third",
			[]push{{"a1", "a", b, false}, {"a2", "a", b, false}, {"a3", "a", b, false}, {"b1", "b", b, false}}, "a1 b1 a2 a3"},
		{"not ahead of a started chunk",
			[]push{{"a1", "a", b, false}, {"a2", "a", b, true}, {"b1", "b", b, false}}, "a2 b1"},
		{"two jobs alternate",
			[]push{{"a1", "a", b, false}, {"a2", "a", b, false}, {"b1", "b", b, false}, {"b2", "b", b, false}}, "a1 b1 a2 b2"},
		{"sync first, then batch by rank",
			[]push{{"a1", "a", b, false}, {"a2", "a", b, false}, {"s", wire.SyncJob, s, false}, {"b1", "b", b, false}}, "s a1 b1 a2"},
		{"a newcomer's chunk goes ahead of a started one",
			[]push{{"a1", "a", b, false}, {"a2", "a", b, true}, {"b1", "b", f, false}}, "b1 a2"},
		{"and of every other job's, behind sync",
			[]push{{"a1", "a", b, false}, {"c1", "c", b, false}, {"s", wire.SyncJob, s, false}, {"b1", "b", f, false}}, "s b1 a1 c1"},
		{"but not of its own job's",
			[]push{{"a1", "a", b, false}, {"b1", "b", b, false}, {"b2", "b", f, false}}, "a1 b1 b2"},
		{"then the next jobs by rank",
			[]push{{"a1", "a", b, false}, {"a2", "a", b, false}, {"b1", "b", f, false}, {"c1", "c", b, false}}, "b1 a1 c1 a2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q queue
			names := map[*task]string{}
			for _, p := range tc.pushes {
				tk := &task{job: p.job, priority: p.prio, items: make([]wire.Item, 2)}
				names[tk] = p.name
				q.push(tk)
				if p.started { // the batcher took the head chunk's first item (and finished those before it)
					q.take(len(q.tasks)*2-1, false, func(*task, int) bool { return true })
				}
			}
			var got []string
			for _, x := range q.tasks {
				got = append(got, names[x])
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("queue %q, want %q", g, tc.want)
			}
			if q.pending != 2*len(q.tasks)-startedItems(q.tasks) {
				t.Fatalf("pending %d for %d chunks", q.pending, len(q.tasks))
			}
		})
	}
}

func startedItems(ts []*task) int {
	n := 0
	for _, t := range ts {
		n += t.next
	}
	return n
}
