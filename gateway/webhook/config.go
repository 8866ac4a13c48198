package webhook

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"slices"
	"time"

	"batchinfer/internal/config"
)

// Config shapes webhook delivery. Every field but File, the allow-lists,
// PublicURL and RootCAs must be set (Defaults).
type Config struct {
	// File holds each tenant's signing secrets and default URL (ParseTenants),
	// reloaded when it changes; without it no tenant may use webhooks.
	File string
	// Schemes are the URL schemes allowed: https, and http only when added.
	Schemes []string
	// AllowCIDRs and AllowHosts are what the SSRF guard lets through that it
	// would refuse (an internal receiver, a test's loopback server).
	AllowCIDRs, AllowHosts []string
	// Timeout bounds one attempt, redirects included.
	Timeout time.Duration
	// RetryWindow is how long after the job ended an event is retried;
	// then it is dead-lettered.
	RetryWindow time.Duration
	// BackoffMin is the wait after the first failed attempt; each failure
	// doubles it (with jitter), up to BackoffMax.
	BackoffMin, BackoffMax time.Duration
	// Concurrency bounds the attempts in flight on this gateway, and
	// TenantConcurrency those of one tenant.
	Concurrency, TenantConcurrency int
	// MaxResponseBytes bounds how much of a response is read.
	MaxResponseBytes int64
	// MaxRedirects bounds the redirects (307, 308) followed (negative:
	// none; 0 takes the default).
	MaxRedirects int
	// MaxURLBytes bounds a webhook URL.
	MaxURLBytes int
	// MaxLoggedAttempts bounds the attempts kept in a job's delivery log
	// (the latest; the count is kept whole).
	MaxLoggedAttempts int
	// PublicURL, when set, is the gateway's URL as clients reach it: the
	// links in payloads are absolute.
	PublicURL string
	// RootCAs, when set, replaces the system's roots (tests).
	RootCAs *x509.CertPool
}

// Defaults are the settings' defaults.
func Defaults() Config {
	return Config{
		Schemes: []string{"https"}, Timeout: 10 * time.Second, RetryWindow: 24 * time.Hour,
		BackoffMin: 5 * time.Second, BackoffMax: time.Hour, Concurrency: 32, TenantConcurrency: 4,
		MaxResponseBytes: 64 << 10, MaxRedirects: 3, MaxURLBytes: 2048, MaxLoggedAttempts: 20,
	}
}

// Flags registers the settings on s.
func (c *Config) Flags(s *config.Set) {
	d := Defaults()
	s.String(&c.File, "webhooks-file", "GATEWAY_WEBHOOKS_FILE", "", "tenants' webhook signing secrets and default URLs: lines of TENANT secret=whsec_... [url=https://...]; reloaded on change")
	s.List(&c.Schemes, "webhook-schemes", "WEBHOOK_SCHEMES", d.Schemes, "URL schemes webhooks may use (add http only for trusted networks)")
	s.List(&c.AllowCIDRs, "webhook-allow-cidrs", "WEBHOOK_ALLOW_CIDRS", nil, "addresses webhooks may reach although loopback, private, link-local or reserved (CIDRs or addresses)")
	s.List(&c.AllowHosts, "webhook-allow-hosts", "WEBHOOK_ALLOW_HOSTS", nil, "host names webhooks may reach whatever they resolve to")
	s.Duration(&c.Timeout, "webhook-timeout", "WEBHOOK_TIMEOUT", d.Timeout, "one delivery attempt, redirects included")
	s.Duration(&c.RetryWindow, "webhook-retry-window", "WEBHOOK_RETRY_WINDOW", d.RetryWindow, "how long after a job ends its webhook is retried, then dead-lettered (at most RESULT_TTL + RECORD_TTL: the delivery log goes with the job's record)")
	s.Duration(&c.BackoffMin, "webhook-backoff-min", "WEBHOOK_BACKOFF_MIN", d.BackoffMin, "wait after a webhook's first failed attempt; doubled (with jitter) after each")
	s.Duration(&c.BackoffMax, "webhook-backoff-max", "WEBHOOK_BACKOFF_MAX", d.BackoffMax, "longest wait between two attempts of a webhook")
	s.Int(&c.Concurrency, "webhook-concurrency", "WEBHOOK_CONCURRENCY", d.Concurrency, "webhook attempts in flight per gateway")
	s.Int(&c.TenantConcurrency, "webhook-tenant-concurrency", "WEBHOOK_TENANT_CONCURRENCY", d.TenantConcurrency, "webhook attempts in flight per tenant and gateway")
	s.Int64(&c.MaxResponseBytes, "webhook-max-response-bytes", "WEBHOOK_MAX_RESPONSE_BYTES", d.MaxResponseBytes, "bytes of a webhook response read (the rest is dropped)")
	s.Int(&c.MaxRedirects, "webhook-max-redirects", "WEBHOOK_MAX_REDIRECTS", d.MaxRedirects, "redirects (307, 308) a webhook attempt follows (-1: none)")
	s.Int(&c.MaxURLBytes, "webhook-max-url-bytes", "WEBHOOK_MAX_URL_BYTES", d.MaxURLBytes, "longest webhook URL")
	s.Int(&c.MaxLoggedAttempts, "webhook-max-logged-attempts", "WEBHOOK_MAX_LOGGED_ATTEMPTS", d.MaxLoggedAttempts, "attempts kept in a job's webhook delivery log (the latest)")
	s.String(&c.PublicURL, "public-url", "GATEWAY_PUBLIC_URL", "", "the gateway's URL as clients reach it (https://batch.example.com): webhook payload links are absolute")
}

// Validate reports the first setting out of range.
func (c Config) Validate() error {
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"WEBHOOK_SCHEMES (https, http)", len(c.Schemes) > 0 && !slices.ContainsFunc(c.Schemes, func(s string) bool { return s != "https" && s != "http" })},
		{"WEBHOOK_TIMEOUT", c.Timeout > 0}, {"WEBHOOK_RETRY_WINDOW", c.RetryWindow > 0},
		{"WEBHOOK_BACKOFF_MIN", c.BackoffMin > 0}, {"WEBHOOK_BACKOFF_MAX", c.BackoffMax >= c.BackoffMin},
		{"WEBHOOK_CONCURRENCY", c.Concurrency > 0}, {"WEBHOOK_TENANT_CONCURRENCY", c.TenantConcurrency > 0},
		{"WEBHOOK_MAX_RESPONSE_BYTES", c.MaxResponseBytes > 0},
		{"WEBHOOK_MAX_URL_BYTES", c.MaxURLBytes > 0}, {"WEBHOOK_MAX_LOGGED_ATTEMPTS", c.MaxLoggedAttempts > 0},
	} {
		if !f.ok {
			return fmt.Errorf("%w: webhooks: %s out of range", config.ErrInvalid, f.name)
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || !u.IsAbs() || u.Host == "" {
			return fmt.Errorf("%w: GATEWAY_PUBLIC_URL %q: want an absolute URL", config.ErrInvalid, c.PublicURL)
		}
	}
	return nil
}
