package worker

import (
	"encoding/binary"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model"
)

// The batcher's unit tests run it against a fake model: each item is one
// float32 (its id), the model answers two probabilities per row and
// records the ids of every batch it gets.

var testMeta = &model.Metadata{
	Name: "m", Version: "1", Labels: []string{"no", "yes"},
	Input:  model.TensorSpec{Shape: []int64{-1, 1}},
	Output: model.TensorSpec{Shape: []int64{-1, 2}},
}

type fakeModel struct {
	mu      sync.Mutex
	batches [][]float32
	fail    error
}

func (f *fakeModel) predict(in []float32, n int) ([]float32, error) {
	f.mu.Lock()
	f.batches = append(f.batches, append([]float32(nil), in...))
	f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	out := make([]float32, 0, 2*n)
	for _, v := range in {
		if int(v)%2 == 0 {
			out = append(out, 0.9, 0.1)
		} else {
			out = append(out, 0.2, 0.8)
		}
	}
	return out, nil
}

func (f *fakeModel) seen() [][]float32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.batches
}

func tensorItem(v float32) wire.Item {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, math.Float32bits(v))
	return wire.Item{Kind: wire.ItemTensor, Data: b}
}

// newTask is a chunk of the given item ids.
func newTask(prio, job string, delivered uint64, ids ...float32) *task {
	t := &task{priority: prio, job: job, delivered: delivered}
	for _, id := range ids {
		t.items = append(t.items, tensorItem(id))
	}
	t.results = make([]wire.ItemResult, len(t.items))
	t.remaining = len(t.items)
	return t
}

// harness runs a batcher over two channels and records what it did.
type harness struct {
	model    *fakeModel
	sync     chan *task
	batch    chan *task
	mu       sync.Mutex
	finished []*task
	retried  map[*task]time.Duration
}

func newHarness(m *fakeModel) *harness {
	return &harness{model: m, sync: make(chan *task, 16), batch: make(chan *task, 16), retried: map[*task]time.Duration{}}
}

func (h *harness) deps(maxBatch int, maxWait time.Duration, c clock) batchDeps {
	return batchDeps{
		meta: testMeta, predict: h.model.predict, maxBatch: maxBatch, maxSync: maxBatch, maxWait: maxWait, maxDeliver: 3, clock: c,
		finish: func(t *task) { h.mu.Lock(); h.finished = append(h.finished, t); h.mu.Unlock() },
		retry: func(t *task, d time.Duration, _ error) {
			h.mu.Lock()
			h.retried[t] = d
			h.mu.Unlock()
		},
		observe: func(int, time.Duration, error) {},
	}
}

// run runs the batcher until its inputs are closed and it has delivered.
func (h *harness) run(t *testing.T, d batchDeps) {
	t.Helper()
	done := make(chan struct{})
	go func() { newBatcher(d, h.sync, h.batch).run(); close(done) }()
	close(h.sync)
	close(h.batch)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("batcher did not finish")
	}
}

