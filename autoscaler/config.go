package autoscaler

import (
	"fmt"
	"strconv"
	"time"

	"batchinfer/internal/config"
	"batchinfer/internal/natsx"
)

// Config configures an Autoscaler. Zero values take the defaults below.
type Config struct {
	NATS natsx.ConnConfig
	// Service is the Swarm service scaled (name or id), e.g. batchinfer_worker.
	Service string
	// Interval is how often the backlog is read and a decision taken.
	Interval time.Duration
	// Policy is how the replica count is decided.
	Policy Policy
	// DryRun logs the decisions without calling Docker: the replica count
	// is kept in memory, starting at the number of live workers.
	DryRun bool
	// MetricsAddr serves /metrics and /health; empty disables it.
	MetricsAddr string
	// Shutdown is the deadline of a graceful shutdown (the command's).
	Shutdown time.Duration

	// dryRunText is the -dry-run setting as given (config.Set has no
	// boolean settings): "true", "false", "1", "0" or empty.
	dryRunText string
}

// Defaults are every setting's default, written once: the flags and
// in-process users (tests) both take them from here.
func Defaults() Config {
	return Config{
		Service:  "batchinfer_worker",
		Interval: 5 * time.Second,
		Policy: Policy{
			Min: 1, Max: 10, TargetDrain: 60 * time.Second, AssumedRate: 200,
			UpCooldown: 30 * time.Second, DownCooldown: 3 * time.Minute, DeadBand: 0.2,
		},
		MetricsAddr: ":9090",
		Shutdown:    10 * time.Second,
	}
}

// Flags registers the settings on s, in the style of every command.
func (c *Config) Flags(s *config.Set) {
	d := Defaults()
	p, dp := &c.Policy, d.Policy
	s.String(&c.Service, "service", "AUTOSCALER_SERVICE", d.Service, "Swarm service to scale (name or id)")
	s.Duration(&c.Interval, "interval", "AUTOSCALER_INTERVAL", d.Interval, "how often the backlog is read and a decision taken")
	s.Duration(&p.TargetDrain, "target-drain", "AUTOSCALER_TARGET_DRAIN", dp.TargetDrain, "the backlog should drain within this time: replicas = ceil(backlog / (items/s per worker x target))")
	s.Float(&p.AssumedRate, "assumed-rate", "AUTOSCALER_ASSUMED_RATE", dp.AssumedRate, "items/s per worker assumed until a worker has measured its own")
	s.Int(&p.Min, "min", "AUTOSCALER_MIN", dp.Min, "fewest replicas (0: scale to zero when idle, wake at the first queued item)")
	s.Int(&p.Max, "max", "AUTOSCALER_MAX", dp.Max, "most replicas")
	s.Duration(&p.UpCooldown, "scale-up-cooldown", "AUTOSCALER_SCALE_UP_COOLDOWN", dp.UpCooldown, "least time between a change of the replica count and a scale up")
	s.Duration(&p.DownCooldown, "scale-down-cooldown", "AUTOSCALER_SCALE_DOWN_COOLDOWN", dp.DownCooldown, "how long fewer replicas must keep sufficing before scaling down")
	s.Float(&p.DeadBand, "dead-band", "AUTOSCALER_DEAD_BAND", dp.DeadBand, "headroom kept when scaling down (0.2: scale down only to a count that would still drain 20% more)")
	s.String(&c.MetricsAddr, "metrics-addr", "AUTOSCALER_METRICS_ADDR", d.MetricsAddr, "serve /metrics and /health here (empty: off)")
	s.String(&c.dryRunText, "dry-run", "AUTOSCALER_DRY_RUN", "false", "log decisions without calling Docker (true or false)")
	s.NATS(&c.NATS, "nats://127.0.0.1:4222")
	s.Duration(&c.Shutdown, "shutdown-timeout", "SHUTDOWN_TIMEOUT", d.Shutdown, "deadline of a graceful shutdown")
}

// resolve applies the settings registered as text.
func (c *Config) resolve() error {
	if c.dryRunText == "" {
		return nil
	}
	v, err := strconv.ParseBool(c.dryRunText)
	if err != nil {
		return fmt.Errorf("%w: autoscaler: -dry-run %q is not true or false", config.ErrInvalid, c.dryRunText)
	}
	c.DryRun = v
	return nil
}

func (c Config) validate() error {
	switch {
	case c.NATS.URL == "":
		return fmt.Errorf("%w: autoscaler: NATS URL is required", config.ErrInvalid)
	case c.Service == "" && !c.DryRun:
		return fmt.Errorf("%w: autoscaler: the service to scale is required", config.ErrInvalid)
	case c.Interval <= 0:
		return fmt.Errorf("%w: autoscaler: the interval must be positive", config.ErrInvalid)
	}
	return c.Policy.validate()
}
