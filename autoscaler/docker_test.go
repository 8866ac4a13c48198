package autoscaler

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/docker/docker/api/types/swarm"
)

// fakeEngine is the part of the Docker Engine API a scale uses: inspect
// and update of one service, with the version check of the real one.
type fakeEngine struct {
	mu       sync.Mutex
	svc      swarm.Service
	updates  int
	conflict int // the next conflict updates are refused as out of sequence
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	path := r.URL.Path
	if i := strings.Index(path[1:], "/"); strings.HasPrefix(path, "/v1.") && i > 0 {
		path = path[i+1:] // drop the API version
	}
	switch {
	case path == "/_ping":
		w.Header().Set("API-Version", "1.45")
		_, _ = w.Write([]byte("OK"))
	case r.Method == http.MethodGet && path == "/services/"+f.svc.Spec.Name:
		_ = json.NewEncoder(w).Encode(f.svc)
	case r.Method == http.MethodPost && path == "/services/"+f.svc.ID+"/update":
		f.update(w, r)
	default:
		http.Error(w, `{"message":"no such route"}`, http.StatusNotFound)
	}
}

func (f *fakeEngine) update(w http.ResponseWriter, r *http.Request) {
	v, _ := strconv.ParseUint(r.URL.Query().Get("version"), 10, 64)
	if f.conflict > 0 {
		f.conflict--
		f.svc.Version.Index++ // someone else updated it meanwhile
	}
	if v != f.svc.Version.Index {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"message":"rpc error: code = Unknown desc = update out of sequence"}`))
		return
	}
	var spec swarm.ServiceSpec
	if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.svc.Spec = spec
	f.svc.Version.Index++
	f.updates++
	_, _ = w.Write([]byte(`{}`))
}

func TestDockerScalerUpdatesReplicasAtTheVersionRead(t *testing.T) {
	three := uint64(3)
	eng := &fakeEngine{svc: swarm.Service{ID: "svc1", Meta: swarm.Meta{Version: swarm.Version{Index: 7}},
		Spec: swarm.ServiceSpec{
			Annotations:  swarm.Annotations{Name: "bi_worker", Labels: map[string]string{"keep": "me"}},
			TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{Image: "worker:1.0.0"}},
			Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &three}},
		}}}
	srv := httptest.NewServer(eng)
	defer srv.Close()
	t.Setenv("DOCKER_HOST", "tcp://"+strings.TrimPrefix(srv.URL, "http://"))
	d, err := NewDockerScaler("bi_worker")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if n, err := d.Replicas(ctx); err != nil || n != 3 {
		t.Fatalf("replicas %d, %v", n, err)
	}
	eng.conflict = 1 // a concurrent update: refused once, then tried on the new version
	if err := d.Scale(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if n, err := d.Replicas(ctx); err != nil || n != 5 {
		t.Fatalf("replicas %d after scaling to 5, %v", n, err)
	}
	eng.mu.Lock()
	defer eng.mu.Unlock()
	if eng.updates != 1 || eng.svc.Spec.Labels["keep"] != "me" || eng.svc.Spec.TaskTemplate.ContainerSpec.Image != "worker:1.0.0" {
		t.Fatalf("%d updates, spec %+v: want one, the rest of the spec unchanged", eng.updates, eng.svc.Spec)
	}
}

func TestDockerScalerRefusesAGlobalService(t *testing.T) {
	eng := &fakeEngine{svc: swarm.Service{ID: "svc1", Spec: swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: "bi_worker"}, Mode: swarm.ServiceMode{Global: &swarm.GlobalService{}}}}}
	srv := httptest.NewServer(eng)
	defer srv.Close()
	t.Setenv("DOCKER_HOST", "tcp://"+strings.TrimPrefix(srv.URL, "http://"))
	d, err := NewDockerScaler("bi_worker")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Replicas(context.Background()); err == nil || !strings.Contains(err.Error(), "not in replicated mode") {
		t.Fatalf("err %v", err)
	}
	if err := d.Scale(context.Background(), 2); err == nil {
		t.Fatal("scaled a global service")
	}
}
