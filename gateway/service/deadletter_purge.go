package service

import (
	"context"
	"errors"

	"batchinfer/api"
	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/rs/zerolog"
)

// purgePage is how many letters a job's purge reads at a time.
const purgePage = 256

// PurgeLetter deletes a letter and its payload. One being redriven (or
// purged) by another request is a conflict; one gone already, not found.
func (s *Service) PurgeLetter(ctx context.Context, id string) error {
	l, err := s.letter(ctx, id)
	if err != nil {
		return err
	}
	octx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*natsOpTimeout)
	defer cancel()
	switch err := s.purge(octx, l); {
	case errors.Is(err, store.ErrLetterNotFound):
		return api.Errorf(api.CodeNotFound, "no dead letter %q", id)
	case err != nil:
		return letterErr(err)
	}
	s.Audit.Job(ctx, "letter_purged", l.Job, func(e *zerolog.Event) { e.Uint64("letter", l.Seq) })
	return nil
}

// purge claims a letter, deletes it and drops the claim. A full store
// (the claim cannot be written) purges without one: nothing could claim
// the letter then, and the purge makes room.
func (s *Service) purge(ctx context.Context, l *wire.DeadLetter) error {
	claim, err := s.letters.Claim(ctx, l, store.ClaimPurge, l.Tenant, claimStale)
	if err != nil && !natsx.IsFull(err) {
		return err
	}
	if err := s.letters.Delete(ctx, l); err != nil {
		if claim != 0 {
			_ = s.letters.Release(ctx, claim)
		}
		return err
	}
	s.metrics.purges.Inc()
	if claim == 0 {
		return nil
	}
	return s.letters.Release(ctx, claim)
}

// PurgeLetters deletes every letter of a job the caller may see (of its
// tenant; an operator's, of any) and returns how many went. Letters being
// redriven stay.
func (s *Service) PurgeLetters(ctx context.Context, job string) (int, error) {
	if !wire.ValidToken(job) {
		return 0, api.Errorf(api.CodeBadRequest, "job %q is not a valid job id", job)
	}
	filter, err := letterFilter(caller(ctx), LetterQuery{Job: job})
	if err != nil {
		return 0, err
	}
	purged, from := 0, uint64(0)
	for { // as long as the client waits: what is purged stays purged, a repeat goes on
		octx, cancel := s.op(ctx)
		letters, next, err := s.letters.List(octx, filter, from, purgePage)
		cancel()
		if err != nil {
			return purged, queueErr(err)
		}
		for _, l := range letters {
			var ce *store.ClaimedError
			octx, cancel := s.op(ctx)
			err := s.purge(octx, l)
			cancel()
			switch {
			case err == nil:
				purged++
			case errors.As(err, &ce) || errors.Is(err, store.ErrLetterNotFound):
			default:
				return purged, letterErr(err)
			}
		}
		if next == 0 {
			s.Audit.Job(ctx, "letters_purged", job, func(e *zerolog.Event) { e.Int("letters", purged) })
			return purged, nil
		}
		from = next
	}
}
