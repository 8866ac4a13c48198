package system

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The Python client (clients/python), built as a wheel and installed from
// it into a venv under .cache/ (scripts/pyclient-venv.sh, PyPI the first
// time), type-checked with mypy --strict, and its pytest suite run against
// this system: directly, and through a proxy whose connections the suite
// cuts when it wants (POST BATCHINFER_TEST_DROP?ms=N).
func TestPythonClientFromItsWheel(t *testing.T) {
	s := Start(t, Options{Models: SlowModels(20 * time.Millisecond)})
	p := StartProxy(t, s.Gateway.Addr())
	p.Rate.Store(4 << 20) // a download lasts long enough to be cut
	control := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
		p.Down()
		time.AfterFunc(time.Duration(ms)*time.Millisecond, p.Up)
	}))
	defer control.Close()

	out, err := exec.Command(filepath.Join(RepoRoot(), "scripts", "pyclient-venv.sh")).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("pyclient venv: %v %s", err, stderr)
	}
	py := strings.TrimSpace(string(out))
	pkg := filepath.Join(RepoRoot(), "clients", "python")
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(py, args...)
		cmd.Dir = pkg
		cmd.Env = append(os.Environ(), "BATCHINFER_URL="+s.BaseURL, "BATCHINFER_API_KEY="+KeyA,
			"BATCHINFER_TEST_PROXY="+p.URL, "BATCHINFER_TEST_DROP="+control.URL)
		b, err := cmd.CombinedOutput()
		t.Logf("%s:\n%s", strings.Join(args, " "), b)
		if err != nil {
			t.Fatalf("%s: %v", strings.Join(args, " "), err)
		}
	}
	run("-m", "mypy", "--strict", "--cache-dir", filepath.Join(RepoRoot(), ".cache", "mypy"), "src")
	run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
}
