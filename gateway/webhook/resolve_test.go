package webhook

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"batchinfer/api"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// What a submission's webhook becomes, and the 400 of each refusal.
func TestResolveAtSubmission(t *testing.T) {
	path := filepath.Join(t.TempDir(), "webhooks")
	file := "tenant-a secret=" + secretA + " url=https://hooks.example.com/default\ntenant-b secret=" + secretB + "\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.File = path
	d, err := New(cfg, prometheus.NewRegistry(), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		tenant, requested, want, refusal string
	}{
		{"tenant-a", "", "https://hooks.example.com/default", ""},
		{"tenant-a", "none", "", ""},
		{"tenant-a", "https://93.184.215.14/mine", "https://93.184.215.14/mine", ""},
		{"tenant-b", "", "", ""},
		{"tenant-c", "", "", ""},
		{"tenant-c", "https://93.184.215.14/x", "", "no webhook signing secret"},
		{"tenant-b", "http://93.184.215.14/x", "", "scheme"},
		{"tenant-b", "https://localhost:8443/x", "", "loopback"},
		{"tenant-b", "https://169.254.169.254/", "", "cloud metadata"},
		{"tenant-b", "https://[fd00::1]/", "", "private"},
		{"tenant-b", "not a url", "", "absolute"},
		{"tenant-b", "https://no-such-host.invalid/x", "", "does not resolve"},
	} {
		if strings.Contains(tc.requested, ".invalid") && !dnsAnswers() {
			t.Log("no DNS here: the unresolvable name is not tried")
			continue
		}
		got, err := d.Resolve(ctx, tc.tenant, tc.requested)
		var ae *api.Error
		switch {
		case tc.refusal == "" && (err != nil || got != tc.want):
			t.Errorf("%s %q: %q, %v; want %q", tc.tenant, tc.requested, got, err, tc.want)
		case tc.refusal != "" && (!errors.As(err, &ae) || ae.Code != api.CodeBadRequest || !strings.Contains(ae.Message, tc.refusal)):
			t.Errorf("%s %q: %v, want a 400 naming %q", tc.tenant, tc.requested, err, tc.refusal)
		}
	}
}

// dnsAnswers says whether this machine's resolver answers that a name
// does not exist (rather than timing out without a DNS server).
func dnsAnswers() bool {
	_, err := net.DefaultResolver.LookupHost(context.Background(), "no-such-host.invalid")
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
