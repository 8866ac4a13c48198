package system

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/api"
	biclient "batchinfer/client"
	"batchinfer/gateway"
	"batchinfer/model"
	"batchinfer/model/loader"
)

// quickWarmup is the registry workers' warm-up in these tests.
var quickWarmup = model.Warmup{Rounds: 1, Batches: []int{1, 8}}

// A version pushed while a job runs on the version before it: the job
// loses nothing, and new work goes to the new version once a worker has
// loaded and warmed it up, not before (it is listed as loading meanwhile,
// and a request naming it is not_ready).
func TestRegistryPushWhileJobRuns(t *testing.T) {
	hold := newGate() // holds digits:1's inference: its job runs throughout
	s := Start(t, Options{Models: hold.wrap, Gateway: fastRegistry})
	loading := newGate() // holds the worker's load of digits:2, once pushed
	var pushed atomic.Bool
	runtimes := hookLoads(Runtimes(true), "digits", "2", func(m loader.Model) loader.Model {
		if pushed.Load() {
			loading.wait()
		}
		return m
	})
	s.registryWorker(t, "registry-worker", runtimes, subprocessCheck(true), nil)

	inputs, _ := DigitInputs(t, 2000)
	hold.close()
	old := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	if old.ID == "" {
		t.Fatal("no job")
	}
	select {
	case <-hold.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the job on digits:1 never started")
	}

	loading.close()
	c := &biclient.Client{BaseURL: s.BaseURL, Key: KeyA}
	dir := versionDir(t, "digits", "2", keep)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	v, err := c.PushModel(ctx, "digits", "2", dir, biclient.PushOptions{})
	if err != nil {
		t.Fatalf("push: %v", err)
	}
	pushed.Store(true)
	if v.State != api.StateLoading || v.Source != "registry" || len(v.Runtimes) != 2 || v.Metadata == nil || v.Metadata.Version != "2" {
		t.Fatalf("pushed: %+v", v)
	}
	// Registered, not loaded: listed as loading, not routable (not_ready
	// once the gateway's catalogue has seen the push, a moment later).
	if st := s.versionState(t, "digits", "2"); st.State != api.StateLoading {
		t.Fatalf("digits:2 right after its push: %+v", st)
	}
	Eventually(t, 10*time.Second, func() error {
		if code, _, raw := s.predictVersion(t, "digits", "2", inputs[0]); code != http.StatusServiceUnavailable || !contains(raw, "not_ready") {
			return errorf("predict digits:2 while it loads: %d %s", code, raw)
		}
		return nil
	})
	if j := s.submit(t, map[string]any{"model": "digits", "inputs": inputs[:10]}); !s.jobVersion(t, j.ID, "1") {
		t.Fatal("a job without a version went to digits:2 before it was ready")
	}

	loading.open()
	s.waitState(t, "digits", "2", api.StateReady, 60*time.Second)
	if code, got, raw := s.predictVersion(t, "digits", "", inputs[0]); code != http.StatusOK || got != "2" {
		t.Fatalf("predict digits once 2 is ready: %d, version %q, %s", code, got, raw)
	}
	if j := s.submit(t, map[string]any{"model": "digits", "inputs": inputs[:10]}); !s.jobVersion(t, j.ID, "2") {
		t.Fatal("a job without a version did not go to digits:2 once ready")
	}

	hold.open()
	st := s.waitJob(t, old.ID, 2*time.Minute)
	if st.Done != len(inputs) || st.Failed != 0 || st.Skipped != 0 {
		t.Fatalf("the job on digits:1: %+v, want %d done", st, len(inputs))
	}
}

// jobVersion says whether a job pinned version.
func (s *System) jobVersion(t *testing.T, id, version string) bool {
	t.Helper()
	var st struct {
		Version string `json:"version"`
	}
	s.GetJSON("/v1/jobs/"+id, &st)
	return st.Version == version
}

// contains says whether an answer holds s: in its error's message when it
// is an error, else anywhere.
func contains(b []byte, s string) bool {
	var e api.ErrorBody
	if json.Unmarshal(b, &e) == nil && e.Error != nil {
		return strings.Contains(string(e.Error.Code)+": "+e.Error.Message, s)
	}
	return bytes.Contains(b, []byte(s))
}

