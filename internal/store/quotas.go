package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// Quotas keeps each tenant's reservations against its job quotas in one
// record (bucket quotas, key TENANT): the tenant's unfinished jobs and the
// cost of their items not done yet. A submission is admitted by adding its
// job to the record with compare-and-set, so that concurrent submissions,
// through any number of gateways, can never together pass a limit; a job
// leaves the record when it finishes (Jobs.Finished), or, if that was
// missed (a worker died in between), when a later admission finds it
// finished. Costs in the record are upper bounds, brought down to what is
// left of each job when an admission would otherwise be refused.
//
// The record also keeps the tenant's share of the results store: each
// unfinished job reserves its results' estimate; when it finishes, what it
// stored moves to Results, which its expiry takes back (Jobs.Expire). A
// tenant over its share is refused new jobs, so that one tenant's results
// cannot fill the store for every other.
type Quotas struct {
	kv   jetstream.KeyValue
	jobs *Jobs
}

// orphanAfter is how long a reservation may wait for its job's record: a
// submission reserves first and creates the record at once after, so a
// reservation without a record older than this is one whose creation
// failed.
const orphanAfter = time.Minute

// Usage is a tenant's quota record: each unfinished job's reservation.
type Usage struct {
	Jobs map[string]Reserved `json:"jobs"`
	// Results is the bytes the tenant's finished jobs hold in the results
	// store until they expire.
	Results int64 `json:"r,omitempty"`
}

// Reserved is one job's reservation.
type Reserved struct {
	Cost int64 `json:"c"` // an upper bound of the cost of its items not done
	At   int64 `json:"t"` // when it was made (Unix ms)
	// Results estimates the bytes its results will hold in the store.
	Results int64 `json:"b,omitempty"`
}

// Cost is the reserved cost of every job.
func (u *Usage) Cost() int64 {
	var c int64
	for _, r := range u.Jobs {
		c += r.Cost
	}
	return c
}

// ResultBytes is the results store the tenant holds or has reserved.
func (u *Usage) ResultBytes() int64 {
	n := u.Results
	for _, r := range u.Jobs {
		n += r.Results
	}
	return n
}

// QuotaLimits are a tenant's limits (zero: none).
type QuotaLimits struct {
	Jobs    int   // unfinished jobs
	Cost    int64 // cost of their items not done
	Results int64 // bytes of the results store held and reserved
}

// QuotaError says which limit a reservation would pass.
type QuotaError struct {
	Jobs    bool  // the jobs limit
	Results bool  // the results limit (neither: the cost limit)
	Have    int64 // jobs, cost or result bytes held and reserved now
	Want    int64 // the cost or result bytes asked for
}

func (e *QuotaError) Error() string {
	switch {
	case e.Jobs:
		return fmt.Sprintf("%d unfinished jobs", e.Have)
	case e.Results:
		return fmt.Sprintf("results of %d bytes held, %d more asked", e.Have, e.Want)
	}
	return fmt.Sprintf("cost %d in flight, %d more asked", e.Have, e.Want)
}

// NewQuotas returns the quota store over the buckets.
func NewQuotas(jobs *Jobs) *Quotas { return &Quotas{kv: jobs.quotas, jobs: jobs} }

// Reserve adds job, of cost and results estimate, to tenant's record if
// every limit holds, else returns a *QuotaError. Reserving a job already
// reserved changes nothing.
func (q *Quotas) Reserve(ctx context.Context, tenant, job string, cost, results int64, lim QuotaLimits) error {
	refreshed := false
	for attempt := 0; ; attempt++ {
		u, rev, err := q.get(ctx, tenant)
		if err != nil {
			return err
		}
		if _, ok := u.Jobs[job]; ok {
			return nil
		}
		qerr := check(u, cost, results, lim)
		if qerr != nil && !refreshed {
			refreshed = true
			if err := q.refresh(ctx, tenant); err != nil {
				return err
			}
			continue // read the refreshed record
		}
		if qerr != nil {
			return qerr
		}
		u.Jobs[job] = Reserved{Cost: cost, At: time.Now().UnixMilli(), Results: results}
		err = q.put(ctx, tenant, u, rev)
		if err == nil || !retryable(err, attempt) {
			return err
		}
	}
}

