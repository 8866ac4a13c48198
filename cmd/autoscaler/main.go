// Command autoscaler sets the replica count of the worker service on
// Docker Swarm from the backlog in JetStream (docs/autoscaler.md).
//
//	autoscaler [flags]          run the service (see -h)
//	autoscaler healthcheck      exit 0 if the autoscaler at -metrics-addr / AUTOSCALER_METRICS_ADDR is healthy
package main

import (
	"context"
	"errors"
	"fmt"

	"batchinfer/autoscaler"
	"batchinfer/internal/config"
	"batchinfer/internal/runx"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { runx.Main("autoscaler", run) }

func run(args []string) error {
	healthcheck, args := runx.Subcommand(args, "healthcheck")
	log := config.Logger("autoscaler")
	var cfg autoscaler.Config
	s := config.New("autoscaler")
	cfg.Flags(s)
	if err := s.Parse(boolFlags(args)); err != nil {
		return err
	}
	if healthcheck {
		return runx.HealthcheckAt(cfg.MetricsAddr, "/health")
	}
	s.Log(log.Info()).Str("version", version).Msg("starting")
	a, err := autoscaler.New(cfg, log)
	if err != nil {
		return err
	}
	if err := a.Start(context.Background()); err != nil {
		return err
	}
	sig, failed := runx.Wait(context.Background(), a.Err())
	log.Info().Str("signal", fmt.Sprint(sig)).AnErr("failure", failed).Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Shutdown)
	defer cancel()
	return errors.Join(failed, a.Stop(ctx))
}

// boolFlags lets -dry-run be given alone, as a boolean flag is: the
// settings package has no boolean settings, so it is a text one.
func boolFlags(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "-dry-run" || a == "--dry-run" {
			a = "-dry-run=true"
		}
		out[i] = a
	}
	return out
}