// Retiring a version: it takes no new work at once, the job running on
// it completes, then it leaves the catalogue, and its workers unload it.
func TestRegistryRetireDrains(t *testing.T) {
	s := Start(t, Options{Gateway: fastRegistry})
	hold := newGate()
	runtimes := hookLoads(Runtimes(true), "digits", "3", func(m loader.Model) loader.Model {
		return gatedModel{m, hold}
	})
	s.registryWorker(t, "registry-worker", runtimes, nil, nil)
	t.Cleanup(hold.open) // before the worker stops, should the test fail
	base := s.registryState(t)

	s.mustPush(t, "digits", "3", tarGz(t, versionDir(t, "digits", "3", keep)))
	s.waitState(t, "digits", "3", api.StateReady, 60*time.Second)
	inputs, _ := DigitInputs(t, 1000)
	hold.close()
	job := s.submit(t, map[string]any{"model": "digits", "version": "3", "inputs": inputs})
	select {
	case <-hold.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("the job on digits:3 never started")
	}

	code, _, raw := s.Do(http.MethodDelete, "/v1/models/digits/versions/3", "", nil, nil)
	if code != http.StatusAccepted || !contains(raw, `"state":"retiring"`) {
		t.Fatalf("retire: %d %s", code, raw)
	}
	if code, _, raw := s.predictVersion(t, "digits", "3", inputs[0]); code != http.StatusNotFound || !contains(raw, "retired") {
		t.Fatalf("predict a retired version: %d %s", code, raw)
	}
	if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "version": "3", "inputs": inputs[:3]}, nil); code != http.StatusNotFound {
		t.Fatalf("submit to a retired version: %d", code)
	}
	// Held: it stays (retiring) while its job runs, past the drain grace.
	time.Sleep(300 * time.Millisecond)
	if st := s.versionState(t, "digits", "3"); st.State != api.StateRetiring {
		t.Fatalf("digits:3 while its job runs: %+v", st)
	}
	hold.open()
	st := s.waitJob(t, job.ID, time.Minute)
	if st.Done != len(inputs) || st.Failed != 0 {
		t.Fatalf("the job on the retired version: %+v", st)
	}
	s.waitState(t, "digits", "3", "", 30*time.Second)
	Eventually(t, 30*time.Second, func() error {
		var list api.ModelList
		s.GetJSON("/v1/models", &list)
		for _, m := range list.Models {
			if m.ID() == "digits:3" {
				return errorf("digits:3 still in the catalogue: %+v", m)
			}
		}
		if got := s.registryState(t); got != base {
			return errorf("registry state %+v, want %+v", got, base)
		}
		return nil
	})
}

// Aliases route by weight among their versions; bad ones are refused.
func TestRegistryAliases(t *testing.T) {
	s := Start(t, Options{Gateway: fastRegistry, Registry: &quickWarmup})
	s.mustPush(t, "digits", "2", tarGz(t, versionDir(t, "digits", "2", keep, "saved_model.pb", "variables")))
	s.waitState(t, "digits", "2", api.StateReady, 60*time.Second)

	var a api.Alias
	code, _, raw := s.Do(http.MethodPut, "/v1/models/digits/aliases/canary", "application/json", []byte(`{"weights":{"1":70,"2":30}}`), &a)
	if code != http.StatusOK || a.Weights["2"] != 30 {
		t.Fatalf("set alias: %d %s", code, raw)
	}
	Eventually(t, 10*time.Second, func() error {
		var list api.ModelList
		s.GetJSON("/v1/models", &list)
		for _, x := range list.Aliases {
			if x.Model == "digits" && x.Name == "canary" {
				return nil
			}
		}
		return errorf("alias not in the catalogue: %+v", list.Aliases)
	})
	inputs, _ := DigitInputs(t, 1)
	n, twos := 300, 0
	for range n {
		code, v, raw := s.predictVersion(t, "digits", "canary", inputs[0])
		if code != http.StatusOK {
			t.Fatalf("predict canary: %d %s", code, raw)
		}
		if v == "2" {
			twos++
		}
	}
	if share := float64(twos) / float64(n); share < 0.2 || share > 0.4 {
		t.Fatalf("canary sent %.2f of %d requests to 2, want about 0.30", share, n)
	}
	t.Logf("canary {1: 70, 2: 30}: %d of %d requests went to 2", twos, n)

	for _, tc := range []struct {
		method, path, body string
		code               int
		want               string
	}{
		{"PUT", "/v1/models/digits/aliases/canary", `{"weights":{"1":70,"2":20}}`, 400, "sum to 90, not 100"},
		{"PUT", "/v1/models/digits/aliases/canary", `{"weights":{"1":50,"9":50}}`, 404, "no version 9"},
		{"PUT", "/v1/models/digits/aliases/canary", `{"weights":{"1":150,"2":-50}}`, 400, "0 to 100"},
		{"PUT", "/v1/models/digits/aliases/canary", `{"weights":{}}`, 400, "weights are missing"},
		{"PUT", "/v1/models/digits/aliases/canary", `{"weight":{"1":100}}`, 400, "unknown field"},
		{"PUT", "/v1/models/digits/aliases/2", `{"weights":{"1":100}}`, 409, "has a version 2"},
		{"DELETE", "/v1/models/digits/versions/2", "", 409, "alias canary"},
		{"PUT", "/v1/models/digits/versions/canary", "x", 409, "is an alias"},
	} {
		code, _, raw := s.Do(tc.method, tc.path, "application/json", []byte(tc.body), nil)
		if code != tc.code || !contains(raw, tc.want) {
			t.Errorf("%s %s %s: %d %s, want %d with %q", tc.method, tc.path, tc.body, code, raw, tc.code, tc.want)
		}
	}
	if code, _, raw := s.Do(http.MethodDelete, "/v1/models/digits/aliases/canary", "", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete alias: %d %s", code, raw)
	}
	Eventually(t, 10*time.Second, func() error {
		if code, _, _ := s.predictVersion(t, "digits", "canary", inputs[0]); code != http.StatusNotFound {
			return errorf("canary after its deletion: %d", code)
		}
		return nil
	})
	if code, _, _ := s.Do(http.MethodDelete, "/v1/models/digits/aliases/canary", "", nil, nil); code != http.StatusNotFound {
		t.Fatalf("delete a deleted alias: %d", code)
	}
}