// SetCost sets the cost and results estimate of a job reserved before its
// items were read (a streamed body), if the tenant's cost and results
// limits still hold with them; else a *QuotaError, and the reservation
// keeps what it had.
func (q *Quotas) SetCost(ctx context.Context, tenant, job string, cost, results int64, lim QuotaLimits) error {
	refreshed := false
	for attempt := 0; ; attempt++ {
		u, rev, err := q.get(ctx, tenant)
		if err != nil {
			return err
		}
		r, ok := u.Jobs[job]
		if !ok {
			r = Reserved{At: time.Now().UnixMilli()}
		}
		delete(u.Jobs, job)
		if qerr := check(u, cost, results, QuotaLimits{Cost: lim.Cost, Results: lim.Results}); qerr != nil {
			if !refreshed {
				refreshed = true
				if err := q.refresh(ctx, tenant); err != nil {
					return err
				}
				continue
			}
			return qerr
		}
		r.Cost, r.Results = cost, results
		u.Jobs[job] = r
		err = q.put(ctx, tenant, u, rev)
		if err == nil || !retryable(err, attempt) {
			return err
		}
	}
}

func check(u *Usage, cost, results int64, lim QuotaLimits) *QuotaError {
	if lim.Jobs > 0 && len(u.Jobs) >= lim.Jobs {
		return &QuotaError{Jobs: true, Have: int64(len(u.Jobs))}
	}
	if lim.Cost > 0 && u.Cost()+cost > lim.Cost {
		return &QuotaError{Have: u.Cost(), Want: cost}
	}
	if held := u.ResultBytes(); lim.Results > 0 && held+results > lim.Results {
		return &QuotaError{Results: true, Have: held, Want: results}
	}
	return nil
}

// Settle takes a finished job out of tenant's record, its reservation of
// the results store replaced by held, what it stored; settling a job that
// is not there changes nothing.
func (q *Quotas) Settle(ctx context.Context, tenant, job string, held int64) error {
	return q.update(ctx, tenant, func(u *Usage) bool {
		if _, ok := u.Jobs[job]; !ok {
			return false
		}
		delete(u.Jobs, job)
		u.Results += max(held, 0)
		return true
	})
}

// Reopen reserves a finished job again (a redrive), without checking
// limits: its items' cost, and the results it holds, which move from the
// tenant's held bytes to the job until it settles again.
func (q *Quotas) Reopen(ctx context.Context, tenant, job string, cost, held int64) error {
	return q.update(ctx, tenant, func(u *Usage) bool {
		if _, ok := u.Jobs[job]; ok {
			return false
		}
		u.Jobs[job] = Reserved{Cost: cost, At: time.Now().UnixMilli(), Results: held}
		u.Results = max(u.Results-held, 0)
		return true
	})
}

// Free gives back held bytes of the results store (a finished job's
// results expired).
func (q *Quotas) Free(ctx context.Context, tenant string, held int64) error {
	return q.update(ctx, tenant, func(u *Usage) bool {
		if held <= 0 || u.Results == 0 {
			return false
		}
		u.Results = max(u.Results-held, 0)
		return true
	})
}

// Release takes job out of tenant's record (its job was not created);
// releasing a job that is not there changes nothing.
func (q *Quotas) Release(ctx context.Context, tenant, job string) error {
	return q.update(ctx, tenant, func(u *Usage) bool {
		if _, ok := u.Jobs[job]; !ok {
			return false
		}
		delete(u.Jobs, job)
		return true
	})
}

