package store

import (
	"context"
	"fmt"
	"time"

	"batchinfer/internal/wire"
)

// Redrive takes back the outcome counted for chunk c.Chunk (c: what was
// counted, from its stored result) with compare-and-set, so that the chunk
// runs again from dead letter letter (wire.JobRecord.Redrive), and enters
// the job in its tenant's unfinished set again: the scheduler sends the
// chunk's ticket, the expiry of a job that had finished waits for its new
// end. It returns the record and whether this call changed it (a redrive
// of the same letter recorded already changes nothing); a refusal wraps
// one of the wire.ErrRedrive errors.
func (j *Jobs) Redrive(ctx context.Context, id string, c wire.ChunkCount, letter uint64) (*wire.JobRecord, bool, error) {
	var refused error
	changed := false
	r, err := j.Update(ctx, id, func(r *wire.JobRecord) bool {
		changed, refused = r.Redrive(c, letter, time.Now().UTC())
		return changed
	})
	if err != nil {
		return nil, false, err
	}
	if refused != nil {
		return r, false, refused
	}
	key := wire.TenantKey(tenantOf(r), r.ID)
	if _, err := j.active.Put(ctx, key, wire.Marshal(activeOf(r, r.Total, r.ResultBytesEst))); err != nil {
		return r, changed, fmt.Errorf("redrive job %s: %w", id, err)
	}
	return r, changed, nil
}

// Reserve reserves a re-opened job's items in its tenant's quota record,
// without checking the tenant's limits: the job was admitted when it was
// submitted; its items count again while they run.
func (j *Jobs) Reserve(ctx context.Context, r *wire.JobRecord) error {
	return NewQuotas(j).Reopen(ctx, tenantOf(r), r.ID, r.RemainingCost(), r.ResultBytes)
}
