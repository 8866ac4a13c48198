package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/internal/natsx"
	"batchinfer/internal/natsx/natstest"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/nats-io/nuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The tests deliver to real HTTP receivers on 127.0.0.1 (allow-listed)
// from a real embedded JetStream; jobs end through the store, as the
// workers and the scheduler end them.

type env struct {
	t    testing.TB
	in   *natsx.Infra
	jobs *store.Jobs
	d    *Dispatcher
	reg  *prometheus.Registry
}

// testConfig delivers fast: short timeout, backoff and window.
func testConfig(t testing.TB) Config {
	path := filepath.Join(t.TempDir(), "webhooks")
	file := "tenant-a secret=" + secretA + "\ntenant-b secret=" + secretB + "\n"
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Defaults()
	cfg.File, cfg.Schemes, cfg.AllowCIDRs = path, []string{"https", "http"}, []string{"127.0.0.1/32"}
	cfg.Timeout, cfg.BackoffMin, cfg.BackoffMax, cfg.RetryWindow = time.Second, 50*time.Millisecond, 400*time.Millisecond, time.Minute
	return cfg
}

func start(t testing.TB, cfg Config) *env {
	t.Helper()
	in, _ := natstest.Infra(t)
	return startOn(t, cfg, in)
}

// startOn starts a dispatcher (a gateway's) on in.
func startOn(t testing.TB, cfg Config, in *natsx.Infra) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	d, err := New(cfg, reg, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Start(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return &env{t: t, in: in, jobs: store.NewJobs(in), d: d, reg: reg}
}

// metric reads a gauge's or a counter's value (with the label value of
// a vector's one label, when not "").
func (e *env) metric(name, label string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) != 1 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	e.t.Fatalf("no metric %s{%s}", name, label)
	return 0
}

// finish creates a job of tenant with webhook url and ends it: completed,
// failed or cancelled. It returns the job's id.
func (e *env) finish(tenant, url, how string) string {
	e.t.Helper()
	ctx := context.Background()
	id := nuid.Next()
	now := time.Now().UTC()
	rec := &wire.JobRecord{ID: id, Tenant: tenant, Model: "m", Version: "1", ChunkSize: 10, State: wire.StateAccepting,
		CreatedAt: now, RetentionMS: time.Hour.Milliseconds(), Webhook: url}
	err := e.jobs.Create(ctx, rec)
	if err == nil {
		_, err = e.jobs.Queue(ctx, id, store.Queueing{Items: 10, Chunks: 1})
	}
	if err == nil {
		switch how {
		case "completed":
			err = e.jobs.Count(ctx, id, wire.ChunkCount{Chunk: 0, Done: 9, Failed: 1})
		case "failed":
			_, err = e.jobs.Fail(ctx, id, "the model failed")
		case "cancelled":
			if _, err = e.jobs.Cancel(ctx, id, now); err == nil {
				_, err = e.jobs.Skip(ctx, id, 0, "job cancelled")
			}
		}
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return id
}

// log reads a job's delivery of its one event.
func (e *env) log(job string) wire.WebhookDelivery {
	e.t.Helper()
	l, err := store.NewWebhooks(e.in).Log(context.Background(), job)
	if err != nil {
		e.t.Fatal(err)
	}
	if len(l.Deliveries) != 1 {
		return wire.WebhookDelivery{}
	}
	return l.Deliveries[0]
}

// settled waits until every job's delivery is in state.
func (e *env) settled(state string, jobs ...string) {
	e.t.Helper()
	eventually(e.t, 30*time.Second, func() error {
		for _, j := range jobs {
			if d := e.log(j); d.State != state {
				return fmt.Errorf("job %s: delivery %s after %d attempts, want %s", j, d.State, d.Attempts, state)
			}
		}
		return nil
	})
}

// eventually retries f until it succeeds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// request is one request a receiver got.
type request struct {
	id, event, job string
	at             time.Time
	verified       error
}

// receiver is an HTTP endpoint that verifies each request's signature
// with the Standard Webhooks library and answers as answer says for the
// n-th request of an event id (1-based): a status, or hang until the
// client gives up (0).
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	wh     *standardwebhooks.Webhook
	answer func(n int) int
	mu     sync.Mutex
	got    []request
	perID  map[string]int
}

func newReceiver(t testing.TB, secret string, answer func(n int) int) *receiver {
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, wh: wh, answer: answer, perID: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var p api.WebhookPayload
	_ = json.Unmarshal(body, &p)
	got := request{id: req.Header.Get("webhook-id"), event: p.Type, job: p.Data.Job.ID, at: time.Now(), verified: r.wh.Verify(body, req.Header)}
	r.mu.Lock()
	r.got = append(r.got, got)
	r.perID[got.id]++
	n := r.perID[got.id]
	r.mu.Unlock()
	status := r.answer(n)
	if status == 0 { // hang: the client's timeout ends it
		select {
		case <-req.Context().Done():
		case <-time.After(30 * time.Second):
		}
		return
	}
	w.WriteHeader(status)
}

func (r *receiver) requests() []request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]request(nil), r.got...)
}

func (r *receiver) url() string { return r.srv.URL + "/hooks" }
