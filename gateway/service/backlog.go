package service

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"

	"github.com/nats-io/nats.go/jetstream"
)

// Retry hints of a job refused for a full backlog: the time its excess
// takes to drain at the model's measured rate, within these bounds (the
// default when no rate is known).
const (
	backlogRetryMin     = time.Second
	backlogRetryMax     = 10 * time.Minute
	backlogRetryDefault = 30 * time.Second
)

// backlogGate admits batch jobs against the items not done yet of their
// model version (every tenant's), and of their tenant on it: a job that
// would pass either bound is refused with 429 backlog_full and a
// Retry-After, rather than queued behind hours of work. It learns the
// unfinished jobs from the active-jobs bucket (their model, tenant and
// items) and their progress from the job-record feed, so the backlog is
// the cluster's, not this gateway's; the jobs it admitted itself count at
// once. Concurrent submissions through several gateways may pass a bound
// together by their own sizes, until the bucket tells each of the others.
type backlogGate struct {
	maxModel, maxTenant int
	rate                func(model string) float64 // items/s the model's workers run

	mu   sync.Mutex
	jobs map[string]*backlogJob

	refused func(bound string)
}

// backlogJob is an unfinished job as the gate counts it.
type backlogJob struct {
	model, tenant    string
	items, processed int
}

func (j *backlogJob) left() int { return max(j.items-j.processed, 0) }

func newBacklogGate(maxModel, maxTenant int, rate func(string) float64, refused func(string)) *backlogGate {
	return &backlogGate{maxModel: maxModel, maxTenant: maxTenant, rate: rate, refused: refused, jobs: map[string]*backlogJob{}}
}

// backlog is the items not done of model, and of tenant's jobs on it.
func (g *backlogGate) backlog(model, tenant string) (all, own int) {
	for _, j := range g.jobs {
		if j.model != model {
			continue
		}
		all += j.left()
		if j.tenant == tenant {
			own += j.left()
		}
	}
	return all, own
}

// admit counts items more of tenant's on model (job, when not "", is
// entered at once) if both backlogs stay within their bounds; else a job
// that could never fit is too_many_items (413), one that may fit later
// backlog_full (429).
func (g *backlogGate) admit(job, model, tenant string, items int) error {
	switch {
	case items > g.maxModel:
		return api.Errorf(api.CodeTooManyItems, "a job of %d items exceeds the backlog bound of model %s (%d items, GATEWAY_MAX_MODEL_BACKLOG)", items, model, g.maxModel)
	case items > g.maxTenant:
		return api.Errorf(api.CodeTooManyItems, "a job of %d items exceeds a tenant's backlog bound on model %s (%d items, GATEWAY_MAX_TENANT_BACKLOG)", items, model, g.maxTenant)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	all, own := g.backlog(model, tenant)
	switch {
	case all+items > g.maxModel:
		g.refused("model")
		return api.RetryLater(api.CodeBacklogFull, g.retry(model, all+items-g.maxModel), nil,
			"model %s has %d items not done yet, and %d more would pass its backlog bound of %d (GATEWAY_MAX_MODEL_BACKLOG): retry later",
			model, all, items, g.maxModel)
	case own+items > g.maxTenant:
		g.refused("tenant")
		return api.RetryLater(api.CodeBacklogFull, g.retry(model, own+items-g.maxTenant), nil,
			"tenant %s has %d items not done yet on model %s, and %d more would pass its backlog bound of %d (GATEWAY_MAX_TENANT_BACKLOG): retry later",
			tenant, own, model, items, g.maxTenant)
	}
	if job != "" {
		g.jobs[job] = &backlogJob{model: model, tenant: tenant, items: items}
	}
	return nil
}

// retry is how long excess items take to drain at the model's rate.
func (g *backlogGate) retry(model string, excess int) time.Duration {
	r := 0.0
	if g.rate != nil {
		r = g.rate(model)
	}
	if r <= 0 {
		return backlogRetryDefault
	}
	return min(max(time.Duration(float64(excess)/r*float64(time.Second)), backlogRetryMin), backlogRetryMax)
}

// release forgets a job admitted here that was not created after all.
func (g *backlogGate) release(job string) {
	g.mu.Lock()
	delete(g.jobs, job)
	g.mu.Unlock()
}

// applyActive takes an entry of the active-jobs bucket (TENANT.JOB).
func (g *backlogGate) applyActive(e jetstream.KeyValueEntry) {
	key := e.Key()
	dot := strings.LastIndexByte(key, '.')
	job := key[dot+1:]
	g.mu.Lock()
	defer g.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(g.jobs, job)
		return
	}
	a, ok := store.ParseActive(e.Value())
	if !ok || a.Model == "" {
		return // an older deployment's entry: not counted
	}
	j := g.jobs[job]
	if j == nil {
		j = &backlogJob{}
		g.jobs[job] = j
	}
	j.model, j.tenant = a.Model, key[:max(dot, 0)]
	if a.Items > 0 || j.items == 0 { // a streamed body's job enters with none
		j.items = a.Items
	}
}

// record takes a job record as written (the job feed): an unfinished
// job's progress.
func (g *backlogGate) record(job string, data []byte) {
	g.mu.Lock()
	j := g.jobs[job]
	g.mu.Unlock()
	if j == nil {
		return
	}
	var c struct{ Total, Done, Failed, Skipped int }
	if json.Unmarshal(data, &c) != nil {
		return
	}
	g.mu.Lock()
	j.processed = c.Done + c.Failed + c.Skipped
	if c.Total > 0 {
		j.items = c.Total
	}
	g.mu.Unlock()
}
