package benchload_test

import (
	"context"
	"path/filepath"
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
