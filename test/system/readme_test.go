package system

import (
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readmeMarker introduces the README's dataset block that
// TestReadmeDatasetCommands runs.
const readmeMarker = "<!-- test/system/readme_test.go runs this block"

// readmeBlock is the shell block after the README's marker.
func readmeBlock(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), readmeMarker)
	if !ok {
		t.Fatalf("README.md has no %q", readmeMarker)
	}
	_, rest, ok1 := strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "```\n")
	if !ok1 || !ok2 {
		t.Fatal("README.md: no ```sh block after the marker")
	}
	return block
}

// The README's dataset path in three commands (upload with curl as a tus
// client, the job from the upload, the output file), run as they are
// written by bash and curl against the system: the output file has every
// item once with the right class.
func TestReadmeDatasetCommands(t *testing.T) {
	for _, tool := range []string{"bash", "curl", "base64", "sed", "stat"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's commands need %s: %v", tool, err)
		}
	}
	block := readmeBlock(t)
	s := Start(t, Options{})
	const n = 3000
	data, labels := digitsNDJSON(t, n, nil)
	dir := t.TempDir()
	f := filepath.Join(dir, "model", "testdata", "digits_sample.ndjson") // the README's $F, relative
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	script := "set -euo pipefail\n" + strings.ReplaceAll(block, "localhost:8000", strings.TrimPrefix(s.BaseURL, "http://")) +
		"\necho \"upload=$UPLOAD job=$JOB\"\n"
	cmd := exec.Command("bash", "-c", script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "AUTH=Authorization: Bearer "+s.Key)
	done := make(chan struct{})
	timer := time.AfterFunc(2*time.Minute, func() {
		select {
		case <-done:
		default:
			_ = cmd.Process.Kill()
		}
	})
	out, err := cmd.CombinedOutput()
	close(done)
	timer.Stop()
	if err != nil {
		t.Fatalf("the README's commands: %v\n%s", err, out)
	}
	checkPredictionsCSV(t, filepath.Join(dir, "predictions.csv"), labels)
}

// checkPredictionsCSV checks an output file in CSV: a header, then one row
// per item, every index once, each with its label's class.
func checkPredictionsCSV(t *testing.T, path string, labels []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) != len(labels)+1 {
		t.Fatalf("predictions.csv: %d rows (want a header and %d), %v", len(rows), len(labels), err)
	}
	ix, cx, sx := slices.Index(rows[0], "index"), slices.Index(rows[0], "class"), slices.Index(rows[0], "status")
	if ix < 0 || cx < 0 || sx < 0 {
		t.Fatalf("predictions.csv header %v", rows[0])
	}
	seen := make([]bool, len(labels))
	for _, r := range rows[1:] {
		i, err1 := strconv.Atoi(r[ix])
		class, err2 := strconv.Atoi(r[cx])
		if err1 != nil || err2 != nil || i < 0 || i >= len(labels) || seen[i] || r[sx] != "ok" || class != labels[i] {
			t.Fatalf("predictions.csv row %v: want index once, status ok, class %d", r, labels[min(max(i, 0), len(labels)-1)])
		}
		seen[i] = true
	}
}
