package autoscaler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// Queue is the backlog of one queue: the batch work of one model version
// (the input stream's backlog consumer), or its synchronous queue.
type Queue struct {
	// Consumer is the durable consumer of the queue; empty for a
	// synchronous queue no worker has declared a consumer on yet (its
	// stored messages count).
	Consumer string
	// Subject is what the consumer filters (in.MODEL.VERSION.> for batch
	// work, infer.sync.MODEL.VERSION for synchronous requests).
	Subject string
	// Messages are the messages not done: for batch work the input
	// stream's chunk parts whose results are not stored yet (a chunk is
	// one part unless its items are large), for synchronous requests the
	// chunks queued or in flight (pending + ack pending).
	Messages uint64
	// Items is Messages times the items per message, sampled (see
	// itemsPerPart, itemsPerChunk).
	Items int64
}

// Snapshot is one reading of the backlog and the workers.
type Snapshot struct {
	Queues []Queue
	// Backlog is the items not done yet, all queues together.
	Backlog int64
	// Workers is the number of live workers announced.
	Workers int
	// Rate is the mean items/s of the busy workers that measured one, or
	// the last such mean seen; 0 if none ever was.
	Rate float64
}

// syncPrefix is how the subjects of synchronous requests in the INFER
// stream begin. Batch tickets (infer.batch.*) are not counted: their
// chunks are in the input stream's backlog already.
var syncPrefix = "infer." + wire.PrioritySync + "."

// reader reads Snapshots from JetStream.
type reader struct {
	js       jetstream.JetStream
	infer    jetstream.Stream
	input    jetstream.Stream
	workers  jetstream.KeyValue
	perChunk map[string]int // items per message last sampled, by subject
	lastRate float64
}

func newReader(js jetstream.JetStream) *reader {
	return &reader{js: js, perChunk: map[string]int{}}
}

