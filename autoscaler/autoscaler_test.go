package autoscaler

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/rs/zerolog"
)

// fakeScaler is an in-memory Scaler that records its calls and can fail.
type fakeScaler struct {
	mu     sync.Mutex
	n      int
	calls  []int
	fail   int // the next fail calls to Scale fail
	closed bool
}

func (f *fakeScaler) Replicas(context.Context) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, nil
}

func (f *fakeScaler) Scale(_ context.Context, n int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, n)
	if f.fail > 0 {
		f.fail--
		return errors.New("engine unavailable")
	}
	f.n = n
	return nil
}

func (f *fakeScaler) Close() error {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	return nil
}

func (f *fakeScaler) get() (int, []int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, append([]int(nil), f.calls...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// loopConfig: 100 items/s per worker, drain within 1 s: 100 items a worker.
func loopConfig(url string) Config {
	c := Defaults()
	c.NATS = natsx.ConnConfig{URL: url}
	c.Interval = 20 * time.Millisecond
	c.MetricsAddr = "127.0.0.1:0"
	c.Policy = Policy{Min: 1, Max: 4, TargetDrain: time.Second, AssumedRate: 50,
		UpCooldown: 0, DownCooldown: 300 * time.Millisecond, DeadBand: 0.2}
	return c
}

func startLoop(t *testing.T, cfg Config, s Scaler) *Autoscaler {
	t.Helper()
	var opts []Option
	if s != nil {
		opts = append(opts, WithScaler(s))
	}
	a, err := New(cfg, zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := a.Stop(context.Background()); err != nil {
			t.Error(err)
		}
	})
	return a
}

func scrape(t *testing.T, a *Autoscaler, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + a.MetricsAddr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLoopScalesUpThenDown(t *testing.T) {
	e := startNATS(t)
	e.backlog("digits", "1")
	e.announce("w1", 100, 1)
	e.job("digits", "1", "j1", 300, 10, 10) // 3 workers' worth
	fs := &fakeScaler{n: 1, fail: 1}
	a := startLoop(t, loopConfig(e.url), fs)

	waitFor(t, "scale up to 3", func() bool { n, _ := fs.get(); return n == 3 })
	_, calls := fs.get()
	if len(calls) < 2 || calls[len(calls)-1] != 3 {
		t.Fatalf("scale calls %v: want the failed call tried again", calls)
	}
	waitFor(t, "the metrics of the scale up", func() bool {
		_, body := scrape(t, a, "/metrics")
		return strings.Contains(body, "autoscaler_current_replicas 3")
	})
	code, body := scrape(t, a, "/metrics")
	for _, want := range []string{"autoscaler_desired_replicas 3", "autoscaler_current_replicas 3", "autoscaler_backlog_items 300",
		`autoscaler_decisions_total{action="up"} 1`, `autoscaler_errors_total{stage="scale"} 1`, "autoscaler_drain_estimate_seconds 1"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Fatalf("/metrics (%d) lacks %q:\n%s", code, want, body)
		}
	}

	start := time.Now()
	for c := range 30 { // every chunk's result stored
		e.done("digits", "1", "j1", c)
	}
	waitFor(t, "scale down to 1", func() bool { n, _ := fs.get(); return n == 1 })
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("scaled down after %s, before the 300ms cooldown", d)
	}
	// Down in one step, or in several when a reading of the draining tail
	// still needed 2 (the window's largest need is what it goes to).
	_, after := fs.get()
	for i := len(calls); i < len(after); i++ {
		if after[i] >= after[i-1] {
			t.Fatalf("scale calls %v: want only scale downs after %v", after, calls)
		}
	}
	if code, _ := scrape(t, a, "/health"); code != 200 {
		t.Fatalf("/health %d", code)
	}
}

func TestLoopWakesFromZeroOnASyncRequest(t *testing.T) {
	e := startNATS(t)
	e.consumer(wire.PrioritySync, "digits", "1")
	cfg := loopConfig(e.url)
	cfg.Policy.Min = 0
	fs := &fakeScaler{n: 1}
	startLoop(t, cfg, fs)
	waitFor(t, "scale to zero", func() bool { n, _ := fs.get(); return n == 0 })
	time.Sleep(100 * time.Millisecond)
	if n, _ := fs.get(); n != 0 {
		t.Fatalf("%d replicas with nothing to do", n)
	}
	// A synchronous request, queued durably since no worker listens.
	e.sync("digits", "1", 1)
	waitFor(t, "wake to 1", func() bool { n, _ := fs.get(); return n == 1 })
}

func TestDryRunStartsFromTheLiveWorkers(t *testing.T) {
	e := startNATS(t)
	e.backlog("digits", "1")
	e.announce("w1", 100, 1)
	e.announce("w2", 100, 1)
	cfg := loopConfig(e.url)
	cfg.Service = ""
	cfg.dryRunText = "true"
	cfg.Policy.DownCooldown = time.Minute
	a := startLoop(t, cfg, nil)
	metric := func(want string) func() bool {
		return func() bool { _, body := scrape(t, a, "/metrics"); return strings.Contains(body, want) }
	}
	waitFor(t, "the dry run to start at the 2 live workers", metric("autoscaler_current_replicas 2"))
	e.job("digits", "1", "j1", 400, 10, 10)
	waitFor(t, "a dry-run scale up to 4", metric("autoscaler_current_replicas 4"))
	if _, body := scrape(t, a, "/metrics"); !strings.Contains(body, `autoscaler_decisions_total{action="down"} 0`) {
		t.Fatalf("scaled down:\n%s", body)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, f := range []func(*Config){
		func(c *Config) { c.NATS.URL = "" },
		func(c *Config) { c.Interval = 0 },
		func(c *Config) { c.Service = "" },
		func(c *Config) { c.dryRunText = "perhaps" },
		func(c *Config) { c.Policy.Max = 0 },
	} {
		c := loopConfig("nats://127.0.0.1:1")
		f(&c)
		if _, err := New(c, zerolog.Nop()); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestStartGivesUpWithItsContext(t *testing.T) {
	fs := &fakeScaler{n: 1}
	a, err := New(loopConfig("nats://127.0.0.1:1"), zerolog.Nop(), WithScaler(fs))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := a.Start(ctx); err == nil {
		t.Fatal("started without NATS")
	}
	fs.mu.Lock()
	closed := fs.closed
	fs.mu.Unlock()
	if !closed {
		t.Fatal("the scaler was not closed")
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}
