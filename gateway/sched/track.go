package sched

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"batchinfer/internal/store"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// watchActive follows the unfinished jobs (the active-jobs bucket): each
// one entering is loaded, each one leaving forgotten. It returns once the
// current ones are loaded.
func (s *Scheduler) watchActive(ready context.Context) error {
	w, err := s.in.Buckets.Active.WatchAll(s.ctx)
	if err != nil {
		return fmt.Errorf("scheduler: watch active jobs: %w", err)
	}
	synced := make(chan struct{})
	s.run(func() {
		defer func() { _ = w.Stop() }()
		var once sync.Once
		for e := range w.Updates() {
			if e == nil {
				once.Do(func() { close(synced) })
				continue
			}
			id := e.Key()[strings.LastIndexByte(e.Key(), '.')+1:]
			if e.Operation() == jetstream.KeyValuePut {
				s.load(id)
			} else {
				s.forget(id)
			}
		}
	})
	select {
	case <-synced:
		return nil
	case <-ready.Done():
		return fmt.Errorf("scheduler: watch active jobs: %w", ready.Err())
	}
}

// load reads a job's record and follows it (again). A write of the record
// that goes by while it is read (onRecord skips jobs it does not follow
// yet) makes it read the record again: the job would otherwise wait for
// its next write with what the first read saw (a dataset's chunks read so
// far, none sent).
func (s *Scheduler) load(id string) {
	for s.loadOnce(id) {
	}
}

// loadOnce reads and applies the record once; it reports whether a write
// went by meanwhile.
func (s *Scheduler) loadOnce(id string) (again bool) {
	s.mu.Lock()
	s.loading[id] = false
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		again = s.loading[id]
		delete(s.loading, id)
		s.mu.Unlock()
	}()
	ctx, cancel := s.op()
	defer cancel()
	rec, err := s.jobs.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		s.log.Warn().Err(err).Str("job", id).Msg("scheduler: reading a job failed")
		return false
	}
	s.apply(rec)
	return false
}

// onRecord takes a job record as written: its state, size, cancellation.
func (s *Scheduler) onRecord(m *nats.Msg) {
	id := m.Subject[strings.LastIndexByte(m.Subject, '.')+1:]
	s.mu.Lock()
	_, tracked := s.byID[id]
	if _, ok := s.loading[id]; ok && !tracked {
		s.loading[id] = true
	}
	s.mu.Unlock()
	if !tracked || len(m.Data) == 0 {
		return
	}
	var rec wire.JobRecord
	if json.Unmarshal(m.Data, &rec) != nil {
		return
	}
	if stops(&rec) || s.redrivesNew(&rec) {
		// A core subscriber also sees the writes compare-and-set refused,
		// made on an older record (a dataset's total then smaller, the job
		// seemingly finished, a redrive not made): a job stops, and a chunk
		// runs again, on its committed record only.
		s.check(id)
		return
	}
	s.apply(&rec)
}

// redrivesNew reports whether rec names a redrive its job does not have.
func (s *Scheduler) redrivesNew(rec *wire.JobRecord) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.byID[rec.ID]
	if j == nil {
		return false
	}
	for _, r := range rec.Redrives {
		if j.redrives[r.Chunk] != r.Letter {
			return true
		}
	}
	return false
}

// stops reports whether rec ends the sending of its job's chunks.
func stops(rec *wire.JobRecord) bool {
	return rec.CancelledAt != nil || rec.State == wire.StateFailed || rec.SkipFrom != nil || rec.Finished()
}

// check reads job id's committed record and applies it, on a goroutine of
// its own (the feed does not wait for the read). Checks of one job do not
// pile up: one asked while another reads makes that one read again.
func (s *Scheduler) check(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, busy := s.checking[id]; busy {
		s.checking[id] = true
		return
	}
	if s.closed {
		return
	}
	s.checking[id] = false
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for s.checkOnce(id) {
		}
	}()
}

