package sched

import (
	"slices"
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
	waiting, ok := s.waiting(q)
	if !ok {
		return // no worker has served the model yet
	}
	depth := queueDepth(s.cfg.QueueChunks, size)
	want := depth - waiting
	if want <= 0 && waiting <= depth && s.freshNext(q) {
		want = 1 // a job's first chunk need not wait for the queue to drain: one ticket more
	}
	if want <= 0 {
		return
	}
	var futures []sent
	now := time.Now()
	for range want {
		s.mu.Lock()
		j := q.fq.next()
		var msg *nats.Msg
		c := 0
		if j != nil {
			c = j.take()
			msg = ticket(j, c, now)
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
	s.awaitAcks(q, futures)
}

// ticket is the work-queue message of j's chunk c: where its input is,
// and what the worker needs to know of it (for a redriven chunk, the dead
// letter it runs again from).
func ticket(j *job, c int, now time.Time) *nats.Msg {
	h := wire.ChunkHeader{Job: j.id, Chunk: c, Start: c * j.chunkSize, Count: j.chunkItems(c), Enqueued: now, Parts: 1, Deadline: j.deadline,
		Redrive: j.redrives[c]}
	m := &nats.Msg{Subject: wire.InferSubject(wire.PriorityBatch, j.name, j.version), Header: h.Header()}
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

func (s *Scheduler) awaitAcks(q *modelQueue, fs []sent) {
	ctx, cancel := s.op()
	defer cancel()
	for _, p := range fs {
		select {
		case ack := <-p.f.Ok():
			q.unseen = append(q.unseen, sentTicket{ack.Sequence, time.Now()})
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

// waiting is how many tickets wait undelivered in q's work queue (false:
// its consumer does not exist yet: no worker serves the model).
func (s *Scheduler) waiting(q *modelQueue) (int, bool) {
	ctx, cancel := s.op()
	defer cancel()
	if q.cons == nil {
		c, err := s.in.JS.Consumer(ctx, wire.StreamInfer, wire.ConsumerName(wire.PriorityBatch, q.name, q.version))
		if err != nil {
			return 0, false
		}
		q.cons = c
	}
	info, err := q.cons.Info(ctx)
	if err != nil {
		q.cons = nil
		return 0, false
	}
	return max(int(info.NumPending), q.undelivered(info.Delivered.Stream)), true
}

// undelivered is how many of the tickets this leader sent are past the
// consumer's last delivered sequence. The server updates a consumer's
// pending count after it acknowledges a publish: read just after a
// top-up, it can miss the tickets just sent, and the leader would send as
// many again.
// Past unseenFor a ticket counts only as the server counts it (one taken
// out of the stream undelivered must not hold the queue short for long).
func (q *modelQueue) undelivered(delivered uint64) int {
	old := time.Now().Add(-unseenFor)
	q.unseen = slices.DeleteFunc(q.unseen, func(t sentTicket) bool { return t.seq <= delivered || t.at.Before(old) })
	return len(q.unseen)
}

// unseenFor is how long a sent ticket counts as waiting while the
// consumer's counts do not show it.
const unseenFor = 2 * time.Second
