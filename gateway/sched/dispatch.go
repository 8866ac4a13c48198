package sched

import (
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Reasons for items never sent.
const (
	reasonCancelled = "job cancelled"
	reasonDeadline  = "deadline_exceeded: not started before the job's deadline"
)

// dispatchLoop tops up every model's queue each Tick (or when woken),
// while leading.
func (s *Scheduler) dispatchLoop() {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
		if !s.Leading() {
			continue
		}
		s.settle()
		s.mu.Lock()
		queues := make([]*modelQueue, 0, len(s.queues))
		for _, q := range s.queues {
			queues = append(queues, q)
		}
		s.mu.Unlock()
		for _, q := range queues {
			s.topUp(q)
		}
	}
}

// stopping is a job that must send nothing more, and why.
type stopping struct {
	id, reason string
	from       int
}

// settle stops the jobs past their deadline and records the chunks never
// sent of the stopped ones as skipped.
func (s *Scheduler) settle() {
	now := time.Now()
	var todo []stopping
	s.mu.Lock()
	for _, j := range s.byID {
		if !j.stopped && !j.deadline.IsZero() && now.After(j.deadline) {
			j.stopped, j.deadlined = true, true
		}
		if j.stopped && !j.skipped {
			reason := reasonCancelled
			if j.deadlined {
				reason = reasonDeadline
			}
			todo = append(todo, stopping{id: j.id, reason: reason, from: j.next})
			j.skipped = true
		}
	}
	s.mu.Unlock()
	for _, st := range todo {
		ctx, cancel := s.op()
		if _, err := s.jobs.Skip(ctx, st.id, st.from, st.reason); err != nil {
			s.log.Warn().Err(err).Str("job", st.id).Msg("scheduler: recording skipped chunks failed")
			s.mu.Lock()
			if j := s.byID[st.id]; j != nil {
				j.skipped = false // tried again
			}
			s.mu.Unlock()
		}
		cancel()
	}
}

// queueDepth is how many tickets of chunks of size items wait in a queue
// of chunks QueueUnit-item units: as many, or that many units' worth of
// larger chunks (at least one).
func queueDepth(chunks, size int) int {
	return wire.ChunksWorth(chunks, QueueUnit, size)
}

// freshNext is whether the job whose chunk goes next has had none sent.
func (s *Scheduler) freshNext(q *modelQueue) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := q.fq.peek()
	return j != nil && j.fresh()
}

// topUp reads how many tickets wait in q's work queue and sends the next
// chunks, in fair order, until QueueChunks wait (queueDepth: fewer of
// chunks larger than QueueUnit; the largest of the queue's jobs counts).
// A newcomer (a job none of whose chunks was sent) next in fair order does
// not wait for the queue to drain: its chunk goes to the newcomers' queue
// while a worker's pull waits there; while every newcomer slot runs a chunk
// and the batch queue still has tickets, nothing is sent (the newcomer
// takes the next slot, one newcomer chunk away, not a place behind the
// chunks the workers hold); else it goes to the batch queue as one ticket
// more.
func (s *Scheduler) topUp(q *modelQueue) {
	s.mu.Lock()
	idle, size := true, 0
	for _, j := range q.fq.jobs() {
		if j.pending() {
			idle, size = false, max(size, j.chunkSize)
		}
	}
	s.mu.Unlock()
	if idle {
		return // nothing to send: the queue's depth is not read
	}
	fresh, first := s.sendNewcomer(q) // before reading the batch queue: sooner
	st, ok := s.state(q, &q.batch)
	if !ok {
		return // no worker has served the model yet
	}
	if fresh && first.running > 0 && st.waiting > 0 {
		return // the newcomer takes the next newcomer slot: it is one chunk away, and the workers have tickets meanwhile
	}
	depth := queueDepth(s.cfg.QueueChunks, size)
	want := depth - st.waiting
	if want <= 0 && st.waiting <= depth && fresh {
		want = 1 // one ticket more, one at a time
	}
	if want > 0 {
		s.send(q, &q.batch, want)
	}
}

// sendNewcomer sends the next job's first ticket to q's newcomers' queue
// if the job is a newcomer and a worker's pull waits there with no ticket
// ahead of it. It says whether a newcomer is next still, and what the
// newcomers' queue held.
func (s *Scheduler) sendNewcomer(q *modelQueue) (fresh bool, first queueState) {
	if !s.freshNext(q) {
		return false, first
	}
	first, ok := s.state(q, &q.first)
	if !ok || first.pulls == 0 || first.waiting > 0 {
		return true, first
	}
	s.send(q, &q.first, 1)
	return false, first
}

// state reads wq's consumer (workQueue.state) within one operation's time.
func (s *Scheduler) state(q *modelQueue, wq *workQueue) (queueState, bool) {
	ctx, cancel := s.op()
	defer cancel()
	return wq.state(ctx, s.in.JS, q.name, q.version)
}

// send sends up to want tickets of q's next chunks, in fair order, to wq.
func (s *Scheduler) send(q *modelQueue, wq *workQueue, want int) {
	var futures []sent
	now := time.Now()
	for range want {
		s.mu.Lock()
		j := q.fq.next()
		var msg *nats.Msg
		c := 0
		if j != nil {
			c = j.take()
			msg = ticket(j, c, wq.prio, now)
			s.traceTicket(j, c, msg, now)
			s.metrics.dispatched(j, now)
			q.sent += j.chunkItems(c)
			s.dirty[j.id] = true
		}
		s.mu.Unlock()
		if j == nil {
			break
		}
		f, err := s.in.JS.PublishMsgAsync(msg, jetstream.WithMsgID(msg.Header.Get(wire.HdrMsgID)), jetstream.WithExpectStream(wire.StreamInfer))
		if err != nil {
			s.mu.Lock()
			j.redo = append(j.redo, c)
			s.mu.Unlock()
			s.log.Debug().Err(err).Str("job", j.id).Msg("scheduler: sending a ticket failed, sent again")
			break
		}
		futures = append(futures, sent{j, c, f})
	}
	s.awaitAcks(wq, futures)
}

// ticket is the work-queue message (on prio's queue) of j's chunk c: where
// its input is, and what the worker needs to know of it (for a redriven
// chunk, the dead letter it runs again from).
func ticket(j *job, c int, prio string, now time.Time) *nats.Msg {
	h := wire.ChunkHeader{Job: j.id, Chunk: c, Start: c * j.chunkSize, Count: j.chunkItems(c), Enqueued: now, Parts: 1, Deadline: j.deadline,
		Redrive: j.redrives[c]}
	m := &nats.Msg{Subject: wire.InferSubject(prio, j.name, j.version), Header: h.Header()}
	m.Header.Set(wire.HdrMsgID, wire.RedriveMsgID(j.id, c, h.Redrive))
	return m
}

// sent is a ticket on its way: the chunk goes back to be sent again when
// it is refused or not acknowledged (a message id makes a repeat harmless).
type sent struct {
	j     *job
	chunk int
	f     jetstream.PubAckFuture
}

func (s *Scheduler) awaitAcks(wq *workQueue, fs []sent) {
	ctx, cancel := s.op()
	defer cancel()
	for _, p := range fs {
		select {
		case ack := <-p.f.Ok():
			wq.unseen = append(wq.unseen, sentTicket{ack.Sequence, time.Now()})
			continue
		case err := <-p.f.Err():
			s.log.Debug().Err(err).Str("job", p.j.id).Msg("scheduler: a ticket was refused, sent again")
		case <-ctx.Done():
		}
		s.mu.Lock()
		p.j.redo = append(p.j.redo, p.chunk)
		s.mu.Unlock()
	}
}
