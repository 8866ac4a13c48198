package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

func registry(t *testing.T) (*Registry, *natsx.Infra) {
	t.Helper()
	in := open(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := NewRegistry(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return r, in
}

func claimFor(d time.Duration) wire.PushClaim {
	now := time.Now()
	return wire.PushClaim{Gateway: "g", Since: now, Until: now.Add(d)}
}

// registryMsgs counts the registry stream's and the pushes bucket's
// messages: what a version leaves behind.
func registryMsgs(t *testing.T, in *natsx.Infra) (uint64, uint64) {
	t.Helper()
	ctx := context.Background()
	var n [2]uint64
	for i, name := range []string{"OBJ_" + wire.BucketRegistry, "KV_" + wire.BucketPushes} {
		st, err := in.JS.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		si, err := st.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n[i] = si.State.Msgs
	}
	return n[0], n[1]
}

// A version's life: claimed, stored (checking), committed, read back,
// retired, removed, forgotten; the claim refuses a second push at each
// step, and nothing is left at the end.
func TestRegistryVersionLife(t *testing.T) {
	r, in := registry(t)
	ctx := context.Background()
	body := bytes.Repeat([]byte("model "), 50_000) // several chunks
	if err := r.Claim(ctx, "m", "1", claimFor(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := r.Claim(ctx, "m", "1", claimFor(time.Minute)); !errors.Is(err, ErrPushInProgress) {
		t.Fatalf("second claim: %v, want ErrPushInProgress", err)
	}
	v, err := r.Put(ctx, "m", "1", wire.RegistryMeta{Format: wire.FormatTFLite}, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if v.Meta.State != wire.RegistryChecking || v.Size != uint64(len(body)) {
		t.Fatalf("stored: %+v", v)
	}
	v.Meta.State = wire.RegistryActive
	if err := r.SetMeta(ctx, "m", "1", v.NUID, v.Meta); err != nil {
		t.Fatal(err)
	}
	if err := r.Release(ctx, "m", "1"); err != nil {
		t.Fatal(err)
	}
	if err := r.Claim(ctx, "m", "1", claimFor(time.Minute)); !errors.Is(err, ErrVersionExists) {
		t.Fatalf("claim of a registered version: %v, want ErrVersionExists", err)
	}
	rc, err := r.Open(ctx, "m", "1", v.NUID)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	if err := errors.Join(err, rc.Close()); err != nil || !bytes.Equal(got, body) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	if _, err := r.Open(ctx, "m", "1", "another-nuid"); !errors.Is(err, ErrVersionNotFound) {
		t.Fatalf("open another upload: %v", err)
	}
	if err := r.Remove(ctx, "m", "1"); err != nil {
		t.Fatal(err)
	}
	gone, err := r.Get(ctx, "m", "1")
	if err != nil || !gone.Deleted {
		t.Fatalf("removed: %+v, %v", gone, err)
	}
	if err := r.Claim(ctx, "m", "1", claimFor(time.Minute)); !errors.Is(err, ErrVersionRetired) {
		t.Fatalf("claim while it is cleaned up: %v, want ErrVersionRetired", err)
	}
	if err := r.Forget(ctx, gone); err != nil {
		t.Fatal(err)
	}
	if objs, claims := registryMsgs(t, in); objs != 0 || claims != 0 {
		t.Fatalf("left: %d registry messages, %d claims", objs, claims)
	}
	if err := r.Claim(ctx, "m", "1", claimFor(time.Minute)); err != nil {
		t.Fatalf("claim once forgotten: %v", err)
	}
}

// A push whose gateway died: its claim lapses and is taken over, and the
// version it left in state checking is discarded; the bytes of a push cut
// off before its record are swept once old enough.
func TestRegistryAbandonedPushes(t *testing.T) {
	r, in := registry(t)
	ctx := context.Background()
	if err := r.Claim(ctx, "m", "2", claimFor(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Put(ctx, "m", "2", wire.RegistryMeta{Format: wire.FormatTFLite}, strings.NewReader("abandoned")); err != nil {
		t.Fatal(err)
	}
	if err := r.Claim(ctx, "m", "2", claimFor(time.Minute)); err != nil {
		t.Fatalf("taking over a lapsed claim: %v", err)
	}
	if _, err := r.Get(ctx, "m", "2"); !errors.Is(err, ErrVersionNotFound) {
		t.Fatalf("the abandoned version: %v, want it discarded", err)
	}
	if err := r.Release(ctx, "m", "2"); err != nil {
		t.Fatal(err)
	}
	// Bytes with no record: a Put cut off before its record.
	if _, err := in.JS.Publish(ctx, chunkSubject("orphan"), []byte("bytes")); err != nil {
		t.Fatal(err)
	}
	if n, left, err := r.SweepOrphans(ctx, time.Hour); err != nil || n != 0 || left != 1 {
		t.Fatalf("young orphan: %d swept, %d left, %v; want 0 and 1", n, left, err)
	}
	if n, left, err := r.SweepOrphans(ctx, 0); err != nil || n != 1 || left != 0 {
		t.Fatalf("orphans: %d swept, %d left, %v; want 1 and 0", n, left, err)
	}
	if objs, claims := registryMsgs(t, in); objs != 0 || claims != 0 {
		t.Fatalf("left: %d registry messages, %d claims", objs, claims)
	}
}

// A body that fails leaves nothing stored.
func TestRegistryPutFailureLeavesNothing(t *testing.T) {
	r, in := registry(t)
	ctx := context.Background()
	body := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte("x"), 300_000)), failingReader{})
	if _, err := r.Put(ctx, "m", "3", wire.RegistryMeta{}, body); err == nil {
		t.Fatal("a failing body was stored")
	}
	if objs, _ := registryMsgs(t, in); objs != 0 {
		t.Fatalf("left %d registry messages", objs)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("client went away") }

// Aliases are set, listed and deleted.
func TestRegistryAliases(t *testing.T) {
	r, _ := registry(t)
	ctx := context.Background()
	a := wire.Alias{Model: "m", Name: "canary", Weights: map[string]int{"1": 90, "2": 10}}
	if err := r.SetAlias(ctx, a); err != nil {
		t.Fatal(err)
	}
	all, err := r.Aliases(ctx)
	if err != nil || all[wire.AliasKey("m", "canary")].Weights["2"] != 10 {
		t.Fatalf("aliases: %+v, %v", all, err)
	}
	if err := r.DeleteAlias(ctx, "m", "canary"); err != nil {
		t.Fatal(err)
	}
	if err := r.DeleteAlias(ctx, "m", "canary"); !errors.Is(err, ErrAliasNotFound) {
		t.Fatalf("delete again: %v", err)
	}
	if _, err := r.aliases.Get(ctx, wire.AliasKey("m", "canary")); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Fatalf("deleted alias: %v", err)
	}
}

// The registry's stamp stays while nothing changes and moves with each
// claim, release, stored version and purge.
func TestRegistryStamp(t *testing.T) {
	r, _ := registry(t)
	ctx := context.Background()
	stamp := func() Stamp {
		t.Helper()
		st, err := r.Stamp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	last := stamp()
	if again := stamp(); again != last {
		t.Fatalf("stamp moved with nothing changed: %+v then %+v", last, again)
	}
	for _, step := range []struct {
		name string
		do   func() error
	}{
		{"claim", func() error { return r.Claim(ctx, "m", "1", claimFor(time.Minute)) }},
		{"put", func() error {
			_, err := r.Put(ctx, "m", "1", wire.RegistryMeta{}, bytes.NewReader([]byte("model")))
			return err
		}},
		{"release", func() error { return r.Release(ctx, "m", "1") }},
		{"remove", func() error { return r.Remove(ctx, "m", "1") }},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		now := stamp()
		if now == last {
			t.Fatalf("stamp unchanged after %s: %+v", step.name, now)
		}
		last = now
	}
}
