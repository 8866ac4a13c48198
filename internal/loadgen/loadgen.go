// Package loadgen drives a running batchinfer system the way its users do,
// from its own process: batch jobs in NDJSON, JSON and CSV followed live
// over WebSockets (with reconnects and resumes, re-subscribes, cancels and
// slow readers) and single-item synchronous predictions. It checks every
// result (each item exactly once, the class the system gives it alone) and
// samples the memory, file descriptors, goroutines and JetStream consumers
// of every server process over time, failing on any error, loss,
// duplicate or upward trend. `make soak` runs it.
package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"batchinfer/client"
	"batchinfer/internal/natsx"

	"github.com/rs/zerolog"
)

// Config shapes a run.
type Config struct {
	URL         string // gateway base URL
	APIKey      string // sent as a Bearer token when set
	Duration    time.Duration
	JobClients  int
	SyncClients int
	JobItems    int
	JobTimeout  time.Duration
	Interval    time.Duration // sampling period
	Warmup      time.Duration // trends are measured from here to the end of the load
	Settle      time.Duration // watched after the load, for memory to come back
	Corpus      string        // model/testdata
	Procs       []Process
	NATS        natsx.ConnConfig // to count JetStream consumers (optional)
	// MaxGrowth bounds RSS growth from Warmup to the end (0.10 = 10 %).
	MaxGrowth float64
	Log       zerolog.Logger
}

// Stats are the run's running totals.
type Stats struct {
	Jobs, Items, Predictions          atomic.Int64
	Errors, Lost, Duplicates          atomic.Int64
	Reconnects, Resubscribes, Cancels atomic.Int64
	SlowCloses, Replays               atomic.Int64
	// Refused counts submissions the system refused for want of room
	// (507 insufficient_storage, 429 quota): a clear answer, not a loss.
	// Unstored counts items that failed because the results store was full.
	Refused, Unstored atomic.Int64
}

type runner struct {
	cfg    Config
	corpus *corpus
	http   *client.Client
	stats  Stats
	lat    latencies

	mu     sync.Mutex
	errors []string
}

func (r *runner) count(c *atomic.Int64) { c.Add(1) }

func (r *runner) fail(err error) {
	r.stats.Errors.Add(1)
	r.mu.Lock()
	if len(r.errors) < 50 {
		r.errors = append(r.errors, time.Now().UTC().Format(time.RFC3339)+" "+err.Error())
	}
	r.mu.Unlock()
	r.cfg.Log.Warn().Err(err).Msg("load error")
}

// Run drives the load for cfg.Duration, then watches cfg.Settle, and
// returns the report (whose OK says whether the run passed).
func Run(ctx context.Context, cfg Config) (*Report, error) {
	c, err := loadCorpus(cfg.Corpus)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.JobClients + cfg.SyncClients + 8, IdleConnTimeout: time.Minute,
		ExpectContinueTimeout: client.ExpectContinueTimeout}
	hc := &client.Client{BaseURL: cfg.URL, Key: cfg.APIKey, HTTP: &http.Client{Transport: tr, Timeout: 2 * time.Minute},
		RetryFor: -1, UserAgent: "batchinfer-loadgen"} // every failure counts: no retries
	r := &runner{cfg: cfg, corpus: c, http: hc}
	if err := c.learn(ctx, r.http); err != nil {
		return nil, err
	}
	sm, err := newSampler(ctx, cfg.APIKey, cfg.Procs, cfg.NATS)
	if err != nil {
		return nil, err
	}
	defer sm.close()
	rep := &Report{Config: cfg.summary(), Started: time.Now().UTC()}
	rec := &recorder{r: r, sm: sm, rep: rep, t0: time.Now()}
	rec.take(ctx, "before")
	lctx, stop := context.WithTimeout(ctx, cfg.Duration)
	wg := r.startClients(lctx)
	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	rec.every(lctx, tick.C, "load", func() {
		cfg.Log.Info().Int64("jobs", r.stats.Jobs.Load()).Int64("items", r.stats.Items.Load()).
			Int64("predictions", r.stats.Predictions.Load()).Int64("errors", r.stats.Errors.Load()).Msg("progress")
	})
	stop()
	wg.Wait()
	tr.CloseIdleConnections() // the gateway's sockets to these clients close now, not a minute later
	rec.take(ctx, "load")
	sctx, cancel := context.WithTimeout(ctx, cfg.Settle)
	defer cancel()
	rec.every(sctx, tick.C, "after", func() {})
	rep.finish(r)
	return rep, nil
}

// startClients starts the job and sync clients until ctx ends.
func (r *runner) startClients(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	for i := 0; i < r.cfg.JobClients; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); (&jobClient{id: i, r: r}).loop(ctx) }(i)
	}
	for i := 0; i < r.cfg.SyncClients; i++ {
		wg.Add(1)
		go func(i int) { defer wg.Done(); (&syncClient{id: i, r: r}).loop(ctx) }(i)
	}
	return &wg
}

// recorder takes the report's samples.
type recorder struct {
	r   *runner
	sm  *sampler
	rep *Report
	t0  time.Time
}

func (c *recorder) take(ctx context.Context, phase string) {
	cons, procs := c.sm.sample(ctx)
	p50, p99 := c.r.lat.take()
	s := &c.r.stats
	c.rep.Samples = append(c.rep.Samples, Sample{
		At: time.Since(c.t0), Phase: phase, Jobs: s.Jobs.Load(), Items: s.Items.Load(),
		Syncs: s.Predictions.Load(), Errors: s.Errors.Load(), Refused: s.Refused.Load(), SyncP50: p50, SyncP99: p99,
		Consumers: cons, Procs: procs,
	})
}

// every samples at each tick until ctx ends. A sample is not cut short by
// ctx ending while it is taken (its reads have their own timeouts): a tick
// that came with the phase's end used to record the JetStream consumers
// and the scraped gauges as unreadable (-1), failing the consumer check.
func (c *recorder) every(ctx context.Context, tick <-chan time.Time, phase string, also func()) {
	for {
		select {
		case <-tick:
			if ctx.Err() != nil {
				return
			}
			c.take(context.WithoutCancel(ctx), phase)
			also()
		case <-ctx.Done():
			return
		}
	}
}

func (c Config) summary() map[string]string {
	return map[string]string{
		"url": c.URL, "duration": c.Duration.String(), "job_clients": fmt.Sprint(c.JobClients),
		"sync_clients": fmt.Sprint(c.SyncClients), "job_items": fmt.Sprint(c.JobItems), "interval": c.Interval.String(),
		"warmup": c.Warmup.String(), "settle": c.Settle.String(),
	}
}

func nopLogger() zerolog.Logger { return zerolog.Nop() }
