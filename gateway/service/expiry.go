package service

import (
	"context"
	"errors"
	"time"

	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// timerAckWait is how long a gateway has to act on a fired timer before
// another gateway gets it.
const timerAckWait = 30 * time.Second

// expirer acts on the jobs' fired timers, shared by every gateway through
// one durable consumer: a finished job's results expire at its ExpiresAt
// (purged, with its output files' indexes; the record stays, state expired), and the record of an expired
// job goes RecordTTL later, with its dead letters. Both are idempotent, so a timer delivered
// twice does no harm.
type expirer struct {
	jobs      *store.Jobs
	results   *store.Results
	outputs   *store.Outputs
	letters   *store.DeadLetters
	recordTTL time.Duration
	log       zerolog.Logger
	expired   func()
}

// run consumes fired timers until ctx ends.
func (e *expirer) run(ctx context.Context, cons jetstream.Consumer) {
	for ctx.Err() == nil {
		fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		batch, err := cons.Fetch(16, jetstream.FetchContext(fctx))
		if err != nil {
			cancel()
			e.log.Debug().Err(err).Msg("fetching timers failed, retrying")
			e.pause(ctx)
			continue
		}
		for m := range batch.Messages() {
			if err := e.handle(ctx, m.Subject()); err != nil {
				if ctx.Err() == nil {
					e.log.Warn().Err(err).Str("subject", m.Subject()).Msg("timer not handled, retried")
				}
				_ = m.NakWithDelay(5 * time.Second)
				continue
			}
			_ = m.Ack()
		}
		cancel()
	}
}

func (e *expirer) pause(ctx context.Context) {
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}

// handle acts on one fired timer.
func (e *expirer) handle(ctx context.Context, subject string) error {
	kind, job, ok := store.ParseFired(subject)
	if !ok {
		return nil // not ours: dropped
	}
	ctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	rec, err := e.jobs.Get(ctx, job)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	switch kind {
	case wire.TimerExpire:
		return e.expire(ctx, rec)
	case wire.TimerDelete:
		if err := e.outputs.Purge(ctx, rec.ID); err != nil { // an index built as it expired
			return err
		}
		if err := e.letters.PurgeJob(ctx, rec.ID); err != nil { // no job to redrive them into
			return err
		}
		return e.jobs.Delete(ctx, rec)
	}
	return nil
}

// expire purges a finished job's results once its ExpiresAt has passed (a
// timer set before the job's expiry moved is ignored).
func (e *expirer) expire(ctx context.Context, rec *wire.JobRecord) error {
	if rec.State == wire.StateExpired || !rec.Finished() || rec.ExpiresAt == nil || time.Now().Before(rec.ExpiresAt.Add(-time.Second)) {
		return nil
	}
	if err := e.results.Purge(ctx, rec.ID); err != nil {
		return err
	}
	if err := e.outputs.Purge(ctx, rec.ID); err != nil {
		return err
	}
	if _, err := e.jobs.Expire(ctx, rec.ID, e.recordTTL); err != nil {
		return err
	}
	e.expired()
	e.log.Debug().Str("job", rec.ID).Msg("job results expired")
	return nil
}
