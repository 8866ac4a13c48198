package worker

import (
	"context"
	"sync"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
)

// counter counts stored chunks into their job records, several chunks of
// a job per record write: a chunk whose job has another chunk held by this
// worker (running, waiting or being stored) waits up to linger for it, so
// a steady job's record is written once per few chunks instead of once per
// chunk, and each write wakes the scheduler and every follower of the job
// once. A chunk with no other chunk of its job held here is counted at
// once, with those waiting: a small job, or a job's last chunk, waits for
// nothing. One write per job is in flight at a time (the worker's own
// writes do not race each other's compare-and-set).
//
// Each chunk is acked only after its count is written (done), as before:
// a crash at any point still leads to a redelivery that finds its result
// stored and counts it, never to a lost or doubled count.
type counter struct {
	jobs   *store.Jobs
	epoch  *natsx.Epoch
	linger time.Duration
	// most is how many chunks one write counts at most, of chunks of up
	// to unit items (a larger chunk counts as one per unit: see limit).
	most, unit int
	killed     func() bool

	mu      sync.Mutex
	pending map[string]*jobCounts
	closing bool
	wg      sync.WaitGroup
}

// counting is one chunk waiting to be counted: its count, whether another
// chunk of its job is held (more), and what to do once the count is
// written or has failed.
type counting struct {
	c    wire.ChunkCount
	more func() bool
	done func(error)
	at   time.Time // when it was added
}

// jobCounts are a job's chunks waiting to be counted, oldest first; flush
// wakes the job's writer before the oldest has waited linger.
type jobCounts struct {
	waiting []counting
	flush   chan struct{}
}

// newCounter counts up to most chunks of a job per write (at least one;
// fewer when chunks hold more than unit items, unit 0: never fewer),
// lingering up to linger for them; a negative linger counts each chunk in
// a write of its own.
func newCounter(jobs *store.Jobs, ep *natsx.Epoch, linger time.Duration, most, unit int, killed func() bool) *counter {
	if linger < 0 {
		most = 1
	}
	return &counter{jobs: jobs, epoch: ep, linger: linger, most: max(most, 1), unit: unit, killed: killed, pending: map[string]*jobCounts{}}
}

// limit is how many chunks of k's size one write counts: most, or, for
// chunks of more than unit items, most units' worth (at least one). The
// scheduler's queue holds as many units (sched.QueueChunks), and each write
// is what wakes it to refill that queue: counting more chunks than it holds
// per write would let it run dry.
func (c *counter) limit(k counting) int {
	return wire.ChunksWorth(c.most, c.unit, k.c.Done+k.c.Failed+k.c.Skipped)
}

// add queues one chunk's count; done is called once it is written or has
// failed, on the job's writer goroutine.
func (c *counter) add(job string, k counting) {
	c.mu.Lock()
	defer c.mu.Unlock()
	jc := c.pending[job]
	if jc == nil {
		jc = &jobCounts{flush: make(chan struct{}, 1)}
		c.pending[job] = jc
		c.wg.Add(1)
		go c.write(job, jc)
	}
	k.at = time.Now()
	jc.waiting = append(jc.waiting, k)
	if c.closing || c.linger <= 0 || len(jc.waiting) >= c.limit(jc.waiting[0]) || k.more == nil || !k.more() {
		select {
		case jc.flush <- struct{}{}:
		default:
		}
	}
}

// write is the writer of one job's counts: it writes what waits, when
// woken or once the oldest has waited linger, until none waits.
func (c *counter) write(job string, jc *jobCounts) {
	defer c.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		if len(jc.waiting) == 0 {
			delete(c.pending, job)
			c.mu.Unlock()
			return
		}
		wait := c.linger - time.Since(jc.waiting[0].at)
		most := c.limit(jc.waiting[0])
		if c.closing || len(jc.waiting) >= most {
			wait = 0
		}
		c.mu.Unlock()
		if wait > 0 {
			timer.Reset(wait)
			select {
			case <-jc.flush:
				timer.Stop()
			case <-timer.C:
			}
		}
		c.mu.Lock()
		batch := jc.waiting[:min(len(jc.waiting), most)]
		jc.waiting = jc.waiting[len(batch):]
		if len(jc.waiting) == 0 {
			select { // a wake-up asked for what this write takes
			case <-jc.flush:
			default:
			}
		}
		c.mu.Unlock()
		c.commit(job, batch)
	}
}

// commit writes one batch of a job's counts and reports the outcome to
// each chunk. A killed worker writes nothing (a crash acks nothing: the
// chunks come back after their lease).
func (c *counter) commit(job string, batch []counting) {
	if c.killed() {
		return
	}
	counts := make([]wire.ChunkCount, len(batch))
	for i, k := range batch {
		counts[i] = k.c
	}
	// Counting is idempotent: an attempt a reconnect or its own timeout
	// cuts short is simply made again (DoAgain).
	err := c.epoch.DoAgain(context.Background(), countTimeout, countAttempts, func(ctx context.Context) error {
		return c.jobs.CountAll(ctx, job, counts)
	})
	for _, k := range batch {
		k.done(err)
	}
}

// close counts every chunk waiting now, without lingering, and waits for
// the writers to end.
func (c *counter) close() {
	c.mu.Lock()
	c.closing = true
	for _, jc := range c.pending {
		select {
		case jc.flush <- struct{}{}:
		default:
		}
	}
	c.mu.Unlock()
	c.wg.Wait()
}
