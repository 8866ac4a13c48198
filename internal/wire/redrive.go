package wire

import (
	"errors"
	"fmt"
	"time"
)

// ChunkRedrive is a chunk of a job taken back from its dead letter (Letter,
// the letter's stream sequence) to run again, not counted yet.
type ChunkRedrive struct {
	Chunk  int    `json:"chunk"`
	Letter uint64 `json:"letter"`
}

// MaxPendingRedrives bounds a job's redrives not counted yet (its record
// holds them).
const MaxPendingRedrives = 256

// Refusals of a redrive (JobRecord.Redrive); each is wrapped with the
// details.
var (
	// ErrRedriveExpired: the job's results expired (nothing to add to).
	ErrRedriveExpired = errors.New("the job's results expired")
	// ErrRedriveEnded: the job can no longer run items (it failed as a
	// whole, was cancelled, or passed its deadline).
	ErrRedriveEnded = errors.New("the job runs no more items")
	// ErrRedriveState: the chunk is not in a state to run again (no
	// outcome yet, being redriven, or too many redrives in flight).
	ErrRedriveState = errors.New("the chunk cannot run again now")
)

// pendingRedrive is the index in Redrives of chunk c's, or -1.
func (r *JobRecord) pendingRedrive(c int) int {
	for k, d := range r.Redrives {
		if d.Chunk == c {
			return k
		}
	}
	return -1
}

// RedrivePending reports whether chunk c waits for a redriven run.
func (r *JobRecord) RedrivePending(c int) bool { return r.pendingRedrive(c) >= 0 }

// Redrive takes back the outcome counted for chunk c.Chunk (c: what was
// counted, its stored result's counts and size) so that it runs again from
// dead letter letter; a finished job is open again (its FinishedAt and
// ExpiresAt cleared). It reports whether it changed the record: a redrive
// of the same letter already recorded changes nothing. A refusal wraps one
// of the ErrRedrive errors.
func (r *JobRecord) Redrive(c ChunkCount, letter uint64, now time.Time) (bool, error) {
	if err := r.redrivable(c.Chunk, letter, now); err != nil || r.pendingRedrive(c.Chunk) >= 0 {
		return false, err
	}
	r.uncount(c.Chunk)
	r.Done -= c.Done
	r.Failed -= c.Failed
	r.Skipped -= c.Skipped
	r.ResultBytes = max(0, r.ResultBytes-c.Bytes)
	r.dropUnstored(c.Chunk)
	r.Redrives = append(r.Redrives, ChunkRedrive{Chunk: c.Chunk, Letter: letter})
	r.Redriven++
	r.FinishedAt, r.ExpiresAt, r.UpdatedAt = nil, nil, &now
	return true, nil
}

// redrivable says why chunk c cannot run again from letter now (nil: it
// can, or already does from that letter).
func (r *JobRecord) redrivable(c int, letter uint64, now time.Time) error {
	switch {
	case r.State == StateExpired:
		return fmt.Errorf("%w: job %s expired", ErrRedriveExpired, r.ID)
	case r.State == StateFailed:
		return fmt.Errorf("%w: job %s failed as a whole (%s)", ErrRedriveEnded, r.ID, r.Error)
	case r.CancelledAt != nil:
		return fmt.Errorf("%w: job %s was cancelled", ErrRedriveEnded, r.ID)
	case r.Deadline != nil && now.After(*r.Deadline):
		return fmt.Errorf("%w: job %s passed its deadline %s", ErrRedriveEnded, r.ID, r.Deadline.Format(time.RFC3339))
	case r.SkipFrom != nil && c >= *r.SkipFrom:
		return fmt.Errorf("%w: chunk %d of job %s was skipped", ErrRedriveEnded, c, r.ID)
	}
	if k := r.pendingRedrive(c); k >= 0 {
		if r.Redrives[k].Letter == letter {
			return nil
		}
		return fmt.Errorf("%w: chunk %d of job %s is being redriven from letter %d", ErrRedriveState, c, r.ID, r.Redrives[k].Letter)
	}
	switch {
	case c < 0 || !r.IsCounted(c):
		return fmt.Errorf("%w: chunk %d of job %s has no outcome yet", ErrRedriveState, c, r.ID)
	case len(r.Redrives) >= MaxPendingRedrives:
		return fmt.Errorf("%w: job %s has %d redrives running (at most %d): retry when they are done", ErrRedriveState, r.ID, len(r.Redrives), MaxPendingRedrives)
	}
	return nil
}

// uncount clears chunk c's counted bit, spreading CountedBelow back out
// into the bitset when c is below it.
func (r *JobRecord) uncount(c int) {
	if c < r.CountedBelow {
		below := c - c%8
		full := make([]byte, (r.CountedBelow-below)/8, (r.CountedBelow-below)/8+len(r.Counted))
		for k := range full {
			full[k] = 0xff
		}
		r.Counted, r.CountedBelow = append(full, r.Counted...), below
	}
	i := c - r.CountedBelow
	if i/8 < len(r.Counted) {
		r.Counted[i/8] &^= 1 << (i % 8)
	}
}

// dropUnstored takes chunk c out of the unstored spans (splitting the one
// it is in while there is room for one more; a span left covering it is
// harmless: a stored result is read first).
func (r *JobRecord) dropUnstored(c int) {
	for k, s := range r.Unstored {
		if c < s.From || c >= s.To {
			continue
		}
		switch {
		case s.To-s.From == 1:
			r.Unstored = append(r.Unstored[:k], r.Unstored[k+1:]...)
		case c == s.From:
			r.Unstored[k].From++
		case c == s.To-1:
			r.Unstored[k].To--
		case len(r.Unstored) < maxUnstoredSpans:
			r.Unstored[k].To = c
			r.Unstored = append(r.Unstored, ChunkSpan{From: c + 1, To: s.To, Reason: s.Reason, Skipped: s.Skipped})
		}
		return
	}
}

// skipRedrives ends the redrives of a job whose chunks from from on are
// skipped: those below from are counted as skipped with reason now (their
// tickets may never be sent), those from on are skipped already.
func (r *JobRecord) skipRedrives(from int, reason string) {
	for _, d := range r.Redrives {
		if d.Chunk >= from || r.IsCounted(d.Chunk) {
			continue
		}
		i := d.Chunk - r.CountedBelow
		if need := i/8 + 1; len(r.Counted) < need {
			r.Counted = append(r.Counted, make([]byte, need-len(r.Counted))...)
		}
		r.Counted[i/8] |= 1 << (i % 8)
		r.Skipped += r.chunkItems(d.Chunk)
		r.addUnstored(d.Chunk, reason, true)
	}
	r.Redrives = nil
}

// FirstUnsent is the first chunk that has no outcome and waits for no
// redrive: where sending goes on (up to Chunks, or Ingested while a
// dataset is read).
func (r *JobRecord) FirstUnsent() int {
	end := r.Chunks
	if r.State == StateAccepting {
		end = r.Ingested
	}
	c := r.CountedBelow
	for c < end {
		i := c - r.CountedBelow
		if i%8 == 0 && i/8 < len(r.Counted) && r.Counted[i/8] == 0xff {
			c += 8 // a byte of counted chunks at once
			continue
		}
		if !r.IsCounted(c) && !r.RedrivePending(c) {
			return c
		}
		c++
	}
	return max(end, r.CountedBelow)
}
