package sched

import (
	"time"

	"batchinfer/internal/wire"
)

// maxSnapshotJobs bounds the queued jobs one snapshot lists per model.
const maxSnapshotJobs = 2000

// snapshotLoop publishes, while leading, where each queued job stands
// (wire.SubjectQueue), and updates the backlog metrics.
func (s *Scheduler) snapshotLoop() {
	t := time.NewTicker(snapshotEvery)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		snap, ok := s.snapshot(time.Now())
		if ok {
			_ = s.in.NC.Publish(wire.SubjectQueue, wire.Marshal(snap))
		}
	}
}

// snapshot is the queued jobs' positions: the items served before each
// one's first (in flight, and what fair share serves first) and when it
// should start at the model's current rate.
func (s *Scheduler) snapshot(now time.Time) (wire.QueueSnapshot, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.leading {
		return wire.QueueSnapshot{}, false
	}
	snap := wire.QueueSnapshot{At: now.UTC(), Jobs: map[string]wire.QueuePosition{}}
	for _, q := range s.queues {
		q.updateRate(now)
		inflight := s.cfg.QueueChunks * 256 // tickets waiting, roughly
		n := 0
		for _, j := range q.fq.jobs() {
			if j.next > 0 || !j.pending() || n >= maxSnapshotJobs {
				continue
			}
			n++
			pos := wire.QueuePosition{ItemsAhead: inflight + q.fq.ahead(j)}
			if q.rate > 0 {
				at := now.Add(time.Duration(float64(pos.ItemsAhead) / q.rate * float64(time.Second))).UTC()
				pos.EstimatedStart = &at
			}
			snap.Jobs[j.id] = pos
		}
	}
	return snap, true
}

// updateRate folds the items sent since the last update into the rate.
func (q *modelQueue) updateRate(now time.Time) {
	d := now.Sub(q.lastRate).Seconds()
	if d <= 0 {
		return
	}
	r := float64(q.sent) / d
	if q.rate == 0 {
		q.rate = r
	} else {
		q.rate = 0.7*q.rate + 0.3*r
	}
	q.sent, q.lastRate = 0, now
}

// backlog is the items not sent yet and the age of the oldest job with
// some, per model, tenant and priority (leader only; empty otherwise).
type backlogKey struct{ model, tenant, priority string }

type backlogValue struct {
	items  int
	oldest time.Time
}

func (s *Scheduler) backlog() map[backlogKey]backlogValue {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[backlogKey]backlogValue{}
	if !s.leading {
		return out
	}
	for _, j := range s.byID {
		if !j.pending() {
			continue
		}
		k := backlogKey{j.model, j.tenant, rankName(j.rank)}
		v := out[k]
		v.items += j.left()
		if v.oldest.IsZero() || j.created.Before(v.oldest) {
			v.oldest = j.created
		}
		out[k] = v
	}
	return out
}

func rankName(r int) string {
	return [...]string{PriorityHigh, PriorityNormal, PriorityLow}[min(max(r, 0), 2)]
}
