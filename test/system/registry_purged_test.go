package system

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/internal/natsx"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go/jetstream"
)

// A version whose files the registry purges while a worker reads them (it
// was retired and deleted as it loaded: the registry soak's rare failure)
// does not hold up the worker's loading: the read ends when the worker sees
// the deletion, and the next version loads at once, not after the load's
// ten-minute bound.
func TestVersionDeletedWhileItLoads(t *testing.T) {
	s := Start(t, Options{Gateway: fastRegistry, Registry: &model.Warmup{Rounds: 1, Batches: []int{1}}})
	tflite := readFile(t, RepoRoot(), "model", "models", "breast_cancer", "1", "model.tflite")
	s.mustPush(t, "breast_cancer", "p1", tflite)
	s.waitState(t, "breast_cancer", "p1", api.StateReady, time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := s.infra(t)
	reg, err := store.NewRegistry(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	trap := storeWithoutFiles(ctx, t, reg, in, "p1", "trap", tflite)
	// The worker reads the record, then waits for the files: it stays loading.
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if st := s.versionState(t, "breast_cancer", "trap").State; st != api.StateLoading {
			t.Fatalf("trap is %q, want %q while its files are missing", st, api.StateLoading)
		}
	}
	if err := reg.Remove(ctx, "breast_cancer", "trap"); err != nil {
		t.Fatal(err)
	}
	t.Logf("trap (%s) deleted while it loaded", trap.NUID)

	s.mustPush(t, "breast_cancer", "p2", tflite)
	s.waitState(t, "breast_cancer", "p2", api.StateReady, 30*time.Second)
}

// storeWithoutFiles stores version as from's copy, purges its files, and
// then commits it (state active): a worker that loads it finds its record
// and none of its bytes, as when the registry deletes a version during the
// worker's read.
func storeWithoutFiles(ctx context.Context, t *testing.T, reg *store.Registry, in *natsx.Infra, from, version string, body []byte) store.Version {
	t.Helper()
	src, err := reg.Get(ctx, "breast_cancer", from)
	if err != nil {
		t.Fatal(err)
	}
	meta := src.Meta
	var m map[string]any
	if err := json.Unmarshal(meta.Model, &m); err != nil {
		t.Fatal(err)
	}
	m["version"] = version
	meta.Model = wire.Marshal(m)
	v, err := reg.Put(ctx, "breast_cancer", version, meta, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	st, err := in.JS.Stream(ctx, "OBJ_"+wire.BucketRegistry)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Purge(ctx, jetstream.WithPurgeSubject("$O."+wire.BucketRegistry+".C."+v.NUID)); err != nil {
		t.Fatal(err)
	}
	meta.State = wire.RegistryActive
	if err := reg.SetMeta(ctx, "breast_cancer", version, v.NUID, meta); err != nil {
		t.Fatal(err)
	}
	return v
}
