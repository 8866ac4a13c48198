package system

import (
	"bytes"
	"fmt"
	"net/http"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/model"
)

// Register and retire a small .tflite version thousands of times (some
// served before they are retired, most not yet): the registry's stream,
// the pushes, models and aliases buckets, the input stream and the
// consumers return to where they were.
func TestRegistrySoakReturnsToBaseline(t *testing.T) {
	var logs logBuffer
	t.Cleanup(func() { logWarnings(t, &logs, 50) })
	s := Start(t, Options{Gateway: fastRegistry, Registry: &model.Warmup{Rounds: 1, Batches: []int{1}}, GatewayLog: &logs})
	t.Cleanup(func() { logGoroutines(t) }) // before the system stops (cleanups run last first)
	tflite := readFile(t, RepoRoot(), "model", "models", "breast_cancer", "1", "model.tflite")
	base := s.registryState(t)
	n := 2000
	if raceEnabled || testing.Short() {
		n = 300
	}
	const pushers = 4
	var times soakTimes
	start := time.Now()
	var wg sync.WaitGroup
	for p := range pushers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < n; i += pushers {
				if err := soakVersion(t, s, fmt.Sprintf("s%d", i), tflite, i%20 == 0, &times); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	pushed := time.Since(start)
	// An ordered consumer (a KV or object store watcher) that a starved
	// client re-creates after missed heartbeats leaves the old one behind
	// until its inactivity threshold (5 min in nats.go): wait past it.
	Eventually(t, 6*time.Minute, func() error {
		if got := s.registryState(t); got != base {
			var vs api.RegistryVersions
			s.GetJSON("/v1/models/breast_cancer/versions", &vs)
			return fmt.Errorf("after %d versions: %+v, want %+v; listed: %+v; stream: %s", n, got, base, vs.Versions, s.dumpRegistry(t))
		}
		return nil
	})
	var list api.ModelList
	s.GetJSON("/v1/models", &list)
	for _, m := range list.Models {
		if m.Name == "breast_cancer" && m.Version != "1" {
			t.Fatalf("%s still in the catalogue", m.ID())
		}
	}
	t.Logf("%d pushers: a push took %v, a cycle %v on average", pushers, time.Duration(times.push.Load())/time.Duration(n), time.Duration(times.cycle.Load())/time.Duration(n))
	t.Logf("%d versions pushed and retired in %s; all gone %s later", n, pushed.Round(time.Millisecond), (time.Since(start) - pushed).Round(time.Millisecond))
}

// soakVersion pushes a version, waits until it is served (when served),
// and retires it.
// soakTimes add up the time of pushes and of whole cycles.
type soakTimes struct{ push, cycle atomic.Int64 }

func soakVersion(t *testing.T, s *System, version string, tflite []byte, served bool, times *soakTimes) error {
	t0 := time.Now()
	defer func() { times.cycle.Add(int64(time.Since(t0))) }()
	code, _, raw := s.push(t, "breast_cancer", version, tflite, "application/octet-stream")
	times.push.Add(int64(time.Since(t0)))
	if code != http.StatusCreated {
		return fmt.Errorf("push %s: %d %s", version, code, raw)
	}
	if served {
		deadline := time.Now().Add(time.Minute)
		for s.versionState(t, "breast_cancer", version).State != api.StateReady {
			if time.Now().After(deadline) {
				return fmt.Errorf("breast_cancer:%s never ready", version)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	code, _, raw = s.Do(http.MethodDelete, "/v1/models/breast_cancer/versions/"+version, "", nil, nil)
	if code != http.StatusAccepted {
		return fmt.Errorf("retire %s: %d %s", version, code, raw)
	}
	return nil
}

// logWarnings shows, once a test failed, the first max warnings and
// errors of the gateways' logs (what a rare failure in CI leaves to read).
func logWarnings(t *testing.T, logs *logBuffer, max int) {
	if !t.Failed() {
		return
	}
	var warned []map[string]any
	for _, level := range []string{"warn", "error"} {
		warned = append(warned, logs.lines(map[string]string{"level": level})...)
	}
	t.Logf("the gateway logged %d warnings and errors; the first %d:", len(warned), min(max, len(warned)))
	for _, l := range warned[:min(max, len(warned))] {
		t.Logf("  %v", l)
	}
}

// logGoroutines shows, once a test failed, the stacks of every goroutine of
// the test's process (its gateway and workers run in it): what a version
// that never became ready, or a state that never came back, was waiting on.
func logGoroutines(t *testing.T) {
	if !t.Failed() {
		return
	}
	var b bytes.Buffer
	_ = pprof.Lookup("goroutine").WriteTo(&b, 1)
	t.Logf("goroutines at the failure:\n%s", b.String())
}
