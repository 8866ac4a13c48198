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

// Queue is the backlog of one queue: a priority of one model version.
type Queue struct {
	// Consumer is the durable consumer of the queue; empty for a queue no
	// worker has declared a consumer on yet (its stored messages count).
	Consumer string
	Subject  string
	// Messages are the chunks queued or in flight (pending + ack pending).
	Messages uint64
	// Items is Messages times the items per chunk, sampled (see perChunk).
	Items int64
}

// Snapshot is one reading of the backlog and the workers.
type Snapshot struct {
	Queues []Queue
	// Backlog is the items queued or in flight, all queues together.
	Backlog int64
	// Workers is the number of live workers announced.
	Workers int
	// Rate is the mean items/s of the busy workers that measured one, or
	// the last such mean seen; 0 if none ever was.
	Rate float64
}

// queuePrefix is how the subjects of the INFER stream begin.
const queuePrefix = "infer."

// reader reads Snapshots from JetStream.
type reader struct {
	js       jetstream.JetStream
	stream   jetstream.Stream
	workers  jetstream.KeyValue
	perChunk map[string]int // items per chunk last sampled, by subject
	lastRate float64
}

func newReader(js jetstream.JetStream) *reader {
	return &reader{js: js, perChunk: map[string]int{}}
}

// read takes a Snapshot. The stream and the bucket are looked up on first
// use, so the autoscaler may start before the services that declare them.
func (r *reader) read(ctx context.Context) (Snapshot, error) {
	if err := r.lookup(ctx); err != nil {
		return Snapshot{}, err
	}
	queues, err := r.queues(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	s := Snapshot{Queues: queues}
	for i := range s.Queues {
		q := &s.Queues[i]
		if q.Messages > 0 {
			q.Items = int64(q.Messages) * int64(r.itemsPerChunk(ctx, q.Subject))
		}
		s.Backlog += q.Items
	}
	if s.Workers, s.Rate, err = r.rate(ctx); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

func (r *reader) lookup(ctx context.Context) error {
	var err error
	if r.stream == nil {
		if r.stream, err = r.js.Stream(ctx, wire.StreamInfer); err != nil {
			r.stream = nil
			return fmt.Errorf("stream %s: %w", wire.StreamInfer, err)
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

// queues lists the backlog of every queue: each durable consumer's pending
// and ack pending chunks, and the stored chunks of subjects no consumer
// filters yet (e.g. synchronous requests queued before any worker ever
// started). Sorted by subject.
func (r *reader) queues(ctx context.Context) ([]Queue, error) {
	bySubject := map[string]Queue{}
	lister := r.stream.ListConsumers(ctx)
	for ci := range lister.Info() {
		if q, ok := consumerQueue(ci); ok {
			bySubject[q.Subject] = q
		}
	}
	if err := lister.Err(); err != nil {
		return nil, fmt.Errorf("list consumers of %s: %w", wire.StreamInfer, err)
	}
	info, err := r.stream.Info(ctx, jetstream.WithSubjectFilter(queuePrefix+">"))
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
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b Queue) int { return strings.Compare(a.Subject, b.Subject) })
	return out, nil
}

// consumerQueue is the queue of a workers' consumer (sync_* or batch_*,
// filtering one infer.* subject); other consumers are not queues.
func consumerQueue(ci *jetstream.ConsumerInfo) (Queue, bool) {
	name, subj := ci.Name, ci.Config.FilterSubject
	isQueue := strings.HasPrefix(name, wire.PrioritySync+"_") || strings.HasPrefix(name, wire.PriorityBatch+"_")
	if !isQueue || !strings.HasPrefix(subj, queuePrefix) {
		return Queue{}, false
	}
	return Queue{Consumer: name, Subject: subj, Messages: ci.NumPending + uint64(max(ci.NumAckPending, 0))}, true
}

// itemsPerChunk estimates the items of a chunk on subject: the larger
// Bi-Count of its oldest and newest stored chunk (a job's chunks all have
// the model's chunk size but its last, smaller one). When both are gone
// (taken between the listing and now) the last sample, or 1, is used.
func (r *reader) itemsPerChunk(ctx context.Context, subject string) int {
	n := 0
	if m, err := r.stream.GetMsg(ctx, 1, jetstream.WithGetMsgSubject(subject)); err == nil {
		n = max(n, chunkCount(m))
	}
	if m, err := r.stream.GetLastMsgForSubject(ctx, subject); err == nil {
		n = max(n, chunkCount(m))
	}
	if n > 0 {
		r.perChunk[subject] = n
		return n
	}
	if last, ok := r.perChunk[subject]; ok {
		return last
	}
	return 1
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
