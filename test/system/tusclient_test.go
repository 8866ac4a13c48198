package system

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/gateway"
)

// tuspy returns the python of a venv with tuspy, made by
// scripts/tuspy-venv.sh under .cache/ (PyPI the first time).
func tuspy(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(filepath.Join(RepoRoot(), "scripts", "tuspy-venv.sh")).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("tuspy venv: %v %s", err, stderr)
	}
	return strings.TrimSpace(string(out))
}

// runTuspy runs the scenarios with tuspy and returns each one's result.
func runTuspy(t *testing.T, cfg map[string]any) map[string]map[string]any {
	t.Helper()
	py := tuspy(t)
	cfgFile := filepath.Join(t.TempDir(), "cfg.json")
	b, _ := json.Marshal(cfg)
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, filepath.Join(RepoRoot(), "test", "system", "testdata", "tuspy", "scenarios.py"), cfgFile)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("tuspy: %v\n%s\n%s", err, out, stderr.String())
	}
	res := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("tuspy printed %q", line)
		}
		if e, ok := r["error"]; ok {
			t.Errorf("tuspy %s: %v", r["scenario"], e)
		}
		res[r["scenario"].(string)] = r
		t.Logf("tuspy: %s", line)
	}
	return res
}

// cutProxy forwards connections to a gateway and kills the first one
// that carries more than cutAfter bytes to it, in the middle of its body.
type cutProxy struct {
	ln       net.Listener
	target   string
	cutAfter int64
	cut      atomic.Bool
	wg       sync.WaitGroup
}

func startCutProxy(t *testing.T, target string, cutAfter int64) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, cutAfter: cutAfter}
	t.Cleanup(func() { ln.Close(); p.wg.Wait() })
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.serve(c) }()
		}
	}()
	return p
}

func (p *cutProxy) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { _, _ = io.Copy(c, up); c.Close() }()
	var sent int64
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if sent+int64(n) > p.cutAfter && p.cut.CompareAndSwap(false, true) {
				_, _ = up.Write(buf[:p.cutAfter-sent])
				return // both sides closed: the connection died mid-body
			}
			if _, werr := up.Write(buf[:n]); werr != nil {
				return
			}
			sent += int64(n)
		}
		if err != nil {
			return
		}
	}
}

// tuspy (from PyPI) against the gateway: creation with metadata, chunks
// with sha1 checksums, resume after a connection killed mid-PATCH (HEAD
// reports what arrived), checksum mismatch 460, termination, another
// tenant's upload, and the stored bytes are the file's.
func TestTuspyClient(t *testing.T) {
	s := Start(t, Options{})
	data := randBytes(2<<20+777, 9)
	file := filepath.Join(t.TempDir(), "rows.ndjson")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	proxy := startCutProxy(t, s.Gateway.Addr(), 900<<10)
	res := runTuspy(t, map[string]any{
		"endpoint": s.BaseURL + "/v1/uploads", "proxy_endpoint": "http://" + proxy.ln.Addr().String() + "/v1/uploads",
		"key": KeyA, "other_key": KeyB, "file": file,
		"scenarios": []string{"upload_with_checksum", "resume_after_cut", "checksum_mismatch", "terminate", "wrong_tenant"},
	})
	path := func(r map[string]any) string {
		u, _ := r["url"].(string)
		return u[strings.Index(u, "/v1/uploads/"):]
	}
	for _, name := range []string{"upload_with_checksum", "resume_after_cut"} {
		r := res[name]
		if r["offset"] != float64(len(data)) {
			t.Fatalf("%s: %v", name, r)
		}
		if got := s.stored(t, TenantA, path(r)); !bytes.Equal(got, data) {
			t.Fatalf("%s: the stored upload differs from the file", name)
		}
	}
	heads, _ := res["resume_after_cut"]["heads"].([]any)
	if !proxy.cut.Load() || len(heads) == 0 {
		t.Fatalf("the connection was not cut, or tuspy did not HEAD: %v", res["resume_after_cut"])
	}
	if off := heads[0].(float64); off <= 0 || off >= float64(len(data)) || off > 900<<10 {
		t.Fatalf("HEAD after the cut reported %v: want the bytes that arrived (1..%d)", off, 900<<10)
	}
	if r := res["checksum_mismatch"]; r["status"] != float64(460) || r["offset"] != float64(0) {
		t.Fatalf("checksum mismatch: %v", r)
	}
	if r := res["terminate"]; r["delete"] != float64(http.StatusNoContent) || r["head"] != float64(http.StatusNotFound) {
		t.Fatalf("termination: %v", r)
	}
	if r := res["wrong_tenant"]; r["status"] != float64(http.StatusNotFound) || r["offset"] != float64(100<<10) {
		t.Fatalf("another tenant's upload: %v", r)
	}
}

// tuspy against short expiry and tight limits: an abandoned upload
// expires (410, or 404 once swept), and creation past the tenant's
// unfinished uploads answers 429 with Retry-After.
func TestTuspyExpiryAndLimits(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) {
		c.Streams.UploadTTL = 2 * time.Second
		c.Uploads.SweepInterval = 500 * time.Millisecond
		c.Uploads.MaxTenantUploads = 3
	}})
	file := filepath.Join(t.TempDir(), "rows.ndjson")
	if err := os.WriteFile(file, randBytes(300<<10, 10), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runTuspy(t, map[string]any{
		"endpoint": s.BaseURL + "/v1/uploads", "key": KeyA, "other_key": KeyB, "file": file,
		"scenarios": []string{"expiry", "limits"},
	})
	if r := res["expiry"]; r["status"] != float64(http.StatusGone) && r["status"] != float64(http.StatusNotFound) {
		t.Fatalf("expiry: %v", r)
	}
	r := res["limits"]
	if r["status"] != float64(http.StatusTooManyRequests) || r["retry_after"] == nil || r["made"].(float64) < 2 {
		t.Fatalf("limits: %v", r)
	}
	if e, _ := r["body"].(map[string]any)["error"].(map[string]any); e["code"] != "quota_exceeded" {
		t.Fatalf("limits: %v", r)
	}
}
