// Command autoscaler sets the replica count of the worker service on
// Docker Swarm from the backlog in JetStream (docs/autoscaler.md).
//
//	autoscaler [flags]                       run the service (see -h)
//	autoscaler healthcheck                   exit 0 if the autoscaler at -metrics-addr / AUTOSCALER_METRICS_ADDR is healthy
//	autoscaler docker-proxy [flags]          run the allow-list proxy to the Docker socket (package dockerproxy)
//	autoscaler docker-proxy healthcheck      exit 0 if the proxy at -addr / DOCKER_PROXY_ADDR and its engine answer
package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"batchinfer/autoscaler"
	"batchinfer/autoscaler/dockerproxy"
	"batchinfer/internal/config"
	"batchinfer/internal/runx"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { runx.Main("autoscaler", run) }

func run(args []string) error {
	if proxy, rest := runx.Subcommand(args, "docker-proxy"); proxy {
		return runProxy(rest)
	}
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

// runProxy runs the Docker socket proxy until a signal.
func runProxy(args []string) error {
	healthcheck, args := runx.Subcommand(args, "healthcheck")
	log := config.Logger("docker-proxy")
	var cfg dockerproxy.Config
	s := config.New("docker-proxy")
	cfg.Flags(s)
	if err := s.Parse(args); err != nil {
		return err
	}
	if healthcheck {
		return runx.HealthcheckAt(cfg.Addr, "/proxy/health")
	}
	s.Log(log.Info()).Str("version", version).Msg("starting")
	p, err := dockerproxy.New(cfg, log)
	if err != nil {
		return err
	}
	if err := p.Start(); err != nil {
		return err
	}
	sig, failed := runx.Wait(context.Background())
	log.Info().Str("signal", fmt.Sprint(sig)).AnErr("failure", failed).Msg("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return errors.Join(failed, p.Stop(ctx))
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