func ids(b []float32) []int {
	out := make([]int, len(b))
	for i, v := range b {
		out[i] = int(v)
	}
	return out
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Synchronous chunks go before batch chunks that are already waiting, in
// batches of their own (at most maxSync), and batches are cut at maxBatch
// across chunks.
func TestBatcherOrderSyncFirst(t *testing.T) {
	m := &fakeModel{}
	h := newHarness(m)
	h.batch <- newTask(wire.PriorityBatch, "a", 1, 1, 2, 3, 4, 5)
	h.sync <- newTask(wire.PrioritySync, wire.SyncJob, 1, 100, 101)
	h.sync <- newTask(wire.PrioritySync, wire.SyncJob, 1, 102, 103)
	h.batch <- newTask(wire.PriorityBatch, "b", 1, 6, 7)
	d := h.deps(4, 0, nil)
	d.maxSync = 3
	h.run(t, d)
	want := [][]int{{100, 101, 102}, {103}, {1, 2, 3, 4}, {5, 6, 7}}
	got := m.seen()
	if len(got) != len(want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
	for i := range want {
		if !equal(ids(got[i]), want[i]) {
			t.Fatalf("batch %d = %v, want %v (all %v)", i, ids(got[i]), want[i], got)
		}
	}
	if len(h.finished) != 4 {
		t.Fatalf("%d chunks finished, want 4", len(h.finished))
	}
	for _, task := range h.finished {
		if task.remaining != 0 {
			t.Fatalf("chunk %s finished with %d items left", task.job, task.remaining)
		}
		for i, r := range task.results {
			want := "no"
			if int(math.Float32frombits(binary.LittleEndian.Uint32(task.items[i].Data)))%2 == 1 {
				want = "yes"
			}
			if r.Label != want || r.Error != "" {
				t.Fatalf("chunk %s item %d: %+v, want label %s", task.job, i, r, want)
			}
		}
	}
}

// A newcomer's chunk (the newcomers' queue) ready while a large chunk
// fills several batches goes into the next batch: the batcher takes every
// chunk ready into its queue, not only until a batch is full, and the
// queue puts the newcomer's first.
func TestBatcherNewcomerInTheNextBatch(t *testing.T) {
	m := &fakeModel{}
	h := newHarness(m)
	h.batch <- newTask(wire.PriorityBatch, "a", 1, 1, 2, 3, 4, 5, 6, 7, 8)
	h.batch <- newTask(wire.PriorityBatch, "c", 1, 50)
	h.batch <- newTask(wire.PriorityFirst, "b", 1, 100, 101)
	h.run(t, h.deps(4, 0, nil))
	want := [][]int{{100, 101, 1, 2}, {3, 4, 5, 6}, {7, 8, 50}}
	got := m.seen()
	if len(got) != len(want) {
		t.Fatalf("batches %v, want %v", got, want)
	}
	for i := range want {
		if !equal(ids(got[i]), want[i]) {
			t.Fatalf("batch %d = %v, want %v", i, ids(got[i]), want[i])
		}
	}
}

// fakeClock fires a timer only when the test says so.
type fakeClock struct {
	armed chan time.Duration
	fire  chan time.Time
}

func (c *fakeClock) After(d time.Duration) (<-chan time.Time, func()) {
	c.armed <- d
	return c.fire, func() {}
}

// With maxWait, a partial batch waits for more chunks until the timer
// fires; greedily (maxWait 0) it takes only what is ready.
func TestBatcherFillWaitsUpToMaxWait(t *testing.T) {
	m := &fakeModel{}
	h := newHarness(m)
	c := &fakeClock{armed: make(chan time.Duration), fire: make(chan time.Time)}
	done := make(chan struct{})
	go func() { newBatcher(h.deps(8, 5*time.Millisecond, c), h.sync, h.batch).run(); close(done) }()
	h.batch <- newTask(wire.PriorityBatch, "a", 1, 1, 2)
	if d := <-c.armed; d != 5*time.Millisecond {
		t.Fatalf("waited %s, want maxWait", d)
	}
	h.batch <- newTask(wire.PriorityBatch, "b", 1, 3) // arrives while it waits
	time.Sleep(10 * time.Millisecond)                 // (the fake timer has not fired)
	if n := len(m.seen()); n != 0 {
		t.Fatalf("%d batches ran before the timer fired", n)
	}
	c.fire <- time.Now()
	close(h.sync)
	close(h.batch)
	<-done
	if got := m.seen(); len(got) != 1 || !equal(ids(got[0]), []int{1, 2, 3}) {
		t.Fatalf("batches %v, want one of [1 2 3]", got)
	}
}

// A failed batch gives back (retry) every chunk in it that has deliveries
// left, with a delay growing with its deliveries, and runs none of its
// other items; a chunk on its last delivery fails its items instead, so
// that the job still ends.
func TestBatcherRetryAndGiveUp(t *testing.T) {
	m := &fakeModel{fail: errors.New("tensorflow broke")}
	h := newHarness(m)
	fresh := newTask(wire.PriorityBatch, "fresh", 2, 1, 2, 3, 4, 5, 6)
	last := newTask(wire.PriorityBatch, "last", 3, 7)
	h.batch <- fresh
	h.batch <- last
	h.run(t, h.deps(4, 0, nil))
	if d, ok := h.retried[fresh]; !ok || d != 2*time.Second {
		t.Fatalf("fresh chunk retried %v (%s), want after 2s", ok, d)
	}
	for _, b := range m.seen() {
		for _, id := range ids(b) {
			if id == 5 || id == 6 {
				t.Fatalf("items of a given-back chunk still ran: %v", m.seen())
			}
		}
	}
	if _, ok := h.retried[last]; ok {
		t.Fatal("a chunk on its last delivery was given back")
	}
	if len(h.finished) != 1 || h.finished[0] != last || !strings.Contains(last.results[0].Error, "inference failed after 3 attempts: tensorflow broke") {
		t.Fatalf("finished %v, last chunk result %+v", h.finished, last.results)
	}
}

// An item that does not decode fails alone, takes no row, and its chunk
// still finishes; a chunk whose every item failed finishes without running.
func TestBatcherBadItemsFailAlone(t *testing.T) {
	m := &fakeModel{}
	h := newHarness(m)
	mixed := newTask(wire.PriorityBatch, "mixed", 1, 2, 4)
	mixed.items[0] = wire.Item{Kind: wire.ItemTensor, Data: []byte{1, 2}}
	allBad := newTask(wire.PriorityBatch, "bad", 1, 9)
	allBad.items[0] = wire.Item{Kind: 42}
	h.batch <- mixed
	h.batch <- allBad
	h.run(t, h.deps(8, 0, nil))
	if got := m.seen(); len(got) != 1 || !equal(ids(got[0]), []int{4}) {
		t.Fatalf("batches %v, want [[4]]", got)
	}
	if len(h.finished) != 2 {
		t.Fatalf("%d finished, want 2", len(h.finished))
	}
	if !strings.Contains(mixed.results[0].Error, "tensor of 2 bytes") || mixed.results[1].Label != "no" {
		t.Fatalf("mixed results %+v", mixed.results)
	}
	if !strings.Contains(allBad.results[0].Error, "unknown item kind 42") {
		t.Fatalf("bad results %+v", allBad.results)
	}
}
