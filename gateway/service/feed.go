package service

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
)

// jobFeed tells the local followers of a job that its record changed. One
// core NATS subscription per gateway receives every job-record write
// ($KV.jobs.*: a worker counting a chunk, a cancel); a follower treats it as
// a wake-up and reads the committed record itself, because a core
// subscriber also sees writes that compare-and-set then refused. Nothing on
// the server grows with the number of followers.
type jobFeed struct {
	prefix string
	sub    *nats.Subscription
	// also are the handlers sharing the subscription (Service.JobRecords).
	also atomic.Pointer[[]nats.MsgHandler]

	mu    sync.Mutex
	byJob map[string]map[*wakeup]struct{}
	n     int
}

// wakeup is a follower's signal: at most one pending, coalescing bursts;
// n counts the changes announced, which a burst does not coalesce.
type wakeup struct {
	C chan struct{}
	n atomic.Uint64
}

func (w *wakeup) fire() {
	w.n.Add(1)
	select {
	case w.C <- struct{}{}:
	default:
	}
}

// announced is how many changes were announced so far.
func (w *wakeup) announced() uint64 { return w.n.Load() }

// newJobFeed subscribes to the job records' writes; onRecord, when set, is
// given each record as written.
func newJobFeed(nc *nats.Conn, onRecord func(job string, data []byte)) (*jobFeed, error) {
	f := &jobFeed{prefix: "$KV." + wire.BucketJobs + ".", byJob: map[string]map[*wakeup]struct{}{}}
	sub, err := nc.Subscribe(f.prefix+"*", func(m *nats.Msg) {
		job := m.Subject[len(f.prefix):]
		f.notify(job)
		if onRecord != nil && len(m.Data) > 0 {
			onRecord(job, m.Data)
		}
		if hs := f.also.Load(); hs != nil {
			for _, h := range *hs {
				h(m)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe job records: %w", err)
	}
	if err := sub.SetPendingLimits(-1, 64<<20); err != nil {
		_ = sub.Unsubscribe()
		return nil, fmt.Errorf("job feed pending limits: %w", err)
	}
	f.sub = sub
	return f, nil
}

// share gives h every job-record write too, until the returned func is
// called; h runs on the feed's goroutine and must not block.
func (f *jobFeed) share(h nats.MsgHandler) (stop func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.setAlso(append(slices.Clone(f.handlers()), h))
	n := len(f.handlers()) - 1
	var once sync.Once
	return func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			hs := slices.Clone(f.handlers())
			hs[n] = func(*nats.Msg) {} // the others keep their places
			f.setAlso(hs)
		})
	}
}

func (f *jobFeed) handlers() []nats.MsgHandler {
	if hs := f.also.Load(); hs != nil {
		return *hs
	}
	return nil
}

func (f *jobFeed) setAlso(hs []nats.MsgHandler) { f.also.Store(&hs) }

func (f *jobFeed) notify(job string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for w := range f.byJob[job] {
		w.fire()
	}
}

// watch registers a follower of job; call the returned func to leave.
func (f *jobFeed) watch(job string) (*wakeup, func()) {
	w := &wakeup{C: make(chan struct{}, 1)}
	f.mu.Lock()
	set := f.byJob[job]
	if set == nil {
		set = map[*wakeup]struct{}{}
		f.byJob[job] = set
	}
	set[w] = struct{}{}
	f.n++
	f.mu.Unlock()
	var once sync.Once
	return w, func() {
		once.Do(func() {
			f.mu.Lock()
			delete(set, w)
			if len(set) == 0 {
				delete(f.byJob, job)
			}
			f.n--
			f.mu.Unlock()
		})
	}
}

// wakeAll wakes every follower: after a reconnect, writes may have been
// missed while the subscription was away.
func (f *jobFeed) wakeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, set := range f.byJob {
		for w := range set {
			w.fire()
		}
	}
}

// followers is the number of registered followers and of jobs they follow.
func (f *jobFeed) followers() (followers, jobs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, len(f.byJob)
}

func (f *jobFeed) valid() bool { return f.sub != nil && f.sub.IsValid() }

func (f *jobFeed) close() { _ = f.sub.Unsubscribe() }
