package sched

import (
	"context"
	"errors"
	"time"

	"batchinfer/internal/natsx"

	"github.com/nats-io/nats.go/jetstream"
)

// leaseKey is the scheduler's lease in the leases bucket (whose entries
// expire natsx.LeaseTTL after their last write).
const leaseKey = "scheduler"

// lead competes for the lease: a scheduler without it tries to create it;
// the holder renews it (compare-and-set on its revision) three times per
// lease, and steps down the moment a renewal fails.
func (s *Scheduler) lead() {
	var rev uint64
	var renewed time.Time
	t := time.NewTicker(natsx.LeaseTTL / 3)
	defer t.Stop()
	for {
		rev = s.leaseStep(rev, &renewed)
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// leaseStep takes or renews the lease and returns its revision (0: not
// held). A renewal that fails because NATS is away (a restart) keeps the
// lease until it would have lapsed: the same leader goes on when NATS is
// back, rather than nobody until the lease expires.
func (s *Scheduler) leaseStep(rev uint64, renewed *time.Time) uint64 {
	ctx, cancel := context.WithTimeout(s.ctx, natsx.LeaseTTL/3)
	defer cancel()
	kv := s.in.Buckets.Leases
	var err error
	next := rev
	if rev == 0 {
		next, err = kv.Create(ctx, leaseKey, []byte(s.id))
		if errors.Is(err, jetstream.ErrKeyExists) {
			if next, err = s.reclaim(ctx, kv); next == 0 {
				return 0 // another leads
			}
		}
	} else {
		next, err = kv.Update(ctx, leaseKey, []byte(s.id), rev)
	}
	if err != nil {
		if rev != 0 && !errors.Is(err, jetstream.ErrKeyExists) && time.Since(*renewed) < natsx.LeaseTTL {
			return rev // NATS away: still ours until it lapses
		}
		if s.setLeading(false) {
			s.log.Warn().Err(err).Msg("scheduler lease lost")
		}
		return 0
	}
	rev, *renewed = next, time.Now()
	if s.setLeading(true) {
		s.log.Info().Str("policy", s.cfg.Policy).Msg("scheduler leading")
		s.loadCursors()
		s.poke()
	}
	return rev
}

// reclaim takes back a lease that still names this scheduler: it stepped
// down while NATS was away for longer than the lease (a restart on a busy
// machine), and nobody else took it meanwhile. Waiting for the entry to
// expire would leave the queues without tickets for seconds. It returns
// the new revision, 0 when the lease is another's.
func (s *Scheduler) reclaim(ctx context.Context, kv jetstream.KeyValue) (uint64, error) {
	e, err := kv.Get(ctx, leaseKey)
	if err != nil || string(e.Value()) != s.id {
		return 0, err
	}
	return kv.Update(ctx, leaseKey, []byte(s.id), e.Revision())
}

// setLeading records whether this scheduler leads; it reports a change.
func (s *Scheduler) setLeading(v bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := s.leading != v
	s.leading = v
	if changed {
		s.metrics.leading(v)
	}
	return changed
}