// A .tflite pushed is served by a LiteRT-only worker (as cmd/worker-lite
// runs) next to a TensorFlow worker; a SavedModel is left to the latter.
func TestRegistryLiteWorkerServesTFLite(t *testing.T) {
	s := Start(t, Options{Gateway: fastRegistry, Registry: &quickWarmup, Check: subprocessCheck(true)})
	s.registryWorker(t, "lite", Runtimes(false), subprocessCheck(false), nil)
	tflite := readFile(t, RepoRoot(), "model", "models", "breast_cancer", "1", "model.tflite")
	v := s.mustPush(t, "breast_cancer", "5", tflite)
	if v.Format != "tflite" || len(v.Runtimes) != 1 || v.Runtimes[0] != "litert" {
		t.Fatalf("pushed: %+v", v)
	}
	s.mustPush(t, "digits", "6", tarGz(t, versionDir(t, "digits", "6", keep, "model.tflite")))
	Eventually(t, 60*time.Second, func() error {
		a, b := s.versionState(t, "breast_cancer", "5"), s.versionState(t, "digits", "6")
		if a.Workers != 2 || b.Workers != 1 {
			return errorf("breast_cancer:5 on %d workers, digits:6 on %d; want 2 and 1", a.Workers, b.Workers)
		}
		return nil
	})
	// Pushed from Go with metadata.json beside the file (a multipart
	// push): the labels it gives are the version's; a second push of the
	// version is a conflict the client reports.
	file := filepath.Join(t.TempDir(), "bc.tflite")
	if err := os.WriteFile(file, tflite, 0o644); err != nil {
		t.Fatal(err)
	}
	c := &biclient.Client{BaseURL: s.BaseURL, Key: KeyA}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	md := []byte(`{"description":"pushed with its labels","labels":["malignant","benign"]}`)
	v8, err := c.PushModel(ctx, "breast_cancer", "8", file, biclient.PushOptions{Metadata: md})
	if err != nil || v8.Metadata == nil || v8.Metadata.Labels[1] != "benign" {
		t.Fatalf("push with metadata: %+v, %v", v8, err)
	}
	var ce *api.Error
	if _, err := c.PushModel(ctx, "breast_cancer", "8", file, biclient.PushOptions{}); !errors.As(err, &ce) || ce.Status != http.StatusConflict || ce.Code != api.CodeConflict {
		t.Fatalf("push again: %v, want a 409 conflict", err)
	}
	// The TensorFlow worker goes: the LiteRT worker serves breast_cancer:5
	// alone (its metadata inferred from the model: features f0..f29).
	ctxStopWorker(t, s.Workers[0])
	s.Workers = s.Workers[1:]
	input := make([]float32, 30)
	code, got, raw := s.predictVersion(t, "breast_cancer", "5", input)
	if code != http.StatusOK || got != "5" {
		t.Fatalf("predict breast_cancer:5 on the LiteRT worker: %d %s", code, raw)
	}
}

