package sched

import (
	"cmp"
	"slices"
)

// Scheduling policies (Config.Policy).
const (
	// PolicyFair is weighted fair share (fairQueue): the default.
	PolicyFair = "fair"
	// PolicyFIFO serves a model's jobs in submission order (fifoQueue):
	// what the system did before fair share, kept so that a benchmark can
	// compare both in one run.
	PolicyFIFO = "fifo"
)

// order is the order in which one model version's chunks are sent: weighted
// fair share or first come, first served. Tickets, cursors, leases and
// deduplication are the scheduler's and the same for both.
type order interface {
	// add enters a job; remove takes it out.
	add(j *job)
	remove(j *job)
	// next picks the job whose next chunk goes now, or nil; peek says
	// which it would pick, changing nothing.
	next() *job
	peek() *job
	// ahead estimates the items served before job j's next chunk.
	ahead(j *job) int
	// empty is whether no job is left.
	empty() bool
	// jobs are the jobs entered, in no promised order.
	jobs() []*job
}

// newOrder is the order of policy (fair unless fifo).
func newOrder(policy string) order {
	if policy == PolicyFIFO {
		return &fifoQueue{}
	}
	return newFairQueue()
}

// fifoQueue serves jobs one after the other in submission order (creation
// time, then id), whatever their tenant, weight or priority: one queue,
// first come, first served. A job with nothing to send now (a dataset
// still being read) lets the next one go meanwhile.
type fifoQueue struct {
	q []*job // in submission order
}

func submitted(a, b *job) int {
	if c := a.created.Compare(b.created); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

func (f *fifoQueue) add(j *job) {
	i, _ := slices.BinarySearchFunc(f.q, j, submitted)
	f.q = slices.Insert(f.q, i, j)
}

func (f *fifoQueue) remove(j *job) {
	f.q = slices.DeleteFunc(f.q, func(x *job) bool { return x == j })
}

func (f *fifoQueue) next() *job {
	for _, j := range f.q {
		if j.pending() {
			return j
		}
	}
	return nil
}

func (f *fifoQueue) peek() *job { return f.next() }

// ahead is every item not sent yet of the jobs submitted before j.
func (f *fifoQueue) ahead(j *job) int {
	n := 0
	for _, o := range f.q {
		if o == j {
			break
		}
		n += o.left()
	}
	return n
}

func (f *fifoQueue) empty() bool { return len(f.q) == 0 }

func (f *fifoQueue) jobs() []*job { return f.q }
