package sched

import (
	"slices"
	"time"

	"batchinfer/internal/wire"

	"go.opentelemetry.io/otel/trace"
)

// Priorities within a tenant, served in this order.
const (
	PriorityHigh   = "high"
	PriorityNormal = "normal"
	PriorityLow    = "low"
)

// priorityRank orders priorities: lower is served first.
func priorityRank(p string) int {
	switch p {
	case PriorityHigh:
		return 0
	case PriorityLow:
		return 2
	}
	return 1
}

// job is what the scheduler knows of an unfinished job.
type job struct {
	id, tenant string
	model      string // name:version
	name       string
	version    string
	rank       int     // priority rank
	weight     float64 // its tenant's weight
	chunkSize  int
	total      int // items (when queued)
	chunks     int // chunks that may be sent (all of them once queued)
	next       int // next chunk to send
	pass       float64
	created    time.Time
	deadline   time.Time
	// stopped: cancelled, failed or past its deadline: nothing more is sent.
	stopped bool
	// deadlined: stopped by its deadline; skipped: its chunks never sent
	// are recorded as skipped (or it failed as a whole).
	deadlined, skipped bool
	idle               bool  // had nothing to send at the last pick
	ended              bool  // its end was counted (metrics)
	redo               []int // chunks whose ticket must be sent again
	// trace is the job's trace context (its record's), carried by its
	// tickets; sc the same parsed (invalid: none).
	trace map[string]string
	sc    trace.SpanContext
	// redrives are the chunks redriven from a dead letter (chunk to letter)
	// whose tickets were queued to send: each carries its letter.
	redrives map[int]uint64
}

// redriven queues the tickets of the job's redriven chunks not queued yet.
func (j *job) redriven(rs []wire.ChunkRedrive) {
	for _, r := range rs {
		if j.redrives[r.Chunk] == r.Letter {
			continue
		}
		if j.redrives == nil {
			j.redrives = map[int]uint64{}
		}
		j.redrives[r.Chunk] = r.Letter
		j.redo = append(j.redo, r.Chunk)
	}
}

// pending is whether the job has chunks to send.
func (j *job) pending() bool { return !j.stopped && (len(j.redo) > 0 || j.next < j.chunks) }

// fresh is whether none of the job's chunks was sent yet.
func (j *job) fresh() bool { return j.next == 0 && len(j.redo) == 0 }

// take is the chunk to send now: one to send again first, else the next.
func (j *job) take() int {
	if n := len(j.redo); n > 0 {
		c := j.redo[n-1]
		j.redo = j.redo[:n-1]
		return c
	}
	j.next++
	return j.next - 1
}

// peek is the chunk take would give.
func (j *job) peek() int {
	if n := len(j.redo); n > 0 {
		return j.redo[n-1]
	}
	return j.next
}

// items of chunk c.
func (j *job) chunkItems(c int) int { return max(1, min(j.chunkSize, j.total-c*j.chunkSize)) }

// left is the items not sent yet.
func (j *job) left() int {
	if !j.pending() {
		return 0
	}
	return max(0, j.total-j.next*j.chunkSize)
}

// tenant is one tenant's share of a model's queue.
type tenant struct {
	name   string
	weight float64
	pass   float64 // weighted items served: the lowest is served next
	jobs   []*job
	idle   bool // had nothing to send at the last pick
}

// fairQueue orders the chunks of one model version's jobs by weighted fair
// share: between tenants in proportion to their weights (the tenant with
// the least weighted service goes next), within a tenant by priority, and
// between a tenant's jobs of one priority equally, so that a small job is
// never stuck behind a large one. A tenant or job that was idle starts at
// the current level, not with credit saved while idle.
type fairQueue struct {
	tenants map[string]*tenant
	vtime   float64 // the pass of the last tenant served
}

func newFairQueue() *fairQueue { return &fairQueue{tenants: map[string]*tenant{}} }

// add enters a job (its tenant joins at the current level).
func (q *fairQueue) add(j *job) {
	t := q.tenants[j.tenant]
	if t == nil {
		t = &tenant{name: j.tenant, weight: j.weight, pass: q.vtime}
		q.tenants[j.tenant] = t
	}
	if !t.active() {
		t.pass = max(t.pass, q.vtime)
	}
	t.weight = max(j.weight, 1e-6)
	j.pass = t.level(j.rank, nil)
	t.jobs = append(t.jobs, j)
}

// empty is whether no job is left.
func (q *fairQueue) empty() bool { return len(q.tenants) == 0 }

