package loadgen_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"batchinfer/internal/loadgen"
	"batchinfer/test/system"

	"github.com/rs/zerolog"
)

// A short run of the soak's load against the real system: its job clients
// (following, reconnecting, re-subscribing, cancelling, reading slowly)
// and sync clients, all through package client, end without an error.
func TestShortRunAgainstTheSystem(t *testing.T) {
	s := system.Start(t, system.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := loadgen.Run(ctx, loadgen.Config{
		URL: s.BaseURL, APIKey: system.KeyA, Duration: 4 * time.Second, JobClients: 5, SyncClients: 2,
		JobItems: 300, JobTimeout: time.Minute, Interval: time.Second, Settle: time.Second,
		Corpus: filepath.Join(system.RepoRoot(), "model", "testdata"), Log: zerolog.Nop(),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Totals["jobs"] < 5 || rep.Totals["predictions"] == 0 || rep.Totals["reconnects"]+rep.Totals["resubscribes"] == 0 {
		t.Fatalf("%s\nerrors: %q", rep.Markdown(), rep.Errors)
	}
}
