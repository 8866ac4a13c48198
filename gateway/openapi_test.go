package gateway

import (
	"bufio"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"batchinfer/internal/natsx"

	"github.com/rs/zerolog"
)

// Every operation in api/openapi.yaml is routed, and every route is
// documented: the contract and the server cannot drift apart.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	f, err := os.Open("../api/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pathRe := regexp.MustCompile(`^  (/[^:]*):\s*$`)
	opRe := regexp.MustCompile(`^    (get|post|put|delete|patch|head|options):\s*$`)
	var documented []string
	path := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := pathRe.FindStringSubmatch(sc.Text()); m != nil {
			path = m[1]
		} else if m := opRe.FindStringSubmatch(sc.Text()); m != nil && path != "" {
			documented = append(documented, strings.ToUpper(m[1])+" "+path)
		}
	}
	if len(documented) < 10 {
		t.Fatalf("only %d operations found in openapi.yaml", len(documented))
	}
	g, err := New(Config{NATS: natsx.ConnConfig{URL: "nats://127.0.0.1:1"}, Auth: AuthConfig{Mode: "none"}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	mux := g.routes()
	routed := map[string]bool{}
	for _, op := range documented {
		method, p, _ := strings.Cut(op, " ")
		url := strings.NewReplacer("{name}", "digits", "{id}", "0123456789abcdef0123456789abcdef", "{version}", "2", "{alias}", "canary").Replace(p)
		_, pattern := mux.Handler(httptest.NewRequest(method, url, nil))
		if pattern == "" {
			t.Errorf("%s is documented but not routed", op)
		}
		routed[pattern] = true
	}
	for _, pattern := range []string{
		"GET /health", "GET /ready", "GET /metrics", "GET /v1/whoami", "GET /v1/limits", "GET /v1/models", "GET /v1/models/{name}",
		"POST /v1/models/{name}/predict", "GET /v1/models/{name}/versions", "PUT /v1/models/{name}/versions/{version}",
		"DELETE /v1/models/{name}/versions/{version}", "PUT /v1/models/{name}/aliases/{alias}", "DELETE /v1/models/{name}/aliases/{alias}",
		"POST /v1/jobs", "GET /v1/jobs", "GET /v1/jobs/{id}",
		"GET /v1/jobs/{id}/results", "GET /v1/jobs/{id}/output", "GET /v1/jobs/{id}/errors", "POST /v1/jobs/{id}/cancel", "GET /v1/jobs/{id}/webhooks", "GET /v1/cluster", "GET /v1/ws",
		"GET /v1/deadletters", "DELETE /v1/deadletters", "GET /v1/deadletters/{id}", "DELETE /v1/deadletters/{id}", "POST /v1/deadletters/{id}/redrive",
		"OPTIONS /v1/uploads", "POST /v1/uploads", "HEAD /v1/uploads/{id}", "PATCH /v1/uploads/{id}", "DELETE /v1/uploads/{id}",
		"GET /v2", "GET /v2/health/live", "GET /v2/health/ready", "GET /v2/models/{name}", "GET /v2/models/{name}/versions/{version}",
		"GET /v2/models/{name}/ready", "GET /v2/models/{name}/versions/{version}/ready",
		"POST /v2/models/{name}/infer", "POST /v2/models/{name}/versions/{version}/infer",
	} {
		if !routed[pattern] {
			t.Errorf("route %s is not documented in openapi.yaml", pattern)
		}
	}
}
