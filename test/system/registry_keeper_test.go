package system

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
)

// The registry's upkeep costs an idle cluster no consumers: while nothing
// changes in the registry, the leader's keeper reads two stream infos a
// sweep and lists nothing (a listing creates and deletes a consumer). A
// change still wakes it: a retired version is deleted and cleaned up, and
// then it is quiet again.
func TestRegistryKeeperQuietWhenIdle(t *testing.T) {
	s := Start(t, Options{Gateway: fastRegistry, Registry: &quickWarmup})
	created := s.countConsumersCreated(t, "OBJ_"+wire.BucketRegistry, "KV_"+wire.BucketPushes)
	s.registryWorker(t, "registry-worker", Runtimes(true), nil, nil)
	base := s.registryState(t)

	s.mustPush(t, "digits", "3", tarGz(t, versionDir(t, "digits", "3", keep)))
	s.waitState(t, "digits", "3", api.StateReady, 60*time.Second)
	quiet := func(what string) {
		t.Helper()
		// settled: a first window may hold the sweeps of the change
		Eventually(t, 10*time.Second, func() error {
			before := created.Load()
			time.Sleep(100 * time.Millisecond)
			if n := created.Load() - before; n > 0 {
				return errorf("%s: %d consumers created in 100 ms", what, n)
			}
			return nil
		})
		before := created.Load()
		time.Sleep(time.Second) // 50 sweeps at fastRegistry's 20 ms
		if n := created.Load() - before; n != 0 {
			t.Fatalf("%s: %d consumers created on the registry's streams in a second of 50 sweeps, want none", what, n)
		}
	}
	quiet("a ready version")

	code, _, raw := s.Do(http.MethodDelete, "/v1/models/digits/versions/3", "", nil, nil)
	if code != http.StatusAccepted {
		t.Fatalf("retire: %d %s", code, raw)
	}
	s.waitState(t, "digits", "3", "", 30*time.Second)
	Eventually(t, 30*time.Second, func() error {
		if got := s.registryState(t); got != base {
			return errorf("registry state %+v, want %+v", got, base)
		}
		return nil
	})
	quiet("after the version's clean-up")
}

// countConsumersCreated counts the consumers created on streams, from
// JetStream's advisories.
func (s *System) countConsumersCreated(t *testing.T, streams ...string) *atomic.Int64 {
	t.Helper()
	nc := s.natsConn(t)
	t.Cleanup(nc.Close)
	var n atomic.Int64
	for _, st := range streams {
		if _, err := nc.Subscribe("$JS.EVENT.ADVISORY.CONSUMER.CREATED."+st+".*", func(*nats.Msg) { n.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return &n
}