// read takes a Snapshot. The streams and the bucket are looked up on first
// use, so the autoscaler may start before the services that declare them.
func (r *reader) read(ctx context.Context) (Snapshot, error) {
	if err := r.lookup(ctx); err != nil {
		return Snapshot{}, err
	}
	batch, err := r.batchQueues(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	sync, err := r.syncQueues(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{Queues: append(batch, sync...)}
	slices.SortFunc(s.Queues, func(a, b Queue) int { return strings.Compare(a.Subject, b.Subject) })
	for _, q := range s.Queues {
		s.Backlog += q.Items
	}
	if s.Workers, s.Rate, err = r.rate(ctx); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

func (r *reader) lookup(ctx context.Context) error {
	var err error
	for _, st := range []struct {
		p    *jetstream.Stream
		name string
	}{{&r.infer, wire.StreamInfer}, {&r.input, wire.StreamInput}} {
		if *st.p == nil {
			if *st.p, err = r.js.Stream(ctx, st.name); err != nil {
				*st.p = nil
				return fmt.Errorf("stream %s: %w", st.name, err)
			}
		}
	}
	if r.workers == nil {
		if r.workers, err = r.js.KeyValue(ctx, wire.BucketWorkers); err != nil {
			r.workers = nil
			return fmt.Errorf("bucket %s: %w", wire.BucketWorkers, err)
		}
	}
	return nil
}

// batchQueues is the batch backlog of every model version: the pending
// count of its backlog consumer on the input stream (declared by the
// workers, pulled by nobody), whose messages leave once their chunk's
// result is stored.
func (r *reader) batchQueues(ctx context.Context) ([]Queue, error) {
	var out []Queue
	lister := r.input.ListConsumers(ctx)
	for ci := range lister.Info() {
		if !strings.HasPrefix(ci.Name, backlogPrefix) {
			continue
		}
		q := Queue{Consumer: ci.Name, Subject: ci.Config.FilterSubject, Messages: ci.NumPending + uint64(max(ci.NumAckPending, 0))}
		if q.Messages > 0 {
			q.Items = int64(q.Messages) * int64(r.itemsPerPart(ctx, q.Subject))
		}
		out = append(out, q)
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("list consumers of %s: %w", wire.StreamInput, err)
	}
	return out, nil
}

// backlogPrefix begins the name of every backlog consumer.
var backlogPrefix = strings.TrimSuffix(wire.BacklogConsumer("", ""), "_")

// syncQueues lists the synchronous queues: each workers' sync consumer's
// pending and ack pending chunks, and the stored chunks of subjects no
// consumer filters yet (requests queued before any worker ever started).
func (r *reader) syncQueues(ctx context.Context) ([]Queue, error) {
	bySubject := map[string]Queue{}
	lister := r.infer.ListConsumers(ctx)
	for ci := range lister.Info() {
		if q, ok := consumerQueue(ci); ok {
			bySubject[q.Subject] = q
		}
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("list consumers of %s: %w", wire.StreamInfer, err)
	}
	info, err := r.infer.Info(ctx, jetstream.WithSubjectFilter(syncPrefix+">"))
	if err != nil {
		return nil, fmt.Errorf("stream %s info: %w", wire.StreamInfer, err)
	}
	for subj, n := range info.State.Subjects {
		if _, ok := bySubject[subj]; !ok && n > 0 {
			bySubject[subj] = Queue{Subject: subj, Messages: n}
		}
	}
	out := make([]Queue, 0, len(bySubject))
	for _, q := range bySubject {
		if q.Messages > 0 {
			q.Items = int64(q.Messages) * int64(r.itemsPerChunk(ctx, q.Subject))
		}
		out = append(out, q)
	}
	return out, nil
}

// consumerQueue is the queue of a workers' sync consumer (sync_*,
// filtering one infer.sync.* subject); other consumers are not queues.
func consumerQueue(ci *jetstream.ConsumerInfo) (Queue, bool) {
	name, subj := ci.Name, ci.Config.FilterSubject
	if !strings.HasPrefix(name, wire.PrioritySync+"_") || !strings.HasPrefix(subj, syncPrefix) {
		return Queue{}, false
	}
	return Queue{Consumer: name, Subject: subj, Messages: ci.NumPending + uint64(max(ci.NumAckPending, 0))}, true
}

// itemsPerPart estimates the items of an input message of filter: the
// larger count of the oldest stored one and of the first one from the
// middle of the stream on (a job's chunks all have its chunk size but its
// last, smaller one). When both are gone the last sample, or 1, is used.
func (r *reader) itemsPerPart(ctx context.Context, filter string) int {
	n := 0
	from := []uint64{1}
	if info, err := r.input.Info(ctx); err == nil && info.State.LastSeq > info.State.FirstSeq {
		from = append(from, info.State.FirstSeq+(info.State.LastSeq-info.State.FirstSeq)/2)
	}
	for _, seq := range from {
		if m, err := r.input.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(filter)); err == nil {
			if c, err := wire.ChunkItemCount(m.Data); err == nil {
				n = max(n, c)
			}
		}
	}
	return r.sampled(filter, n)
}

// sampled records a sample of subject's items per message (0: none taken)
// and returns it, or the last one, or 1.
func (r *reader) sampled(subject string, n int) int {
	if n > 0 {
		r.perChunk[subject] = n
		return n
	}
	if last, ok := r.perChunk[subject]; ok {
		return last
	}
	return 1
}

// itemsPerChunk estimates the items of a chunk on subject: the larger
// Bi-Count of its oldest and newest stored chunk. When both are gone
// (taken between the listing and now) the last sample, or 1, is used.
func (r *reader) itemsPerChunk(ctx context.Context, subject string) int {
	n := 0
	if m, err := r.infer.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subject)); err == nil {
		n = max(n, chunkCount(m))
	}
	if m, err := r.infer.GetLastMsgForSubject(ctx, subject); err == nil {
		n = max(n, chunkCount(m))
	}
	return r.sampled(subject, n)
}

func chunkCount(m *jetstream.RawStreamMsg) int {
	n, err := strconv.Atoi(m.Header.Get(wire.HdrCount))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// rate reads the workers' announcements: how many are live, and the mean
// items/s of those that measured one while holding chunks (an idle
// worker's rate says nothing of its speed).
func (r *reader) rate(ctx context.Context) (int, float64, error) {
	infos, err := r.announcements(ctx)
	if err != nil {
		return 0, 0, err
	}
	sum, busy := 0.0, 0
	for _, w := range infos {
		if w.ItemsPerSec > 0 && w.InFlight > 0 {
			sum += w.ItemsPerSec
			busy++
		}
	}
	if busy > 0 {
		r.lastRate = sum / float64(busy)
	}
	return len(infos), r.lastRate, nil
}

// announcements are the live workers' WorkerInfo.
func (r *reader) announcements(ctx context.Context) ([]wire.WorkerInfo, error) {
	w, err := r.workers.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", wire.BucketWorkers, err)
	}
	defer func() { _ = w.Stop() }()
	var out []wire.WorkerInfo
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("read %s: %w", wire.BucketWorkers, ctx.Err())
		case e, ok := <-w.Updates():
			if !ok {
				return nil, errors.New("read " + wire.BucketWorkers + ": watcher closed")
			}
			if e == nil {
				return out, nil // the initial values are all in
			}
			var info wire.WorkerInfo
			if json.Unmarshal(e.Value(), &info) == nil {
				out = append(out, info)
			}
		}
	}
}