// checkOnce applies the committed record once; it reports whether another
// check was asked meanwhile.
func (s *Scheduler) checkOnce(id string) (again bool) {
	ctx, cancel := s.op()
	rec, err := s.jobs.Get(ctx, id)
	cancel()
	switch {
	case err == nil:
		s.apply(rec)
	case !errors.Is(err, store.ErrNotFound) && s.ctx.Err() == nil:
		s.log.Warn().Err(err).Str("job", id).Msg("scheduler: reading a job failed")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.checking[id] && s.ctx.Err() == nil {
		s.checking[id] = false
		return true
	}
	delete(s.checking, id)
	return false
}

// apply brings the job of rec up to date, entering it if new.
func (s *Scheduler) apply(rec *wire.JobRecord) {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.byID[rec.ID]
	if j == nil {
		if rec.Finished() {
			return
		}
		j = newJobOf(rec)
		s.byID[rec.ID] = j
		s.queue(j).fq.add(j)
	}
	// A job's size and chunks only grow, and it never starts again once
	// stopped: a record applied after a newer one (a check's read, a
	// refused write made on an older record) takes nothing back.
	j.total, j.chunks = max(j.total, rec.Total), max(j.chunks, sendable(rec))
	j.next = max(j.next, rec.FirstUnsent())
	j.redriven(rec.Redrives)
	if stops(rec) {
		j.stopped = true
	}
	j.skipped = j.skipped || rec.SkipFrom != nil || rec.State == wire.StateFailed
	if rec.Finished() && !j.ended {
		j.ended = true
		if s.leading {
			s.metrics.ended(j, rec)
		}
	}
	s.poke()
}

// sendable is how many of a job's chunks may be sent: none while its items
// are being read from a request; those read so far of a dataset.
func sendable(rec *wire.JobRecord) int {
	if rec.State == wire.StateAccepting {
		return rec.Ingested
	}
	return rec.Chunks
}

func newJobOf(rec *wire.JobRecord) *job {
	j := &job{
		id: rec.ID, tenant: rec.Tenant, model: rec.Model + ":" + rec.Version, name: rec.Model, version: rec.Version,
		rank: priorityRank(rec.Priority), weight: rec.Weight, chunkSize: max(rec.ChunkSize, 1), created: rec.CreatedAt,
		trace: rec.Trace, sc: tracing.FromRecord(rec.Trace),
	}
	if j.weight <= 0 {
		j.weight = 1
	}
	if rec.Deadline != nil {
		j.deadline = *rec.Deadline
	}
	return j
}

// queue is the model queue of j, created on first use.
func (s *Scheduler) queue(j *job) *modelQueue {
	q := s.queues[j.model]
	if q == nil {
		q = &modelQueue{name: j.name, version: j.version, fq: newOrder(s.cfg.Policy), lastRate: time.Now(),
			batch: workQueue{prio: wire.PriorityBatch}, first: workQueue{prio: wire.PriorityFirst}}
		s.queues[j.model] = q
	}
	return q
}

// forget drops a finished job.
func (s *Scheduler) forget(id string) {
	s.mu.Lock()
	j := s.byID[id]
	if j != nil {
		delete(s.byID, id)
		delete(s.dirty, id)
		q := s.queues[j.model]
		q.fq.remove(j)
		if q.fq.empty() {
			delete(s.queues, j.model)
		}
	}
	leading := s.leading
	unseen := j != nil && !j.ended
	s.mu.Unlock()
	if j != nil && leading {
		ctx, cancel := s.op()
		defer cancel()
		_ = s.in.Buckets.Sched.Purge(ctx, id)
		if unseen {
			s.endedUnseen(ctx, j)
		}
	}
}

// endedUnseen counts the end of a job that left the unfinished set before
// its finishing record reached the feed (the two arrive by different
// subscriptions).
func (s *Scheduler) endedUnseen(ctx context.Context, j *job) {
	rec, err := s.jobs.Get(ctx, j.id)
	if err == nil && rec.Finished() {
		s.metrics.ended(j, rec)
	}
}

// loadCursors reads the saved cursors of the jobs followed: a new leader
// goes on where the last one saved. Chunks it sent after its last save are
// sent again, and deduplicated by their message ids.
func (s *Scheduler) loadCursors() {
	s.mu.Lock()
	ids := make([]string, 0, len(s.byID))
	for id := range s.byID {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for _, id := range ids {
		ctx, cancel := s.op()
		e, err := s.in.Buckets.Sched.Get(ctx, id)
		cancel()
		if err != nil {
			continue
		}
		n, err := strconv.Atoi(string(e.Value()))
		if err != nil {
			continue
		}
		s.mu.Lock()
		if j := s.byID[id]; j != nil {
			j.next = max(j.next, n)
		}
		s.mu.Unlock()
	}
}

// saveLoop saves the leader's cursors that moved, every saveEvery.
func (s *Scheduler) saveLoop() {
	t := time.NewTicker(saveEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		s.mu.Lock()
		cursors := map[string]int{}
		if s.leading {
			for id := range s.dirty {
				if j := s.byID[id]; j != nil {
					cursors[id] = j.next
				}
			}
			clear(s.dirty)
		}
		s.mu.Unlock()
		for id, n := range cursors {
			ctx, cancel := s.op()
			_, _ = s.in.Buckets.Sched.Put(ctx, id, []byte(strconv.Itoa(n)))
			cancel()
		}
	}
}
