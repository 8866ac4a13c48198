package worker

import "batchinfer/internal/wire"

// queue holds the chunks whose items are not all in a batch yet:
// synchronous ones first, each kind in arrival order, except that a batch
// chunk goes ahead of the chunks not started yet of jobs that have more
// chunks in the queue than its job: a job's second chunk here waits for
// every other job's first (round robin by rank), and a newcomer's chunk
// (wire.PriorityFirst) goes ahead of every other job's. A job arriving
// while a large one fills the worker's held chunks thus starts with the
// next batch instead of after all of them, and one job alone (every chunk
// ranked by arrival) keeps arrival order. It is the batcher's alone (no
// locking).
type queue struct {
	tasks   []*task
	pending int // items not yet in a batch
}

// push adds a chunk behind the others of its kind (a batch chunk: of its
// rank or lower).
func (q *queue) push(t *task) {
	n := len(t.items) - t.next
	if n == 0 {
		return
	}
	i := len(q.tasks)
	if t.priority == wire.PrioritySync {
		i = 0
		for i < len(q.tasks) && q.tasks[i].priority == wire.PrioritySync {
			i++
		}
	} else {
		t.rank = 0
		for _, o := range q.tasks {
			if o.job == t.job && o.priority != wire.PrioritySync {
				t.rank++
			}
		}
		for i > 0 && q.tasks[i-1].priority != wire.PrioritySync && q.passes(t, q.tasks[i-1]) {
			i--
		}
	}
	q.tasks = append(q.tasks[:i], append([]*task{t}, q.tasks[i:]...)...)
	q.pending += n
}

// passes says whether batch chunk t goes ahead of o, queued before it: a
// chunk not started yet of a job of a higher rank, or, for a newcomer's
// chunk (wire.PriorityFirst), any chunk of another job, started or not (its
// items go into the next batch: it does not wait for the chunk running).
// A job's own chunks are never passed.
func (q *queue) passes(t, o *task) bool {
	switch {
	case o.job == t.job:
		return false
	case t.priority == wire.PriorityFirst:
		return true
	}
	return o.next == 0 && o.rank > t.rank
}

// headIsSync says whether the next items are synchronous ones.
func (q *queue) headIsSync() bool {
	return len(q.tasks) > 0 && q.tasks[0].priority == wire.PrioritySync
}

// take hands the next items, in queue order, to add until it has taken max
// (add reports whether the item took a row); with syncOnly it stops at the
// first batch chunk. It returns the chunks all of whose items are now in a
// batch, oldest first.
func (q *queue) take(max int, syncOnly bool, add func(t *task, i int) bool) (scheduled []*task) {
	rows := 0
	for len(q.tasks) > 0 && rows < max {
		t := q.tasks[0]
		if syncOnly && t.priority != wire.PrioritySync {
			break
		}
		for t.next < len(t.items) && rows < max {
			i := t.next
			t.next++
			q.pending--
			if add(t, i) {
				rows++
			}
		}
		if t.next == len(t.items) {
			q.tasks = q.tasks[1:]
			scheduled = append(scheduled, t)
		}
	}
	return scheduled
}

// drop removes t's items not yet in a batch (its chunk is given back).
func (q *queue) drop(t *task) {
	for i, x := range q.tasks {
		if x == t {
			q.pending -= len(t.items) - t.next
			t.next = len(t.items)
			q.tasks = append(q.tasks[:i], q.tasks[i+1:]...)
			return
		}
	}
}
