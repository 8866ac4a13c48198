package system

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"
	"batchinfer/model/loader"
	"batchinfer/worker"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// fastRegistry makes the registry's upkeep quick, for tests.
func fastRegistry(c *gateway.Config) {
	c.Service.Registry.SweepInterval = 20 * time.Millisecond
	c.Service.Registry.DrainGrace = 100 * time.Millisecond
}

// versionDir copies the committed model/models/<name>/1 to a new
// directory laid out as <name>/<version>, with its metadata.json edited
// (nil edit: removed) and the files drop names left out.
func versionDir(t *testing.T, name, version string, edit func(m map[string]any), drop ...string) string {
	t.Helper()
	src := filepath.Join(RepoRoot(), "model", "models", name, "1")
	dst := filepath.Join(t.TempDir(), name, version)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		for _, x := range drop {
			if rel == x {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	mp := filepath.Join(dst, "metadata.json")
	if edit == nil {
		_ = os.Remove(mp)
		return dst
	}
	var m map[string]any
	b, err := os.ReadFile(mp)
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil {
		t.Fatal(err)
	}
	delete(m, "version") // the push names it
	edit(m)
	if b, err = json.Marshal(m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// keep leaves metadata.json as it is (but for its version).
func keep(map[string]any) {}

// tarGz packs a directory's files (named relative to it) as a tar.gz.
func tarGz(t *testing.T, dir string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		body, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := tw.WriteHeader(&tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err = tw.Write(body)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// push PUTs a model version's upload and decodes the answer.
func (s *System) push(t *testing.T, name, version string, body []byte, contentType string) (int, api.RegistryVersion, []byte) {
	t.Helper()
	var v api.RegistryVersion
	code, _, raw := s.Do(http.MethodPut, "/v1/models/"+name+"/versions/"+version, contentType, body, nil)
	if code == http.StatusCreated {
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("push %s:%s: %s: %v", name, version, raw, err)
		}
	}
	return code, v, raw
}

// mustPush pushes and fails the test unless the version is registered.
func (s *System) mustPush(t *testing.T, name, version string, body []byte) api.RegistryVersion {
	t.Helper()
	code, v, raw := s.push(t, name, version, body, "application/octet-stream")
	if code != http.StatusCreated {
		t.Fatalf("push %s:%s: %d %s", name, version, code, raw)
	}
	return v
}

// versionState is a version's state in the registry listing ("" when not
// listed).
func (s *System) versionState(t *testing.T, name, version string) api.RegistryVersion {
	t.Helper()
	var vs api.RegistryVersions
	s.GetJSON("/v1/models/"+name+"/versions", &vs)
	for _, v := range vs.Versions {
		if v.Version == version {
			return v
		}
	}
	return api.RegistryVersion{}
}

// waitState waits until a version is in state ("": gone from the listing).
func (s *System) waitState(t *testing.T, name, version, state string, timeout time.Duration) {
	t.Helper()
	Eventually(t, timeout, func() error {
		if v := s.versionState(t, name, version); v.State != state {
			return fmt.Errorf("%s:%s: %+v, want state %q", name, version, v, state)
		}
		return nil
	})
}

// predictVersion predicts one digits item with version (may be empty) and
// returns the status and the version that answered.
func (s *System) predictVersion(t *testing.T, model, version string, input any) (int, string, []byte) {
	t.Helper()
	path := "/v1/models/" + model + "/predict"
	if version != "" {
		path += "?version=" + version
	}
	var out struct {
		Version string `json:"version"`
	}
	b, _ := json.Marshal(map[string]any{"inputs": []any{input}})
	code, _, raw := s.Do(http.MethodPost, path, "application/json", b, nil)
	if code == http.StatusOK {
		_ = json.Unmarshal(raw, &out)
	}
	return code, out.Version, raw
}

// registryState is what the registry leaves in JetStream: its stream's
// messages and bytes, the pushes and models buckets' messages, the
// consumers, and the input stream's messages.
type registryState struct {
	RegistryMsgs, RegistryBytes, Pushes, Models, Aliases, Inputs uint64
	Consumers                                                    int
}

// withoutConsumers is st with its consumers not counted.
func (st registryState) withoutConsumers() registryState {
	st.Consumers = 0
	return st
}

func (s *System) registryState(t *testing.T) registryState {
	t.Helper()
	nc := s.natsConn(t)
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info := func(name string) *jetstream.StreamInfo {
		st, err := js.Stream(ctx, name)
		if err == nil {
			var si *jetstream.StreamInfo
			if si, err = st.Info(ctx); err == nil {
				return si
			}
		}
		t.Fatalf("stream %s: %v", name, err)
		return nil
	}
	reg := info("OBJ_" + wire.BucketRegistry)
	return registryState{
		RegistryMsgs: reg.State.Msgs, RegistryBytes: reg.State.Bytes,
		Pushes: info("KV_" + wire.BucketPushes).State.Msgs, Models: info("KV_" + wire.BucketModels).State.Msgs,
		Aliases: info("KV_" + wire.BucketAliases).State.Msgs, Inputs: info(wire.StreamInput).State.Msgs,
		Consumers: s.Consumers(),
	}
}

// gatedModel holds a registry version's predictions at a gate.
type gatedModel struct {
	loader.Model
	g *gate
}

func (m gatedModel) Predict(in []float32, n int) ([]float32, error) {
	m.g.wait()
	return m.Model.Predict(in, n)
}

// hookLoads wraps runtimes so that each load of model name:version runs
// through hook, which may hold it and returns the model to serve.
func hookLoads(runtimes []loader.Runtime, name, version string, hook func(m loader.Model) loader.Model) []loader.Runtime {
	out := make([]loader.Runtime, len(runtimes))
	for i, rt := range runtimes {
		load := rt.Load
		rt.Load = func(dir string) (loader.Model, error) {
			m, err := load(dir)
			if err != nil || filepath.Base(dir) != version || filepath.Base(filepath.Dir(dir)) != name {
				return m, err
			}
			return hook(m), nil
		}
		out[i] = rt
	}
	return out
}

// registryWorker starts a worker serving the registry with runtimes (and
// models), checking pushed versions with check (nil: in its process).
func (s *System) registryWorker(t *testing.T, id string, runtimes []loader.Runtime, check worker.Checker, models []worker.Predictor) *worker.Worker {
	t.Helper()
	w, err := worker.New(worker.Config{NATS: s.conn(), ID: id, HeartbeatInterval: 200 * time.Millisecond}, models, Logger(),
		worker.WithRegistry(worker.RegistrySource{Runtimes: runtimes, Warmup: quickWarmup, Dir: t.TempDir(), Check: check}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctxStopWorker(t, w) })
	return w
}

func readFile(t *testing.T, elem ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(elem...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// renameSignature renames the SavedModel's only signature in dir (the
// bytes of its name, same length): it has no serving_default any more.
func renameSignature(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, "saved_model.pb")
	b := readFile(t, p)
	if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte("serving_default"), []byte("serving_other__")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// traversal is a tar.gz holding a model and an entry that climbs out of
// the directory it is unpacked in.
func traversal(t *testing.T, tflite []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	tw := tar.NewWriter(zw)
	for _, e := range []struct {
		name string
		body []byte
	}{{"model.tflite", tflite}, {"../../../tmp/batchinfer-escaped", []byte("evil")}} {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(tw.Close(), zw.Close()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// dumpRegistry describes the registry stream's messages (for failures).
func (s *System) dumpRegistry(t *testing.T) string {
	t.Helper()
	nc, err := natsx.Connect(context.Background(), s.conn(), zerolog.Nop())
	if err != nil {
		return err.Error()
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "OBJ_"+wire.BucketRegistry)
	if err != nil {
		return err.Error()
	}
	info, err := st.Info(ctx)
	if err != nil {
		return err.Error()
	}
	var b bytes.Buffer
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "\n  %d %s %d bytes %q", seq, m.Subject, len(m.Data), clip(m.Data, 300))
	}
	return b.String()
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// multipartPush is a multipart push body: the metadata part, then the
// model part.
func multipartPush(t *testing.T, model []byte, metadata string) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	w, err := mw.CreateFormField("metadata")
	if err == nil {
		_, err = w.Write([]byte(metadata))
	}
	if err == nil {
		w, err = mw.CreateFormFile("model", "model")
	}
	if err == nil {
		_, err = w.Write(model)
	}
	if err := errors.Join(err, mw.Close()); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// crashingTFLite is the committed digits model.tflite with 50 bytes
// changed at random (seeded): a flatbuffer that LiteRT's C library
// crashes on (SIGSEGV) when it loads it unverified, where most damaged
// ones are refused with an error.
func crashingTFLite(tflite []byte) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var body []byte
	for i := range 8 {
		switch i % 3 {
		case 0:
			body = append([]byte(nil), tflite[:r.IntN(len(tflite))]...)
		case 1:
			body = append([]byte(nil), tflite...)
			for range 50 {
				body[8+r.IntN(len(body)-8)] = byte(r.Uint32())
			}
		default:
			body = make([]byte, 2000)
			for j := range body {
				body[j] = byte(r.Uint32())
			}
		}
	}
	return body
}