// jobs are the jobs entered, tenant by tenant.
func (q *fairQueue) jobs() []*job {
	var out []*job
	for _, t := range q.tenants {
		out = append(out, t.jobs...)
	}
	return out
}

// remove takes a job out.
func (q *fairQueue) remove(j *job) {
	t := q.tenants[j.tenant]
	if t == nil {
		return
	}
	t.jobs = slices.DeleteFunc(t.jobs, func(x *job) bool { return x == j })
	if len(t.jobs) == 0 {
		delete(q.tenants, j.tenant)
	}
}

// before breaks a tie of passes: a tenant with a newcomer (a job none of
// whose chunks was sent) first, so that a tenant joining at the current
// level does not wait for the others' next chunks; then by name.
func (t *tenant) before(o *tenant) bool {
	if tf, of := t.hasFresh(), o.hasFresh(); tf != of {
		return tf
	}
	return t.name < o.name
}

// hasFresh is whether one of the tenant's pending jobs is a newcomer.
func (t *tenant) hasFresh() bool {
	for _, j := range t.jobs {
		if j.pending() && j.fresh() {
			return true
		}
	}
	return false
}

// before breaks a tie of passes between two jobs of a tenant: a newcomer
// first, then by id.
func (j *job) before(o *job) bool {
	if jf, of := j.fresh(), o.fresh(); jf != of {
		return jf
	}
	return j.id < o.id
}

// active is whether the tenant has a chunk to send.
func (t *tenant) active() bool {
	for _, j := range t.jobs {
		if j.pending() {
			return true
		}
	}
	return false
}

// level is the least pass of the tenant's pending jobs of rank but except
// (0 if none).
func (t *tenant) level(rank int, except *job) float64 {
	lvl, any := 0.0, false
	for _, j := range t.jobs {
		if j != except && j.pending() && j.rank == rank && (!any || j.pass < lvl) {
			lvl, any = j.pass, true
		}
	}
	return lvl
}

// next picks the job whose next chunk goes now, or nil, and charges it.
func (q *fairQueue) next() *job { return q.choose(true) }

// peek is the job next would pick now, left uncharged.
func (q *fairQueue) peek() *job { return q.choose(false) }

// choose picks the tenant of least pass, then its job; charge: and charges
// them (a tenant or job back from idle gets no credit for the time away).
func (q *fairQueue) choose(charge bool) *job {
	var best *tenant
	bestPass := 0.0
	for _, t := range q.tenants {
		if !t.active() {
			t.idle = t.idle || charge
			continue
		}
		pass := t.pass
		if t.idle {
			pass = max(t.pass, q.vtime)
		}
		if charge {
			t.pass, t.idle = pass, false
		}
		if best == nil || pass < bestPass || pass == bestPass && t.before(best) {
			best, bestPass = t, pass
		}
	}
	if best == nil {
		return nil
	}
	j := best.pick(charge)
	if charge {
		cost := float64(j.chunkItems(j.peek()))
		best.pass += cost / best.weight
		j.pass += cost
		q.vtime = best.pass
	}
	return j
}

// pick is the tenant's job to serve: the best priority, then the least
// served; charge: jobs back from idle get their level.
func (t *tenant) pick(charge bool) *job {
	var best *job
	bestPass := 0.0
	for _, j := range t.jobs {
		if !j.pending() {
			j.idle = j.idle || charge
			continue
		}
		pass := j.pass
		if j.idle { // chunks to send again (a dataset read further)
			pass = max(j.pass, t.level(j.rank, j))
		}
		if charge {
			j.pass, j.idle = pass, false
		}
		if best == nil || j.rank < best.rank || j.rank == best.rank && (pass < bestPass || pass == bestPass && j.before(best)) {
			best, bestPass = j, pass
		}
	}
	return best
}

// ahead estimates the items served before job j's next chunk: one round of
// the other tenants (in proportion to their weights) and the tenant's own
// jobs of a better priority.
func (q *fairQueue) ahead(j *job) int {
	n := 0
	own := q.tenants[j.tenant]
	for _, t := range q.tenants {
		if t == own {
			for _, o := range t.jobs {
				if o.rank < j.rank {
					n += o.left()
				}
			}
			continue
		}
		if !t.active() || own == nil {
			continue
		}
		share := int(float64(j.chunkSize) * t.weight / own.weight)
		for _, o := range t.jobs {
			if o.pending() {
				n += min(o.left(), max(share, o.chunkItems(o.peek())))
				break
			}
		}
	}
	return n
}
