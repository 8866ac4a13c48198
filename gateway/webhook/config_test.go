package webhook

import (
	"errors"
	"strings"
	"testing"
	"time"

	"batchinfer/internal/config"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Every setting out of range is refused, naming it.
func TestConfigOutOfRange(t *testing.T) {
	for name, tc := range map[string]struct {
		mod  func(*Config)
		want string
	}{
		"scheme":       {func(c *Config) { c.Schemes = []string{"https", "gopher"} }, "WEBHOOK_SCHEMES"},
		"no scheme":    {func(c *Config) { c.Schemes = nil }, "WEBHOOK_SCHEMES"},
		"timeout":      {func(c *Config) { c.Timeout = 0 }, "WEBHOOK_TIMEOUT"},
		"window":       {func(c *Config) { c.RetryWindow = -time.Second }, "WEBHOOK_RETRY_WINDOW"},
		"backoff":      {func(c *Config) { c.BackoffMax = c.BackoffMin / 2 }, "WEBHOOK_BACKOFF_MAX"},
		"concurrency":  {func(c *Config) { c.Concurrency = 0 }, "WEBHOOK_CONCURRENCY"},
		"tenant":       {func(c *Config) { c.TenantConcurrency = -1 }, "WEBHOOK_TENANT_CONCURRENCY"},
		"response":     {func(c *Config) { c.MaxResponseBytes = 0 }, "WEBHOOK_MAX_RESPONSE_BYTES"},
		"url":          {func(c *Config) { c.MaxURLBytes = 0 }, "WEBHOOK_MAX_URL_BYTES"},
		"logged":       {func(c *Config) { c.MaxLoggedAttempts = 0 }, "WEBHOOK_MAX_LOGGED_ATTEMPTS"},
		"public url":   {func(c *Config) { c.PublicURL = "batch.example.com" }, "GATEWAY_PUBLIC_URL"},
		"cidr":         {func(c *Config) { c.AllowCIDRs = []string{"10.0.0.0/99"} }, "allowed CIDR"},
		"missing file": {func(c *Config) { c.File = "/nonexistent/webhooks" }, "webhooks file"},
	} {
		cfg := Defaults()
		tc.mod(&cfg)
		_, err := New(cfg, prometheus.NewRegistry(), zerolog.Nop())
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an invalid configuration naming %s", name, err, tc.want)
		}
	}
	if _, err := New(Defaults(), prometheus.NewRegistry(), zerolog.Nop()); err != nil {
		t.Errorf("defaults: %v", err)
	}
}