// Every bad push is refused with a 4xx naming the problem, and leaves
// nothing in the registry; the workers keep serving.
func TestRegistryRefusesBadPushes(t *testing.T) {
	s := Start(t, Options{Gateway: func(c *gateway.Config) {
		fastRegistry(c)
		c.Service.Registry.MaxModelBytes = 150 << 10
	}, Registry: &quickWarmup, Check: subprocessCheck(true)})
	base := s.registryState(t)
	noServing := versionDir(t, "digits", "9", keep, "model.tflite")
	renameSignature(t, noServing)
	tflite := readFile(t, RepoRoot(), "model", "models", "digits", "1", "model.tflite")
	withMeta := tarGz(t, versionDir(t, "digits", "9", keep, "saved_model.pb", "variables"))
	mdBody, mdType := multipartPush(t, withMeta, `{"description":"and here too"}`)
	otherBody, otherType := multipartPush(t, tflite, `{"version":"3"}`)
	for _, tc := range []struct {
		name, key, version, contentType string
		body                            []byte
		code                            int
		want                            string
	}{
		{"corrupt archive", KeyA, "9", "", append([]byte{0x1f, 0x8b, 8, 0}, make([]byte, 100)...), 400, "the gzip data is corrupt"},
		{"path traversal", KeyA, "9", "", traversal(t, tflite), 400, `".." is not allowed`},
		{"no serving_default", KeyA, "9", "", tarGz(t, noServing), 400, `signature "serving_default": not in SavedModel`},
		{"unsupported ops", KeyA, "9", "", readFile(t, RepoRoot(), "model", "testdata", "unsupported_op.tflite"), 400, "unsupported"},
		// Refused by the FlatBuffer check before LiteRT reads it (the checker's
		// subprocess would report a crash of LiteRT itself).
		{"a .tflite that crashes LiteRT", KeyA, "9", "", crashingTFLite(tflite), 400, "not a valid .tflite file"},
		{"over the size limit", KeyA, "9", "", append(tflite, make([]byte, 150<<10)...), 413, "REGISTRY_MAX_MODEL_BYTES"},
		{"not a model", KeyA, "9", "", []byte(`{"inputs":[1]}`), 400, "not a tar.gz"},
		{"metadata of another version", KeyA, "9", "", tarGz(t, versionDir(t, "digits", "9", func(m map[string]any) { m["version"] = "8" }, "saved_model.pb", "variables")), 400, "digits:8"},
		{"metadata not matching", KeyA, "9", "", tarGz(t, versionDir(t, "digits", "9", func(m map[string]any) {
			m["input"].(map[string]any)["shape"] = []int{-1, 65}
		}, "saved_model.pb", "variables")), 400, "shape"},
		{"metadata twice", KeyA, "9", mdType, mdBody, 400, "metadata given both"},
		{"metadata field of another version", KeyA, "9", otherType, otherBody, 400, "the metadata field names version 3, the push 9"},
		{"a user's key", KeyB, "9", "", tflite, 403, "operator"},
		{"an existing version", KeyA, "1", "", tflite, 409, "served from the workers' models directory"},
		{"invalid version", KeyA, "Nine", "", tflite, 400, "invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, raw := s.As(tc.key).push(t, "digits", tc.version, tc.body, tc.contentType)
			var e api.ErrorBody
			if code != tc.code || !contains(raw, tc.want) || json.Unmarshal(raw, &e) != nil || e.Error == nil {
				t.Fatalf("%d %s, want %d naming %q", code, raw, tc.code, tc.want)
			}
			// The consumers are counted once, after every push (below).
			Eventually(t, 10*time.Second, func() error {
				if got := s.registryState(t); got.withoutConsumers() != base.withoutConsumers() {
					return errorf("registry after a refused push: %+v, want %+v", got, base)
				}
				return nil
			})
		})
	}
	// Listings open a consumer for a moment, and a watch whose heartbeats
	// a loaded host missed leaves its old consumer behind until nats.go's
	// inactivity threshold (5 min): the count settles, a leak would not.
	Eventually(t, 6*time.Minute, func() error {
		if got := s.registryState(t); got != base {
			return errorf("registry after the refused pushes: %+v, want %+v", got, base)
		}
		return nil
	})
	// A version registered twice, and one being retired, conflict.
	s.mustPush(t, "digits", "7", tflite)
	if code, _, raw := s.push(t, "digits", "7", tflite, ""); code != http.StatusConflict || !contains(raw, "already registered") {
		t.Fatalf("push again: %d %s", code, raw)
	}
	// The workers still serve.
	inputs, _ := DigitInputs(t, 1)
	if code, _, raw := s.predictVersion(t, "digits", "1", inputs[0]); code != http.StatusOK {
		t.Fatalf("predict after bad pushes: %d %s", code, raw)
	}
}
