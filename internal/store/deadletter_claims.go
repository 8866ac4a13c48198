package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// What a claim of a letter is for.
const (
	ClaimRedrive = "redrive"
	ClaimPurge   = "purge"
)

// ClaimRecord is a claim of a letter: a redrive or a purge of it under way
// since At, by a principal of Tenant. A redrive's claim stays once the
// letter is gone: the letter was redriven.
type ClaimRecord struct {
	Op     string    `json:"op"`
	Tenant string    `json:"tenant,omitempty"`
	At     time.Time `json:"at"`
}

// ClaimedError is a letter claimed by another redrive or purge.
type ClaimedError struct {
	Letter uint64
	Claim  ClaimRecord
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("letter %d: a %s is under way since %s", e.Letter, e.Claim.Op, e.Claim.At.Format(time.RFC3339))
}

// claimAttempts bounds the tries of a contended claim.
const claimAttempts = 3

// Claim claims letter l for op (ClaimRedrive, ClaimPurge) by tenant: one
// redrive or purge of a letter runs at a time, through any gateway. A claim
// older than stale whose letter is still stored was left by a gateway that
// died midway: it is taken over. It returns the claim's sequence, which
// Release drops. A letter claimed already is a *ClaimedError.
func (d *DeadLetters) Claim(ctx context.Context, l *wire.DeadLetter, op, tenant string, stale time.Duration) (uint64, error) {
	subj := wire.DeadClaimSubject(l.Job, l.Seq)
	data := wire.Marshal(ClaimRecord{Op: op, Tenant: tenant, At: time.Now().UTC()})
	expect := uint64(0)
	for attempt := 0; ; attempt++ {
		ack, err := d.js.Publish(ctx, subj, data, jetstream.WithExpectStream(wire.StreamDeadLetter), jetstream.WithExpectLastSequencePerSubject(expect))
		if err == nil {
			if expect != 0 { // the claim taken over goes
				_ = d.Release(ctx, expect)
			}
			return ack.Sequence, nil
		}
		if !natsx.IsWrongLastSequence(err) {
			return 0, fmt.Errorf("claim letter %d: %w", l.Seq, err)
		}
		m, err := d.stream.GetLastMsgForSubject(ctx, subj)
		if errors.Is(err, jetstream.ErrMsgNotFound) && attempt < claimAttempts {
			expect = 0 // released meanwhile
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("claim letter %d: %w", l.Seq, err)
		}
		var prev ClaimRecord
		if err := json.Unmarshal(m.Data, &prev); err != nil {
			return 0, fmt.Errorf("claim letter %d: %w", l.Seq, err)
		}
		if time.Since(prev.At) < stale || attempt >= claimAttempts {
			return 0, &ClaimedError{Letter: l.Seq, Claim: prev}
		}
		expect = m.Sequence // its holder died: taken over
	}
}

// Claimed reads the claim of letter seq, whatever its job, or nil when it
// has none: a redrive's that is left once the letter is gone says the
// letter was redriven.
func (d *DeadLetters) Claimed(ctx context.Context, seq uint64) (*ClaimRecord, error) {
	m, err := d.stream.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(wire.DeadClaimFilter(seq)))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read claim of letter %d: %w", seq, err)
	}
	var c ClaimRecord
	if err := json.Unmarshal(m.Data, &c); err != nil {
		return nil, fmt.Errorf("read claim of letter %d: %w", seq, err)
	}
	return &c, nil
}

// Release drops a claim (its redrive was refused, its purge is done).
func (d *DeadLetters) Release(ctx context.Context, claim uint64) error {
	if err := d.stream.DeleteMsg(ctx, claim); err != nil && !isNoMessage(err) {
		return fmt.Errorf("release claim %d: %w", claim, err)
	}
	return nil
}
