package worker

import (
	"strings"
	"testing"

	"batchinfer/internal/wire"
)

// The queue's order: synchronous chunks first; a batch chunk goes ahead of
// the chunks not started yet of jobs with more chunks in the queue (round
// robin by rank); a started chunk keeps its place.
func TestQueueOrder(t *testing.T) {
	type push struct {
		name, job string
		sync      bool
		started   bool // items taken before the next push
	}
	for _, tc := range []struct {
		name   string
		pushes []push
		want   string
	}{
		{"one job keeps arrival order",
			[]push{{"a1", "a", false, false}, {"a2", "a", false, false}, {"a3", "a", false, false}}, "a1 a2 a3"},
		{"a newcomer goes ahead of a job's second chunk",
			[]push{{"a1", "a", false, false}, {"a2", "a", false, false}, {"b1", "b", false, false}}, "a1 b1 a2"},
		{"and of its third",
			[]push{{"a1", "a", false, false}, {"a2", "a", false, false}, {"a3", "a", false, false}, {"b1", "b", false, false}}, "a1 b1 a2 a3"},
		{"not ahead of a started chunk",
			[]push{{"a1", "a", false, false}, {"a2", "a", false, true}, {"b1", "b", false, false}}, "a2 b1"},
		{"two jobs alternate",
			[]push{{"a1", "a", false, false}, {"a2", "a", false, false}, {"b1", "b", false, false}, {"b2", "b", false, false}}, "a1 b1 a2 b2"},
		{"sync first, then batch by rank",
			[]push{{"a1", "a", false, false}, {"a2", "a", false, false}, {"s", wire.SyncJob, true, false}, {"b1", "b", false, false}}, "s a1 b1 a2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var q queue
			names := map[*task]string{}
			for _, p := range tc.pushes {
				tk := &task{job: p.job, priority: wire.PriorityBatch, items: make([]wire.Item, 2)}
				if p.sync {
					tk.priority = wire.PrioritySync
				}
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