// refresh brings every reserved job's cost down to what is left of it,
// and drops the jobs that finished (their stored results counted as
// held, as Settle does), expired, or whose creation failed; jobs reserved
// meanwhile are left as they are.
func (q *Quotas) refresh(ctx context.Context, tenant string) error {
	before, _, err := q.get(ctx, tenant)
	if err != nil {
		return err
	}
	left, held, err := q.left(ctx, before)
	if err != nil {
		return err
	}
	return q.update(ctx, tenant, func(u *Usage) bool {
		changed := false
		for id, r := range u.Jobs {
			if _, seen := before.Jobs[id]; !seen {
				continue
			}
			l, ok := left[id]
			switch {
			case !ok:
				delete(u.Jobs, id)
				u.Results += held[id]
				changed = true
			case l < r.Cost:
				u.Jobs[id] = Reserved{Cost: l, At: r.At}
				changed = true
			}
		}
		return changed
	})
}

// left reads each reserved job's record: what is left of its cost, for
// the jobs that are neither finished nor gone (a job without a record yet,
// reserved less than orphanAfter ago, is being created: it keeps its
// reservation), and what the finished ones hold in the results store.
func (q *Quotas) left(ctx context.Context, u *Usage) (left, held map[string]int64, err error) {
	left, held = make(map[string]int64, len(u.Jobs)), map[string]int64{}
	now := time.Now().UnixMilli()
	for id, res := range u.Jobs {
		r, err := q.jobs.Get(ctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			if now-res.At < orphanAfter.Milliseconds() {
				left[id] = res.Cost
			}
		case err != nil:
			return nil, nil, err
		case !r.Finished():
			left[id] = r.RemainingCost()
		case r.State != wire.StateExpired:
			held[id] = r.ResultBytes
		}
	}
	return left, held, nil
}

// update applies fn to tenant's record with compare-and-set, retrying on
// conflicts; fn returns false to leave it unchanged.
func (q *Quotas) update(ctx context.Context, tenant string, fn func(*Usage) bool) error {
	for attempt := 0; ; attempt++ {
		u, rev, err := q.get(ctx, tenant)
		if err != nil {
			return err
		}
		if !fn(u) {
			return nil
		}
		err = q.put(ctx, tenant, u, rev)
		if err == nil || !retryable(err, attempt) {
			return err
		}
	}
}

// Usage reads tenant's record.
func (q *Quotas) Usage(ctx context.Context, tenant string) (*Usage, error) {
	u, _, err := q.get(ctx, tenant)
	return u, err
}

func (q *Quotas) get(ctx context.Context, tenant string) (*Usage, uint64, error) {
	u := &Usage{Jobs: map[string]Reserved{}}
	e, err := q.kv.Get(ctx, tenant)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return u, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("quota of %s: %w", tenant, err)
	}
	if len(e.Value()) > 0 {
		if err := json.Unmarshal(e.Value(), u); err != nil {
			return nil, 0, fmt.Errorf("decode quota of %s: %w", tenant, err)
		}
	}
	if u.Jobs == nil {
		u.Jobs = map[string]Reserved{}
	}
	return u, e.Revision(), nil
}

// put writes u at revision rev (0: the key must not exist).
func (q *Quotas) put(ctx context.Context, tenant string, u *Usage, rev uint64) error {
	b := wire.Marshal(u)
	var err error
	if rev == 0 {
		_, err = q.kv.Create(ctx, tenant, b)
	} else {
		_, err = q.kv.Update(ctx, tenant, b, rev)
	}
	if err != nil {
		return fmt.Errorf("quota of %s: %w", tenant, err)
	}
	return nil
}

// retryable says whether a compare-and-set lost a race and may try again.
func retryable(err error, attempt int) bool {
	return (errors.Is(err, jetstream.ErrKeyRevisionMismatch) || errors.Is(err, jetstream.ErrKeyExists)) && attempt < maxCASAttempts
}
