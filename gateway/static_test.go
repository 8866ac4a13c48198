package gateway

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"batchinfer/internal/natsx"

	"github.com/rs/zerolog"
)

// With the UI served, its history fallback answers the UI's paths only:
// an unknown /v1 path is the API's JSON 404, an unknown /v2 path (or a
// wrong method there) the Open Inference Protocol's {"error": ...}.
func TestUIFallbackLeavesTheAPIs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<html>ui</html>"), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := New(Config{NATS: natsx.ConnConfig{URL: "nats://127.0.0.1:1"}, Auth: AuthConfig{Mode: "none"}, UIDir: dir}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	h := jsonFallback(g.routes())
	for _, tc := range []struct {
		method, path string
		status       int
		body         string // a prefix
	}{
		{"GET", "/jobs/j1", 200, "<html>ui"},
		{"GET", "/v1/nope", 404, `{"error":{"code":"not_found"`},
		{"GET", "/v2/nope", 404, `{"error":"no route for GET /v2/nope"}`},
		{"GET", "/v2/models/digits/versions/1/ready/x", 404, `{"error":"no route for`},
		{"DELETE", "/v2/health/live", 405, `{"error":"DELETE not allowed on /v2/health/live"}`},
		{"GET", "/v2//health/live", 404, `{"error":"no route for`},
		{"GET", "/v2/health/live", 200, `{"live":true}`},
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
		if w.Code != tc.status || !strings.HasPrefix(w.Body.String(), tc.body) {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, w.Code, w.Body, tc.status, tc.body)
		}
		if strings.HasPrefix(tc.path, "/v2") && w.Code != 200 {
			var e map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || len(e) != 1 {
				t.Errorf("%s %s: %s is not {\"error\": ...}", tc.method, tc.path, w.Body)
			}
		}
	}
}
