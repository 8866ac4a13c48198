package benchload_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"batchinfer/internal/benchload"
	"batchinfer/test/system"
)

// The bench's load against the real system, briefly: a job in each body
// format read back as a results stream, and the synchronous load.
func TestJobsAndSyncAgainstTheSystem(t *testing.T) {
	s := system.Start(t, system.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := &benchload.Client{Client: s.Client()}
	shape, err := c.ItemShape(ctx, "digits")
	if err != nil || len(shape) != 3 {
		t.Fatalf("shape %v %v", shape, err)
	}
	co, err := benchload.LoadCorpus(filepath.Join(system.RepoRoot(), "model", "testdata"), "digits", shape)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"ndjson", "json", "b64", "image", "octet", "npy"} {
		r, err := c.RunJob(ctx, co, f, 700, nil)
		if err != nil || r.Items != 700 || r.Mismatches > 0 {
			t.Fatalf("%s: %+v %v", f, r, err)
		}
	}
	r, err := c.RunSync(ctx, co, 2, time.Second, nil)
	if err != nil || r.Requests == 0 || r.Errors > 0 || r.P99 <= 0 {
		t.Fatalf("sync: %+v %v", r, err)
	}
	ids, err := c.Backlog(ctx, co, 2, 500)
	if err != nil || len(ids) != 2 {
		t.Fatalf("backlog: %v %v", ids, err)
	}
	for _, id := range ids {
		if err := c.Cancel(ctx, id); err != nil && ctx.Err() == nil {
			t.Logf("cancel %s: %v (finished first)", id, err)
		}
	}
}

// A dataset of each format end to end against the real system: written
// to disk, uploaded through tus, a job from the upload, the output file
// downloaded and checked; memory sampled (of this process, which runs the
// system), the store dir and the streams (the NATS server's own /jsz
// handler) measured; the report's tables from the result line.
func TestDatasetAgainstTheSystem(t *testing.T) {
	store := t.TempDir()
	s := system.Start(t, system.Options{StoreDir: store})
	jsz := httptest.NewServer(http.HandlerFunc(s.NATS.HandleJsz))
	defer jsz.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := &benchload.Client{Client: s.Client()}
	procs := []benchload.Process{{Name: "gateway", PID: os.Getpid()}}
	var lines bytes.Buffer
	for _, tc := range []struct{ model, format, output string }{{"digits", "ndjson", "ndjson"}, {"breast_cancer", "csv", "csv"}, {"digits", "ndjson", "csv"}} {
		shape, err := c.ItemShape(ctx, tc.model)
		if err != nil {
			t.Fatal(err)
		}
		co, err := benchload.LoadCorpus(filepath.Join(system.RepoRoot(), "model", "testdata"), tc.model, shape)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		r, err := c.RunDataset(ctx, co, benchload.DatasetOptions{Format: tc.format, Output: tc.output, Items: 1500, Dir: dir,
			Procs: procs, Sampler: benchload.NewSampler(procs, store, jsz.URL, 50*time.Millisecond)})
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if r.Check.Items != 1500 || r.Check.Mismatches != 0 || r.Check.Failed != 0 || r.Done != 1500 || r.Job <= 0 || r.OutputBytes == 0 {
			t.Fatalf("%+v: %+v", tc, r)
		}
		if len(r.Phases) != 3 || r.Phases[1].PeakRSS["gateway"] <= 0 || r.Phases[0].End.Streams["UPLOADS"] < r.FileBytes ||
			r.Phases[1].End.Streams["RESULTS"] <= r.Before.Streams["RESULTS"] || r.Phases[0].End.Store <= r.Before.Store {
			t.Fatalf("%+v: phases %+v", tc, r.Phases)
		}
		if r.After.Streams["UPLOADS"] != 0 { // the upload is deleted
			t.Fatalf("%+v: the upload's bytes are still stored: %+v", tc, r.After.Streams)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Fatalf("%+v: files left: %v", tc, left)
		}
		b, _ := json.Marshal(map[string]any{"kind": "dataset", "label": tc.format + " to " + tc.output, "result": r})
		lines.Write(append(b, '\n'))
	}
	var out bytes.Buffer
	if err := benchload.Report(&lines, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| ndjson to ndjson | digits | 1500 |", "| csv to csv | breast_cancer | 1500 |", "1500 rows, 0 failed, 0 wrong classes", "peak RSS MB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
