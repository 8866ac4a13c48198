package benchload

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"batchinfer/internal/wire"
)

// Fairness scenarios (FairConfig.Scenario).
const (
	// ScenarioIdle is tenant B's small job alone: T_B_idle.
	ScenarioIdle = "idle"
	// ScenarioContend is tenant A's backlog of Jobs × Items, then B's
	// small job: T_B, A's drain time T_A, and the items/s of both.
	ScenarioContend = "contend"
	// ScenarioCost is Items items in Jobs jobs submitted together, spread
	// over the tenants: items/s and CPU per item with that many active jobs
	// (1 job: one tenant, one job).
	ScenarioCost = "cost"
)

// FairConfig shapes one fairness measurement.
type FairConfig struct {
	Scenario string
	Policy   string   // the gateway's SCHED_POLICY (a label: benchload cannot see it)
	Keys     []string // one API key per tenant: A is the first, B the second
	Jobs     int      // A's jobs (contend) or all jobs (cost)
	Items    int      // items of each of A's jobs (contend), of all jobs together (cost)
	Small    int      // B's job (idle, contend)
	Poll     time.Duration
}

// FairResult is one fairness measurement. Times are from the client's
// submission to the job's finished_at (the gateway's clock, on the same
// machine), so how often the client polls does not count.
type FairResult struct {
	Scenario, Policy string
	Tenants, Jobs    int
	Items            int           // every item submitted (A's, B's)
	SmallItems       int           // B's job
	Small            time.Duration // T_B: B's submission to its end
	Drain            time.Duration // T_A: A's first submission to its last job's end (cost: of all jobs)
	Span             time.Duration // first submission to the last end of any job
	Submit           time.Duration // to submit the backlog (202s)
	CPU              map[string]time.Duration
	Load             string // the machine's load average (1, 5, 15 min) at the end
}

// ItemsPerSec is every item over the span.
func (r FairResult) ItemsPerSec() float64 {
	if r.Span <= 0 {
		return 0
	}
	return float64(r.Items) / r.Span.Seconds()
}

// submitted is a job the scenario follows: whose, when sent, its expected
// classes.
type submitted struct {
	id     string
	tenant int
	sent   time.Time
	want   []int
	end    time.Time
}

// RunFair runs one fairness scenario with corpus co, measuring procs' CPU
// over it.
func (c *Client) RunFair(ctx context.Context, co *Corpus, cfg FairConfig, procs []Process) (*FairResult, error) {
	if len(cfg.Keys) < 2 {
		return nil, fmt.Errorf("fair: want at least 2 tenant keys, got %d", len(cfg.Keys))
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 50 * time.Millisecond
	}
	meter, err := startCPU(procs)
	if err != nil {
		return nil, err
	}
	var r *FairResult
	switch cfg.Scenario {
	case ScenarioIdle:
		r, err = c.fairIdle(ctx, co, cfg)
	case ScenarioContend:
		r, err = c.fairContend(ctx, co, cfg)
	case ScenarioCost:
		r, err = c.fairCost(ctx, co, cfg)
	default:
		return nil, fmt.Errorf("fair: scenario %q: want %s, %s or %s", cfg.Scenario, ScenarioIdle, ScenarioContend, ScenarioCost)
	}
	if err != nil {
		return nil, err
	}
	r.CPU = meter.stop()
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		r.Load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	r.Scenario, r.Policy = cfg.Scenario, cfg.Policy
	return r, nil
}

// as is the client of tenant i.
func (c *Client) as(cfg FairConfig, i int) *Client {
	t := *c.Client
	t.Key = cfg.Keys[i%len(cfg.Keys)]
	return &Client{Client: &t}
}

// fairIdle is B's small job on an idle system.
func (c *Client) fairIdle(ctx context.Context, co *Corpus, cfg FairConfig) (*FairResult, error) {
	b, err := c.as(cfg, 1).send(ctx, co, 1, cfg.Small)
	if err != nil {
		return nil, err
	}
	if err := c.as(cfg, 1).await(ctx, []*submitted{b}, cfg.Poll); err != nil {
		return nil, err
	}
	d := b.end.Sub(b.sent)
	return &FairResult{Tenants: 1, Jobs: 1, Items: cfg.Small, SmallItems: cfg.Small, Small: d, Span: d}, nil
}

