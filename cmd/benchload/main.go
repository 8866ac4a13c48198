// Command benchload is the load generator of scripts/bench.sh, run in its
// own process: it drives a gateway with batch jobs or synchronous
// predictions and prints one JSON line per measurement, with the CPU time
// of each server process (-proc name=pid) over the same window.
//
//	benchload -url http://127.0.0.1:8000 -proc gateway=PID,worker=PID,nats=PID job -format ndjson -items 100000
//	benchload ... sync -conns 64 -duration 10s
//	benchload ... sync -conns 16 -duration 5s -backlog 200000
//	benchload ... fair -scenario contend -policy fair -tenant-keys KA,KB -jobs 8 -items 100000 -small 256
//	benchload ... dataset -format csv -model breast_cancer -items 10000000 -dir /tmp -nats-dir DIR -nats-monitor http://127.0.0.1:8222
//	benchload report results.jsonl
//	benchload sink -addr 127.0.0.1:4318   (an OTLP/HTTP receiver counting spans: GET /count)
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
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
	inputs                                  string
	dir, output, natsDir, natsMonitor       string
	procs, tenantKeys                       []string
	scenario, policy                        string
	items, conns, backlog, jobs, small      int
	duration                                time.Duration
	keep                                    bool
}

// modes are the measurements benchload makes.
var modes = []string{"job", "sync", "dataset", "fair"}

func run(args []string) error {
	if len(args) == 2 && args[0] == "report" {
		return report(args[1])
	}
	if len(args) > 0 && args[0] == "sink" {
		return sink(args[1:])
	}
	if len(args) == 0 || !slices.Contains(modes, args[0]) {
		return fmt.Errorf("usage: benchload job|sync|dataset|fair [flags] | benchload report RESULTS.jsonl")
	}
	mode := args[0]
	var o options
	if err := flags(&o).Parse(args[1:]); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	procs, err := benchload.ParseProcesses(o.procs)
	if err != nil {
		return err
	}
	c := &benchload.Client{Client: &client.Client{BaseURL: o.url, Key: o.key, HTTP: httpClient(mode),
		RetryFor: -1, UserAgent: "batchinfer-benchload"}}
	shape, err := c.ItemShape(ctx, o.model)
	if err != nil {
		return err
	}
	co, err := benchload.LoadCorpus(o.samples, o.model, shape)
	if err != nil {
		return err
	}
	if err := useInputs(ctx, c, co, o.inputs); err != nil {
		return err
	}
	out, err := measure(ctx, mode, c, co, o, procs)
	if out != nil {
		if e := json.NewEncoder(os.Stdout).Encode(map[string]any{"kind": mode, "label": o.label, "result": out}); err == nil {
			err = e
		}
	}
	return err
}

// useInputs gives the corpus the item values -inputs names.
func useInputs(ctx context.Context, c *benchload.Client, co *benchload.Corpus, inputs string) error {
	switch inputs {
	case "samples":
	case "pixels":
		lo, hi, err := c.InputRange(ctx, co.Model)
		if err != nil {
			return err
		}
		co.UsePixels(8, lo, hi)
	default:
		return fmt.Errorf("-inputs %q: want samples or pixels", inputs)
	}
	return nil
}

// httpClient bounds each request of mode: a dataset's gigabytes up and
// down are bounded by the run's context alone.
func httpClient(mode string) *http.Client {
	if mode == "dataset" {
		return &http.Client{}
	}
	return &http.Client{Timeout: 10 * time.Minute}
}

