package runx

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestSubcommand(t *testing.T) {
	for _, tc := range []struct {
		args []string
		is   bool
		rest []string
	}{
		{[]string{"healthcheck", "-addr", ":1"}, true, []string{"-addr", ":1"}},
		{[]string{"healthcheck"}, true, []string{}},
		{[]string{"-addr", ":1", "healthcheck"}, false, []string{"-addr", ":1", "healthcheck"}},
		{nil, false, nil},
	} {
		is, rest := Subcommand(tc.args, "healthcheck")
		if is != tc.is || !slices.Equal(rest, tc.rest) {
			t.Errorf("Subcommand(%q) = %v %q, want %v %q", tc.args, is, rest, tc.is, tc.rest)
		}
	}
}

func TestHealthcheckAt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ready" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	if err := HealthcheckAt(addr, "/ready"); err != nil {
		t.Fatalf("healthy: %v", err)
	}
	if err := HealthcheckAt(addr, "/health"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("unhealthy: %v", err)
	}
	if err := HealthcheckAt("no port", "/ready"); err == nil {
		t.Fatal("a bad address is no error")
	}
}
