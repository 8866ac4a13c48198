// Command loadgen drives a running batchinfer system from its own process
// and checks it holds up: see package internal/loadgen. `make soak` runs it
// against a gateway, a worker and a NATS server started as separate
// processes, and exits 1 when a check fails.
//
//	loadgen -url http://127.0.0.1:8000 -duration 10m -proc gateway=PID@http://127.0.0.1:8000/metrics ...
//	loadgen new-key      print a new random API key
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"batchinfer/gateway/auth"
	"batchinfer/internal/config"
	"batchinfer/internal/loadgen"
	"batchinfer/internal/runx"
)

func main() { runx.Main("loadgen", run) }

// options are loadgen's settings beyond the load's own.
type options struct {
	procs        []string
	out, md      string
	maxGrowthPct int
}

func settings(s *config.Set, cfg *loadgen.Config, o *options) {
	s.String(&cfg.URL, "url", "LOADGEN_URL", "http://127.0.0.1:8000", "gateway base URL")
	s.Secret(&cfg.APIKey, "api-key", "LOADGEN_API_KEY", "API key, sent as a Bearer token")
	s.Duration(&cfg.Duration, "duration", "SOAK_DURATION", 10*time.Minute, "how long the load runs")
	s.Int(&cfg.JobClients, "job-clients", "SOAK_JOB_CLIENTS", 64, "clients submitting batch jobs and following them over WebSockets")
	s.Int(&cfg.SyncClients, "sync-clients", "SOAK_SYNC_CLIENTS", 32, "clients sending synchronous predictions")
	s.Int(&cfg.JobItems, "job-items", "SOAK_JOB_ITEMS", 1000, "items per batch job (slow readers get 10x)")
	s.Duration(&cfg.JobTimeout, "job-timeout", "SOAK_JOB_TIMEOUT", 5*time.Minute, "a job not ended after this counts as lost")
	s.Duration(&cfg.Interval, "interval", "SOAK_INTERVAL", 10*time.Second, "sampling period")
	s.Duration(&cfg.Warmup, "warmup", "SOAK_WARMUP", 2*time.Minute, "trends are measured from this point of the load")
	s.Duration(&cfg.Settle, "settle", "SOAK_SETTLE", time.Minute, "how long memory is watched after the load")
	s.Int(&o.maxGrowthPct, "max-growth", "SOAK_MAX_GROWTH", 10, "largest RSS growth in % from the warmup to the end of the load")
	s.String(&cfg.Corpus, "corpus", "SOAK_CORPUS", "model/testdata", "directory with digits_samples.json and breast_cancer_sample.csv")
	s.List(&o.procs, "proc", "SOAK_PROCS", nil, "server processes to sample: name=pid[@metrics-url], comma-separated")
	s.String(&cfg.NATS.URL, "nats-url", "NATS_URL", "", "NATS URL, to count JetStream consumers (optional)")
	s.String(&cfg.NATS.User, "nats-user", "NATS_USER", "", "NATS user name")
	s.Secret(&cfg.NATS.Password, "nats-password", "NATS_PASSWORD", "NATS password")
	s.String(&o.out, "out", "SOAK_OUT", "", "write the report as JSON here")
	s.String(&o.md, "markdown", "SOAK_MARKDOWN", "", "write the report as Markdown here")
}

func run(args []string) error {
	if len(args) == 1 && args[0] == "new-key" {
		fmt.Println(auth.NewKey()) // for scripts that set up a keys file
		return nil
	}
	var (
		cfg loadgen.Config
		o   options
	)
	s := config.New("loadgen")
	settings(s, &cfg, &o)
	if err := s.Parse(args); err != nil {
		return err
	}
	ps, err := loadgen.ParseProcesses(o.procs)
	if err != nil {
		return err
	}
	cfg.Procs, cfg.MaxGrowth, cfg.Log = ps, float64(o.maxGrowthPct)/100, config.Logger("loadgen")
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	rep, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return err
	}
	if err := write(rep, o); err != nil {
		return err
	}
	if !rep.OK() {
		return errors.New("soak failed: see the checks above")
	}
	return nil
}

// write prints the report and saves it as Markdown and JSON when asked.
func write(rep *loadgen.Report, o options) error {
	text := rep.Markdown()
	fmt.Println(text)
	if o.md != "" {
		if err := os.WriteFile(o.md, []byte(text), 0o644); err != nil {
			return err
		}
	}
	if o.out != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		return os.WriteFile(o.out, b, 0o644)
	}
	return nil
}