// measure runs one measurement of mode; a dataset run that stops early
// still returns what it measured, with its error.
func measure(ctx context.Context, mode string, c *benchload.Client, co *benchload.Corpus, o options, procs []benchload.Process) (any, error) {
	switch mode {
	case "job":
		r, err := c.RunJob(ctx, co, o.format, o.items, procs)
		if err != nil {
			return nil, err
		}
		return r, nil
	case "fair":
		r, err := c.RunFair(ctx, co, benchload.FairConfig{
			Scenario: o.scenario, Policy: o.policy, Keys: o.tenantKeys, Jobs: o.jobs, Items: o.items, Small: o.small,
		}, procs)
		if err != nil {
			return nil, err
		}
		return r, nil
	case "dataset":
		r, err := datasetRun(ctx, c, co, o, procs)
		if r == nil {
			return nil, err
		}
		if err != nil {
			r.Error = err.Error()
		}
		return r, err
	}
	r, err := syncRun(ctx, c, co, o, procs)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// flags are benchload's settings, bound to o.
func flags(o *options) *config.Set {
	s := config.New("benchload")
	s.String(&o.url, "url", "BENCH_URL", "http://127.0.0.1:8000", "gateway base URL")
	s.Secret(&o.key, "api-key", "BENCH_API_KEY", "API key (rate and quotas high enough for the load)")
	s.String(&o.model, "model", "BENCH_MODEL", "digits", "model")
	s.String(&o.samples, "samples", "BENCH_SAMPLES", "model/testdata", "directory of the models' sample inputs")
	s.List(&o.procs, "proc", "BENCH_PROCS", nil, "server processes to measure, name=pid")
	s.String(&o.inputs, "inputs", "BENCH_INPUTS", "samples", "item values: samples (the model's sample inputs; random in [0, 1) for a model without) or pixels (random integers in the model's input range, 0 to 255 if it declares none: a decoded image)")
	s.String(&o.format, "format", "BENCH_FORMAT", "ndjson", "job body format: ndjson json csv b64 image octet npy npy-u8 (dataset: ndjson csv)")
	s.String(&o.label, "label", "BENCH_LABEL", "", "free text copied into the output line")
	s.Int(&o.items, "items", "BENCH_ITEMS", 100_000, "items of the job")
	s.Int(&o.conns, "conns", "BENCH_CONNS", 64, "connections of the synchronous load")
	s.Int(&o.backlog, "backlog", "BENCH_BACKLOG", 0, "batch items queued (in 100k jobs) before the synchronous load starts")
	s.Duration(&o.duration, "duration", "BENCH_DURATION", 10*time.Second, "length of the synchronous load")
	s.String(&o.dir, "dir", "BENCH_DATASET_DIR", os.TempDir(), "dataset: where the dataset and output files are written (and removed)")
	s.String(&o.output, "output", "BENCH_DATASET_OUTPUT", "", "dataset: format of the output file downloaded, ndjson or csv (\"\": the dataset's)")
	s.String(&o.natsDir, "nats-dir", "BENCH_NATS_DIR", "", "dataset: the NATS server's store directory, measured every second (\"\": not measured)")
	s.String(&o.natsMonitor, "nats-monitor", "BENCH_NATS_MONITOR", "", "dataset: the NATS server's monitoring URL, its /jsz read every second (\"\": not read)")
	s.Bool(&o.keep, "keep", "BENCH_DATASET_KEEP", false, "dataset: keep the files and the upload")
	fairFlags(s, o)
	return s
}

// fairFlags are the fairness scenario's settings (benchload fair).
func fairFlags(s *config.Set, o *options) {
	s.String(&o.scenario, "scenario", "BENCH_FAIR_SCENARIO", benchload.ScenarioContend, "fair: idle (B's small job alone), contend (A's backlog, then B's small job) or cost (-items in -jobs jobs of the tenants in turn)")
	s.String(&o.policy, "policy", "BENCH_FAIR_POLICY", "fair", "fair: the gateway's SCHED_POLICY, copied into the output line")
	s.List(&o.tenantKeys, "tenant-keys", "BENCH_TENANT_KEYS", nil, "fair: API keys of distinct tenants (A, B, then more for the cost scenario)")
	s.Int(&o.jobs, "jobs", "BENCH_FAIR_JOBS", 8, "fair: A's jobs (contend) or all jobs (cost)")
	s.Int(&o.small, "small", "BENCH_FAIR_SMALL", 256, "fair: items of B's job")
}

// datasetRun is a dataset job end to end, sampling memory and disk.
func datasetRun(ctx context.Context, c *benchload.Client, co *benchload.Corpus, o options, procs []benchload.Process) (*benchload.DatasetResult, error) {
	if o.output == "" {
		o.output = o.format
	}
	s := benchload.NewSampler(procs, o.natsDir, o.natsMonitor, time.Second)
	return c.RunDataset(ctx, co, benchload.DatasetOptions{Format: o.format, Output: o.output, Items: o.items,
		Dir: o.dir, Keep: o.keep, Procs: procs, Sampler: s})
}

// sink serves an OTLP/HTTP span counter until interrupted or terminated.
func sink(args []string) error {
	var addr string
	s := config.New("benchload sink")
	s.String(&addr, "addr", "BENCH_SINK_ADDR", "127.0.0.1:4318", "listen address of the OTLP/HTTP receiver")
	if err := s.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	k, err := benchload.StartSpanSink(addr)
	if err != nil {
		return err
	}
	defer k.Close()
	fmt.Fprintln(os.Stderr, "benchload: counting spans at", k.Addr())
	<-ctx.Done()
	return nil
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
