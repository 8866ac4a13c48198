package webhook

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"batchinfer/gateway/auth"

	"github.com/rs/zerolog"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Secret sizes Standard Webhooks recommends (bytes, after base64).
const (
	minSecretBytes = 24
	maxSecretBytes = 64
)

// Tenant is one tenant's webhook settings.
type Tenant struct {
	// Secrets sign every request (the first is current; more are kept
	// while receivers move to a new one: each gives a signature).
	Secrets []string
	// URL is the webhook of the tenant's jobs that give none ("" for none).
	URL string
}

// ParseTenants reads a webhooks file: one tenant per line,
//
//	TENANT secret=whsec_BASE64[,whsec_BASE64...] [url=https://...]
//
// with '#' starting a comment. Any malformed line is an error naming it: a
// file is never half-loaded.
func ParseTenants(r io.Reader, g *Guard) (map[string]Tenant, error) {
	out := map[string]Tenant{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		name, t, err := parseTenant(fields, g)
		if err != nil {
			return nil, fmt.Errorf("webhooks file line %d: %w", n, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("webhooks file line %d: tenant %s twice", n, name)
		}
		out[name] = t
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read webhooks file: %w", err)
	}
	return out, nil
}

func parseTenant(fields []string, g *Guard) (string, Tenant, error) {
	name := fields[0]
	if !auth.TenantPattern.MatchString(name) {
		return "", Tenant{}, fmt.Errorf("tenant %q must match %s", name, auth.TenantPattern)
	}
	var t Tenant
	for _, f := range fields[1:] {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "secret":
			for _, s := range strings.Split(v, ",") {
				if err := CheckSecret(s); err != nil {
					return "", Tenant{}, err
				}
				t.Secrets = append(t.Secrets, s)
			}
		case "url":
			if _, err := g.CheckURL(v); err != nil {
				return "", Tenant{}, fmt.Errorf("url: %w", err)
			}
			t.URL = v
		default:
			return "", Tenant{}, fmt.Errorf("unknown setting %q (known: secret, url)", f)
		}
	}
	if len(t.Secrets) == 0 {
		return "", Tenant{}, fmt.Errorf("tenant %s has no secret=whsec_...", name)
	}
	return name, t, nil
}

// CheckSecret checks a signing secret: whsec_ and the base64 of 24 to 64
// random bytes.
func CheckSecret(s string) error {
	b64, ok := strings.CutPrefix(s, "whsec_")
	key, err := base64.StdEncoding.DecodeString(b64)
	if !ok || err != nil || len(key) < minSecretBytes || len(key) > maxSecretBytes {
		return fmt.Errorf("a secret is whsec_ and the base64 of %d to %d random bytes (e.g. whsec_$(openssl rand -base64 32))", minSecretBytes, maxSecretBytes)
	}
	if _, err := standardwebhooks.NewWebhook(s); err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	return nil
}

// Tenants are the webhook settings of a webhooks file, reloaded when it
// changes (or on Reload). A reload that fails keeps what was loaded. With
// no file, no tenant has settings.
type Tenants struct {
	path  string
	guard *Guard
	log   zerolog.Logger
	mu    sync.Mutex // one reload at a time
	set   atomic.Pointer[map[string]Tenant]
}

// OpenTenants loads path ("" for none).
func OpenTenants(path string, g *Guard, log zerolog.Logger) (*Tenants, error) {
	t := &Tenants{path: path, guard: g, log: log}
	empty := map[string]Tenant{}
	t.set.Store(&empty)
	if path == "" {
		return t, nil
	}
	return t, t.Reload()
}

// Reload reads the file again.
func (t *Tenants) Reload() error {
	if t.path == "" {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	f, err := os.Open(t.path)
	if err != nil {
		return fmt.Errorf("webhooks file: %w", err)
	}
	defer f.Close()
	set, err := ParseTenants(f, t.guard)
	if err != nil {
		return fmt.Errorf("webhooks file %s: %w", t.path, err)
	}
	t.set.Store(&set)
	t.log.Info().Int("tenants", len(set)).Msg("webhook settings loaded")
	return nil
}

// Watch reloads the file when it changes until ctx ends.
func (t *Tenants) Watch(ctx context.Context) error {
	if t.path == "" {
		return nil
	}
	return auth.WatchFile(ctx, t.path, t.Reload, t.log)
}

// Get returns a tenant's settings.
func (t *Tenants) Get(tenant string) (Tenant, bool) {
	s, ok := (*t.set.Load())[tenant]
	return s, ok
}