// fairContend queues A's backlog, then B's small job, and waits for all.
func (c *Client) fairContend(ctx context.Context, co *Corpus, cfg FairConfig) (*FairResult, error) {
	ca, cb := c.as(cfg, 0), c.as(cfg, 1)
	var as []*submitted
	for range cfg.Jobs {
		j, err := ca.send(ctx, co, 0, cfg.Items)
		if err != nil {
			return nil, err
		}
		as = append(as, j)
	}
	submit := time.Since(as[0].sent)
	b, err := cb.send(ctx, co, 1, cfg.Small)
	if err != nil {
		return nil, err
	}
	if err := cb.await(ctx, []*submitted{b}, cfg.Poll); err != nil {
		return nil, err
	}
	if err := ca.await(ctx, as, cfg.Poll); err != nil {
		return nil, err
	}
	lastA := lastEnd(as)
	return &FairResult{
		Tenants: 2, Jobs: cfg.Jobs, Items: cfg.Jobs*cfg.Items + cfg.Small, SmallItems: cfg.Small,
		Small: b.end.Sub(b.sent), Drain: lastA.Sub(as[0].sent), Span: lastEnd(append(as, b)).Sub(as[0].sent), Submit: submit,
	}, nil
}

// fairCost submits Items in Jobs jobs at once (16 submissions in flight),
// spread over the tenants in turn, and waits for all.
func (c *Client) fairCost(ctx context.Context, co *Corpus, cfg FairConfig) (*FairResult, error) {
	n := max(1, cfg.Items/max(cfg.Jobs, 1))
	jobs := make([]*submitted, cfg.Jobs)
	errs := make([]error, cfg.Jobs)
	sem := make(chan struct{}, 16)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range cfg.Jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			jobs[i], errs[i] = c.as(cfg, i).send(ctx, co, i%len(cfg.Keys), n)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	submit := time.Since(start)
	for t := range min(cfg.Jobs, len(cfg.Keys)) {
		var mine []*submitted
		for _, j := range jobs {
			if j.tenant == t {
				mine = append(mine, j)
			}
		}
		if err := c.as(cfg, t).await(ctx, mine, cfg.Poll); err != nil {
			return nil, err
		}
	}
	span := lastEnd(jobs).Sub(start)
	return &FairResult{Tenants: min(cfg.Jobs, len(cfg.Keys)), Jobs: cfg.Jobs, Items: cfg.Jobs * n, Drain: span, Span: span, Submit: submit}, nil
}

func lastEnd(js []*submitted) time.Time {
	var t time.Time
	for _, j := range js {
		if j.end.After(t) {
			t = j.end
		}
	}
	return t
}

// send submits a job of n items in NDJSON as tenant.
func (c *Client) send(ctx context.Context, co *Corpus, tenant, n int) (*submitted, error) {
	ct, body, want, err := co.Body("ndjson", n)
	if err != nil {
		return nil, err
	}
	s := &submitted{tenant: tenant, sent: time.Now(), want: want}
	if s.id, err = c.submit(ctx, co.Model, ct, body); err != nil {
		return nil, err
	}
	return s, nil
}

// await polls the jobs, one at a time in the order given, until each has
// ended; each must have completed every item. The job of fewer than 10,000
// items has its results read and checked too (a large one's would cost the
// gateway more than the scheduler being measured).
func (c *Client) await(ctx context.Context, js []*submitted, poll time.Duration) error {
	for _, j := range js {
		st, err := c.waitEnd(ctx, j.id, poll)
		if err != nil {
			return err
		}
		if st.State != wire.StateCompleted || st.Done != st.Total || st.Failed != 0 {
			return fmt.Errorf("fair: job %s ended %s with %d of %d done, %d failed", j.id, st.State, st.Done, st.Total, st.Failed)
		}
		j.end = *st.FinishedAt
	}
	for _, j := range js {
		if len(j.want) < 10_000 {
			if bad, err := c.stream(ctx, j.id, j.want); err != nil || bad > 0 {
				return fmt.Errorf("fair: job %s results: %d wrong classes, %v", j.id, bad, err)
			}
		}
	}
	return nil
}

// waitEnd polls a job until it has a finished_at.
func (c *Client) waitEnd(ctx context.Context, id string, poll time.Duration) (*wire.JobStatus, error) {
	for {
		st, err := c.status(ctx, id)
		if err != nil {
			return nil, err
		}
		if st.FinishedAt != nil {
			return st, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll):
		}
	}
}

func (c *Client) status(ctx context.Context, id string) (*wire.JobStatus, error) {
	j, err := c.Job(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	return &j.JobStatus, nil
}
