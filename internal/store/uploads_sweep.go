package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// Sweep deletes every upload past its expiry, unfinished or finished, with
// its bytes, and the bytes of uploads whose record is gone (a deletion
// that stopped half-way). It returns how many uploads it deleted. Every
// gateway may sweep at once: a record is deleted at the revision it was
// read at, so an upload that changed meanwhile waits for the next sweep.
func (u *Uploads) Sweep(ctx context.Context) (int, error) {
	// Subjects first, records second: a part's record is written before
	// the part, so a subject seen here whose record is not listed below
	// had its record deleted.
	subjects, err := u.dataSubjects(ctx)
	if err != nil {
		return 0, err
	}
	recs, err := u.records(ctx, "*.*")
	if err != nil {
		return 0, err
	}
	now := u.Now()
	var (
		n    int
		errs []error
	)
	for _, r := range recs {
		delete(subjects, r.ID)
		if !r.Expired(now) {
			continue
		}
		if err := u.remove(ctx, r); err != nil {
			if !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
				errs = append(errs, err)
			}
			continue
		}
		n++
	}
	for id := range subjects {
		errs = append(errs, u.purge(ctx, id, ""))
	}
	return n, errors.Join(errs...)
}

// dataSubjects lists the ids of the uploads that have parts stored.
func (u *Uploads) dataSubjects(ctx context.Context) (map[string]bool, error) {
	prefix := wire.UploadSubject("")
	si, err := u.stream.Info(ctx, jetstream.WithSubjectFilter(prefix+"*"))
	if err != nil {
		return nil, fmt.Errorf("list upload subjects: %w", err)
	}
	ids := make(map[string]bool, len(si.State.Subjects))
	for s := range si.State.Subjects {
		ids[strings.TrimPrefix(s, prefix)] = true
	}
	return ids, nil
}
