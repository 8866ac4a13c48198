// Command benchload is the load generator of scripts/bench.sh, run in its
// own process: it drives a gateway with batch jobs or synchronous
// predictions and prints one JSON line per measurement, with the CPU time
// of each server process (-proc name=pid) over the same window.
//
//	benchload -url http://127.0.0.1:8000 -proc gateway=PID,worker=PID,nats=PID job -format ndjson -items 100000
//	benchload ... sync -conns 64 -duration 10s
//	benchload ... sync -conns 16 -duration 5s -backlog 200000
//	benchload ... fair -scenario contend -policy fair -tenant-keys KA,KB -jobs 8 -items 100000 -small 256
//	benchload report results.jsonl
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"time"

	"batchinfer/client"
	"batchinfer/internal/benchload"
	"batchinfer/internal/config"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "benchload:", err)
		os.Exit(1)
	}
}

type options struct {
	url, key, model, samples, format, label string
	procs, tenantKeys                       []string
	scenario, policy                        string
	items, conns, backlog, jobs, small      int
	duration                                time.Duration
}

func run(args []string) error {
	if len(args) == 2 && args[0] == "report" {
		return report(args[1])
	}
	if len(args) == 0 || (args[0] != "job" && args[0] != "sync" && args[0] != "fair") {
		return fmt.Errorf("usage: benchload job|sync|fair [flags] | benchload report RESULTS.jsonl")
	}
	mode := args[0]
	var o options
	s := config.New("benchload")
	s.String(&o.url, "url", "BENCH_URL", "http://127.0.0.1:8000", "gateway base URL")
	s.Secret(&o.key, "api-key", "BENCH_API_KEY", "API key (rate and quotas high enough for the load)")
	s.String(&o.model, "model", "BENCH_MODEL", "digits", "model")
	s.String(&o.samples, "samples", "BENCH_SAMPLES", "model/testdata", "directory of the models' sample inputs")
	s.List(&o.procs, "proc", "BENCH_PROCS", nil, "server processes to measure, name=pid")
	s.String(&o.format, "format", "BENCH_FORMAT", "ndjson", "job body format: ndjson json csv b64 image octet npy")
	s.String(&o.label, "label", "BENCH_LABEL", "", "free text copied into the output line")
	s.Int(&o.items, "items", "BENCH_ITEMS", 100_000, "items of the job")
	s.Int(&o.conns, "conns", "BENCH_CONNS", 64, "connections of the synchronous load")
	s.Int(&o.backlog, "backlog", "BENCH_BACKLOG", 0, "batch items queued (in 100k jobs) before the synchronous load starts")
	s.Duration(&o.duration, "duration", "BENCH_DURATION", 10*time.Second, "length of the synchronous load")
	fairFlags(s, &o)
	if err := s.Parse(args[1:]); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	procs, err := benchload.ParseProcesses(o.procs)
	if err != nil {
		return err
	}
	c := &benchload.Client{Client: &client.Client{BaseURL: o.url, Key: o.key, HTTP: &http.Client{Timeout: 10 * time.Minute},
		RetryFor: -1, UserAgent: "batchinfer-benchload"}}
	shape, err := c.ItemShape(ctx, o.model)
	if err != nil {
		return err
	}
	co, err := benchload.LoadCorpus(o.samples, o.model, shape)
	if err != nil {
		return err
	}
	var out any
	switch mode {
	case "job":
		out, err = c.RunJob(ctx, co, o.format, o.items, procs)
	case "fair":
		out, err = c.RunFair(ctx, co, benchload.FairConfig{
			Scenario: o.scenario, Policy: o.policy, Keys: o.tenantKeys, Jobs: o.jobs, Items: o.items, Small: o.small,
		}, procs)
	default:
		out, err = syncRun(ctx, c, co, o, procs)
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"kind": mode, "label": o.label, "result": out})
}

// fairFlags are the fairness scenario's settings (benchload fair).
func fairFlags(s *config.Set, o *options) {
	s.String(&o.scenario, "scenario", "BENCH_FAIR_SCENARIO", benchload.ScenarioContend, "fairness scenario: idle (B's small job alone), contend (A's backlog, then B's small job) or cost (-items in -jobs jobs of the tenants in turn)")
	s.String(&o.policy, "policy", "BENCH_FAIR_POLICY", "fair", "the gateway's SCHED_POLICY, copied into the output line")
	s.List(&o.tenantKeys, "tenant-keys", "BENCH_TENANT_KEYS", nil, "API keys of distinct tenants (A, B, then more for the cost scenario)")
	s.Int(&o.jobs, "jobs", "BENCH_FAIR_JOBS", 8, "A's jobs (contend) or all jobs (cost)")
	s.Int(&o.small, "small", "BENCH_FAIR_SMALL", 256, "items of B's job")
}

// report writes the markdown tables of a results file to stdout.
func report(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return benchload.Report(f, os.Stdout)
}

// syncRun is the synchronous load, behind a batch backlog when asked.
func syncRun(ctx context.Context, c *benchload.Client, co *benchload.Corpus, o options, procs []benchload.Process) (*benchload.SyncResult, error) {
	var ids []string
	defer func() {
		for _, id := range ids {
			_ = c.Cancel(context.Background(), id)
		}
	}()
	if o.backlog > 0 {
		var err error
		if ids, err = c.Backlog(ctx, co, (o.backlog+99_999)/100_000, min(o.backlog, 100_000)); err != nil {
			return nil, err
		}
	}
	r, err := c.RunSync(ctx, co, o.conns, o.duration, procs)
	if r != nil && o.backlog > 0 {
		r.BatchedWith = fmt.Sprintf("%d batch items queued", o.backlog)
	}
	return r, err
}
