package webhook

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

const (
	secretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	secretB = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo="
)

func TestParseTenants(t *testing.T) {
	g := guard(t, nil)
	good := "# tenants\n" +
		"tenant-a secret=" + secretA + " url=https://hooks.example.com/a # default\n" +
		"tenant-b secret=" + secretB + "," + secretA + "\n"
	set, err := ParseTenants(strings.NewReader(good), g)
	if err != nil {
		t.Fatal(err)
	}
	if a := set["tenant-a"]; a.URL != "https://hooks.example.com/a" || len(a.Secrets) != 1 {
		t.Errorf("tenant-a: %+v", a)
	}
	if b := set["tenant-b"]; b.URL != "" || len(b.Secrets) != 2 || b.Secrets[0] != secretB {
		t.Errorf("tenant-b: %+v", b)
	}
	for name, tc := range map[string]struct{ file, want string }{
		"no secret":      {"tenant-a url=https://h.example.com/\n", "no secret"},
		"bad secret":     {"tenant-a secret=abc\n", "whsec_"},
		"short secret":   {"tenant-a secret=whsec_QUJD\n", "24 to 64"},
		"bad tenant":     {"a.b secret=" + secretA + "\n", "must match"},
		"loopback url":   {"tenant-a secret=" + secretA + " url=https://127.0.0.1/\n", "loopback"},
		"http url":       {"tenant-a secret=" + secretA + " url=http://h.example.com/\n", "scheme"},
		"unknown":        {"tenant-a secret=" + secretA + " colour=blue\n", "unknown setting"},
		"tenant twice":   {"tenant-a secret=" + secretA + "\ntenant-a secret=" + secretB + "\n", "line 2: tenant tenant-a twice"},
		"names the line": {"\n\ntenant-a secret=x\n", "line 3"},
	} {
		if _, err := ParseTenants(strings.NewReader(tc.file), g); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %q", name, err, tc.want)
		}
	}
}

func TestTenantsReloadKeepsTheLastGoodFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "webhooks")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("tenant-a secret=" + secretA + "\n")
	ts, err := OpenTenants(path, guard(t, nil), zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := ts.Get("tenant-a"); !ok {
		t.Fatal("tenant-a not loaded")
	}
	write("tenant-a secret=broken\n")
	if ts.Reload() == nil {
		t.Fatal("a broken file reloaded")
	}
	if _, ok := ts.Get("tenant-a"); !ok {
		t.Fatal("a failed reload dropped tenant-a")
	}
	write("tenant-b secret=" + secretB + "\n")
	if err := ts.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, ok := ts.Get("tenant-a"); ok {
		t.Error("tenant-a still there")
	}
	if _, err := OpenTenants(filepath.Join(t.TempDir(), "missing"), guard(t, nil), zerolog.Nop()); err == nil {
		t.Error("a missing file opened")
	}
}

func TestBackoffDoublesWithinBounds(t *testing.T) {
	lo, hi := 100*time.Millisecond, time.Second
	for n := 1; n <= 10; n++ {
		want := min(lo<<(n-1), hi)
		for range 50 {
			d := backoff(n, lo, hi)
			if d < lo || d > hi || float64(d) < 0.8*float64(want)-1 || float64(d) > 1.2*float64(want)+1 {
				t.Fatalf("backoff(%d) = %s, want about %s within [%s, %s]", n, d, want, lo, hi)
			}
		}
	}
}
