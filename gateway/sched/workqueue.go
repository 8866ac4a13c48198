package sched

import (
	"context"
	"slices"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// workQueue is one of a model version's work queues of tickets on the
// INFER stream (wire.PriorityBatch, wire.PriorityFirst), as the leader
// sees it.
type workQueue struct {
	prio string
	cons jetstream.Consumer // the workers' consumer (nil until one exists)
	// unseen are the tickets sent and not yet seen delivered (the stream
	// sequence, when): the consumer's pending count may not count them yet.
	unseen []sentTicket
}

type sentTicket struct {
	seq uint64
	at  time.Time
}

// queueState is what a work queue's consumer says.
type queueState struct {
	waiting int // tickets not delivered yet
	pulls   int // workers' pull requests waiting for a ticket
	running int // tickets delivered and not acknowledged: held by workers
}

// state reads how many tickets wait undelivered in the queue and how many
// pulls wait on it (false: its consumer does not exist: no worker pulls
// it).
func (w *workQueue) state(ctx context.Context, js jetstream.JetStream, name, version string) (queueState, bool) {
	if w.cons == nil {
		c, err := js.Consumer(ctx, wire.StreamInfer, wire.ConsumerName(w.prio, name, version))
		if err != nil {
			return queueState{}, false
		}
		w.cons = c
	}
	info, err := w.cons.Info(ctx)
	if err != nil {
		w.cons = nil
		return queueState{}, false
	}
	return queueState{waiting: max(int(info.NumPending), w.undelivered(info.Delivered.Stream)), pulls: info.NumWaiting, running: info.NumAckPending}, true
}

// undelivered is how many of the tickets this leader sent are past the
// consumer's last delivered sequence. The server updates a consumer's
// pending count after it acknowledges a publish: read just after a
// top-up, it can miss the tickets just sent, and the leader would send as
// many again.
// Past unseenFor a ticket counts only as the server counts it (one taken
// out of the stream undelivered must not hold the queue short for long).
func (w *workQueue) undelivered(delivered uint64) int {
	old := time.Now().Add(-unseenFor)
	w.unseen = slices.DeleteFunc(w.unseen, func(t sentTicket) bool { return t.seq <= delivered || t.at.Before(old) })
	return len(w.unseen)
}

// unseenFor is how long a sent ticket counts as waiting while the
// consumer's counts do not show it.
const unseenFor = 2 * time.Second
