package worker

import (
	"fmt"
	"strconv"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// task is one chunk message being worked on.
type task struct {
	msg       jetstream.Msg
	priority  string
	job       string
	chunk     int
	start     int
	reply     string
	enqueued  time.Time
	delivered uint64

	items     []wire.Item
	results   []wire.ItemResult
	next      int // next item to schedule
	remaining int // items without a result yet
	abandoned bool
}

func parseTask(m jetstream.Msg, priority string) (*task, error) {
	h := m.Headers()
	t := &task{msg: m, priority: priority, job: h.Get(wire.HdrJob), reply: h.Get(wire.HdrReply)}
	var err error
	if t.chunk, err = strconv.Atoi(h.Get(wire.HdrChunk)); err != nil {
		return nil, fmt.Errorf("chunk header: %w", err)
	}
	if t.start, err = strconv.Atoi(h.Get(wire.HdrStart)); err != nil {
		return nil, fmt.Errorf("start header: %w", err)
	}
	if t.job == "" {
		return nil, fmt.Errorf("missing %s header", wire.HdrJob)
	}
	if ns, err := strconv.ParseInt(h.Get(wire.HdrEnqueue), 10, 64); err == nil {
		t.enqueued = time.Unix(0, ns)
	}
	if md, err := m.Metadata(); err == nil {
		t.delivered = md.NumDelivered
	}
	if t.items, err = wire.DecodeChunk(m.Data()); err != nil {
		return nil, err
	}
	t.results = make([]wire.ItemResult, len(t.items))
	t.remaining = len(t.items)
	return t, nil
}

// fail records an error for item i.
func (t *task) fail(i int, reason string) {
	t.results[i] = wire.ItemResult{Index: t.start + i, Error: reason}
	t.remaining--
}

// failRest fails every unscheduled item.
func (t *task) failRest(reason string) {
	for ; t.next < len(t.items); t.next++ {
		t.fail(t.next, reason)
	}
}

func (t *task) chunkResult(worker string) *wire.ChunkResult {
	cr := &wire.ChunkResult{Job: t.job, Chunk: t.chunk, Start: t.start, Worker: worker, Items: t.results}
	for _, r := range t.results {
		if r.Error != "" {
			cr.Failed++
		} else {
			cr.Done++
		}
	}
	return cr
}
