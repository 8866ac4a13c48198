package dockerproxy

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/autoscaler"

	"github.com/docker/docker/api/types/swarm"
	"github.com/rs/zerolog"
)

// engine is a stand-in Docker Engine on a Unix socket: one replicated
// service, and it records every call that reaches it.
type engine struct {
	mu    sync.Mutex
	svc   swarm.Service
	calls []string
}

func (e *engine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = append(e.calls, r.Method+" "+r.URL.Path)
	path := r.URL.Path
	if i := strings.Index(path[1:], "/"); strings.HasPrefix(path, "/v1.") && i > 0 {
		path = path[i+1:]
	}
	switch {
	case path == "/_ping":
		w.Header().Set("API-Version", "1.45")
		_, _ = io.WriteString(w, "OK")
	case r.Method == http.MethodGet && (path == "/services/batchinfer_worker" || path == "/services/"+e.svc.ID):
		_ = json.NewEncoder(w).Encode(e.svc)
	case r.Method == http.MethodPost && path == "/services/"+e.svc.ID+"/update":
		var spec swarm.ServiceSpec
		_ = json.NewDecoder(r.Body).Decode(&spec)
		e.svc.Spec = spec
		e.svc.Version.Index++
		_, _ = io.WriteString(w, `{"Warnings":null}`)
	default:
		_, _ = io.WriteString(w, `{}`) // the engine would do it: the proxy must not let it through
	}
}

func (e *engine) reached(call string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, c := range e.calls {
		if c == call || strings.HasSuffix(c, call) {
			return true
		}
	}
	return false
}

func start(t *testing.T) (*engine, string) {
	t.Helper()
	two := uint64(2)
	e := &engine{svc: swarm.Service{ID: "svc123", Meta: swarm.Meta{Version: swarm.Version{Index: 7}}, Spec: swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: "batchinfer_worker"},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &two}},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "worker:1"}},
	}}}
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	p, err := New(Config{Addr: "127.0.0.1:0", Socket: sock, Services: []string{"batchinfer_worker"}}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.Background()) })
	return e, p.Addr()
}

// The autoscaler's own Docker client reads and scales its service through
// the proxy.
func TestAutoscalerScalesThroughTheProxy(t *testing.T) {
	e, addr := start(t)
	t.Setenv("DOCKER_HOST", "tcp://"+addr)
	d, err := autoscaler.NewDockerScaler("batchinfer_worker")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if n, err := d.Replicas(ctx); err != nil || n != 2 {
		t.Fatalf("replicas through the proxy: %d %v", n, err)
	}
	if err := d.Scale(ctx, 5); err != nil {
		t.Fatalf("scale through the proxy: %v", err)
	}
	if n := *e.svc.Spec.Mode.Replicated.Replicas; n != 5 {
		t.Fatalf("engine's replicas %d after scaling to 5", n)
	}
}

// Everything else is refused before it reaches the engine: other API
// calls, other services, and an update of the service that changes
// anything but its replica count.
func TestEverythingElseRefused(t *testing.T) {
	e, addr := start(t)
	base := "http://" + addr + "/v1.45"
	do := func(method, path, body string) int {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := do("GET", "/services/batchinfer_worker", ""); code != 200 { // learns the id
		t.Fatalf("inspect: %d", code)
	}
	spec := func(image string, replicas uint64) string {
		s := e.svc.Spec
		s.TaskTemplate.ContainerSpec = &swarm.ContainerSpec{Image: image}
		s.Mode.Replicated = &swarm.ReplicatedService{Replicas: &replicas}
		b, _ := json.Marshal(s)
		return string(b)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/containers/create", `{"Image":"alpine","HostConfig":{"Binds":["/:/host"]}}`},
		{"GET", "/containers/json", ""},
		{"GET", "/secrets", ""},
		{"POST", "/services/create", spec("evil", 1)},
		{"GET", "/services/batchinfer_gateway", ""},
		{"DELETE", "/services/svc123", ""},
		{"POST", "/services/svc123/update?version=7", spec("evil:latest", 3)},
		{"POST", "/services/svc123/update?version=7&rollback=previous", spec("worker:1", 3)},
		{"POST", "/services/other/update?version=7", spec("worker:1", 3)},
		{"POST", "/swarm/leave?force=1", ""},
		{"GET", "/../containers/json", ""},
	} {
		if code := do(c.method, c.path, c.body); code != http.StatusForbidden {
			t.Errorf("%s %s: %d, want 403", c.method, c.path, code)
		}
	}
	for _, call := range []string{"/containers/create", "/containers/json", "/secrets", "/services/create", "DELETE /v1.45/services/svc123", "/swarm/leave", "/services/svc123/update"} {
		if e.reached(call) {
			t.Errorf("%s reached the engine", call)
		}
	}
	if code := do("POST", "/services/svc123/update?version=7", spec("worker:1", 4)); code != 200 {
		t.Fatalf("a replica count update: %d", code)
	}
}
