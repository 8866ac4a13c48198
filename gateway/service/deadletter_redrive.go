package service

import (
	"context"
	"errors"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/rs/zerolog"
)

// claimStale is how long a redrive or purge of a letter may hold it
// without finishing before another takes it over (its gateway died
// midway; every step is idempotent).
const claimStale = time.Minute

// Redrive runs a letter's chunk again in its job, its items counted there
// exactly once: the outcome counted for the chunk (the run that died) is
// taken back with compare-and-set, the chunk's input is put back, the job
// opens again if it had finished, and the scheduler sends the chunk's
// ticket, which carries the letter so that only its run counts. The letter
// goes; its claim stays, so a second redrive is told it was redriven.
func (s *Service) Redrive(ctx context.Context, id string) (*api.Redriven, error) {
	l, err := s.redrivable(ctx, id)
	if err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*natsOpTimeout) // done whole once started
	defer cancel()
	claim, err := s.letters.Claim(octx, l, store.ClaimRedrive, l.Tenant, claimStale)
	if err != nil {
		return nil, letterErr(err)
	}
	st, err := s.redrive(octx, l)
	if err != nil {
		if rerr := s.letters.Release(octx, claim); rerr != nil {
			s.log.Warn().Err(rerr).Uint64("letter", l.Seq).Msg("releasing a redrive's claim failed: it lapses")
		}
		return nil, err
	}
	if err := s.letters.Delete(octx, l); err != nil && !errors.Is(err, store.ErrLetterNotFound) {
		s.log.Warn().Err(err).Uint64("letter", l.Seq).Msg("deleting a redriven letter failed: it stays listed, its redrive is done")
	}
	s.metrics.redrives.Inc()
	s.Audit.Job(ctx, "letter_redriven", l.Job, func(e *zerolog.Event) { e.Uint64("letter", l.Seq).Int("chunk", l.Chunk) })
	return &api.Redriven{Letter: id, Job: st}, nil
}

// redrivable reads letter id for a redrive: one redriven already is a
// conflict, a synchronous request's too (its caller had its answer).
func (s *Service) redrivable(ctx context.Context, id string) (*wire.DeadLetter, error) {
	l, err := s.letter(ctx, id)
	var ae *api.Error
	if errors.As(err, &ae) && ae.Code == api.CodeNotFound {
		return nil, s.redriven(ctx, id, err)
	}
	if err != nil {
		return nil, err
	}
	if l.Kind == wire.LetterSync {
		return nil, api.Errorf(api.CodeConflict, "dead letter %s is a synchronous request's: its caller was answered with the failure, there is no job to run it in", id)
	}
	return l, nil
}

// redriven answers a redrive of a letter that is not stored: a conflict
// when it was redriven (and the caller may see it), else notFound.
func (s *Service) redriven(ctx context.Context, id string, notFound error) error {
	seq, err := letterID(id)
	if err != nil {
		return notFound
	}
	octx, cancel := s.op(ctx)
	defer cancel()
	c, err := s.letters.Claimed(octx, seq)
	if err != nil {
		return queueErr(err)
	}
	p := caller(ctx)
	if c == nil || c.Op != store.ClaimRedrive || !visible(p, &wire.DeadLetter{Kind: wire.LetterBatch, Tenant: c.Tenant}) {
		return notFound
	}
	return api.Errorf(api.CodeConflict, "dead letter %s was redriven at %s", id, c.At.Format(time.RFC3339))
}

// redrive runs the steps of a redrive, each idempotent (a redrive taken
// over after its gateway died repeats them): the chunk's input back, the
// record's compare-and-set, the stale result gone, the job's quota.
func (s *Service) redrive(ctx context.Context, l *wire.DeadLetter) (wire.JobStatus, error) {
	rec, err := s.jobs.Get(ctx, l.Job)
	if errors.Is(err, store.ErrNotFound) || err == nil && rec.State == wire.StateExpired {
		return wire.JobStatus{}, api.Errorf(api.CodeExpired, "job %s of dead letter %d expired: there is nothing to run its chunk in", l.Job, l.Seq)
	}
	if err != nil {
		return wire.JobStatus{}, queueErr(err)
	}
	count, err := s.countedOf(ctx, rec, l)
	if err != nil {
		return wire.JobStatus{}, err
	}
	parts, err := s.letters.Parts(ctx, l)
	if err != nil {
		return wire.JobStatus{}, payloadErr(l, err)
	}
	if err := s.inputs.Restore(ctx, l.Model, l.Version, l.Job, l.Chunk, parts); err != nil {
		return wire.JobStatus{}, queueFullErr(err)
	}
	was := rec.Finished()
	rec, changed, err := s.jobs.Redrive(ctx, l.Job, count, l.Seq)
	if err != nil {
		if rec == nil || !rec.RedrivePending(l.Chunk) { // refused: the input goes again
			_ = s.inputs.DeleteChunk(ctx, l.Model, l.Version, l.Job, l.Chunk)
		}
		return wire.JobStatus{}, redriveErr(l, err)
	}
	if err := s.results.DropStale(ctx, l.Job, l.Chunk, l.Seq); err != nil {
		s.log.Warn().Err(err).Str("job", l.Job).Msg("dropping a redriven chunk's result failed: its run replaces it")
	}
	if was && changed {
		if err := s.jobs.Reserve(ctx, rec); err != nil {
			s.log.Warn().Err(err).Str("job", l.Job).Msg("reserving a re-opened job's quota failed")
		}
	}
	return s.status(rec), nil
}

// countedOf is what was counted for the letter's chunk: its stored
// result's counts and size, or, stored none (the results store was full),
// its items failed. A chunk that ran again since the letter was written
// (its result is of a later run) cannot be redriven from it.
func (s *Service) countedOf(ctx context.Context, rec *wire.JobRecord, l *wire.DeadLetter) (wire.ChunkCount, error) {
	c := wire.ChunkCount{Chunk: l.Chunk}
	if rec.RedrivePending(l.Chunk) { // taken back already (by this letter, or the record says which)
		return c, nil
	}
	cr, size, err := s.results.Chunk(ctx, l.Job, l.Chunk)
	if err != nil {
		return c, queueErr(err)
	}
	switch {
	case cr != nil && cr.Redrive != l.Redrive:
		return c, api.Errorf(api.CodeConflict, "dead letter %d is stale: chunk %d of job %s ran again since (from letter %d)", l.Seq, l.Chunk, l.Job, cr.Redrive)
	case cr != nil:
		c.Done, c.Failed, c.Skipped, c.Bytes = cr.Done, cr.Failed, cr.Skipped, int64(size)
		return c, nil
	}
	if reason, skipped := rec.UnstoredReason(l.Chunk); reason != "" && rec.IsCounted(l.Chunk) {
		if skipped {
			c.Skipped = l.Count
		} else {
			c.Failed = l.Count
		}
		return c, nil
	}
	return c, api.Errorf(api.CodeConflict, "chunk %d of job %s has no outcome to take back yet: retry later", l.Chunk, l.Job)
}

// redriveErr maps a redrive the job record refused.
func redriveErr(l *wire.DeadLetter, err error) error {
	switch {
	case errors.Is(err, wire.ErrRedriveExpired):
		return api.Errorf(api.CodeExpired, "dead letter %d: %v", l.Seq, err)
	case errors.Is(err, wire.ErrRedriveEnded), errors.Is(err, wire.ErrRedriveState):
		return api.Errorf(api.CodeConflict, "dead letter %d: %v", l.Seq, err)
	}
	return queueErr(err)
}
