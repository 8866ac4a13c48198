package system

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/auth"
)

// Every endpoint, tried without a key, with a wrong key, and with the
// other tenant's key: 401 with a challenge, or exactly what an unknown job
// gets; nothing of tenant A's job reaches tenant B.
func TestTenantsAreIsolated(t *testing.T) {
	s := Start(t, Options{})
	inputs, _ := DigitInputs(t, 30)
	job := s.submit(t, map[string]any{"model": "digits", "inputs": inputs})
	s.waitJob(t, job.ID, 30*time.Second)
	jobPaths := []struct{ method, path, body string }{
		{"GET", "/v1/jobs/" + job.ID, ""},
		{"GET", "/v1/jobs/" + job.ID + "/results", ""},
		{"GET", "/v1/jobs/" + job.ID + "/results?format=ndjson", ""},
		{"POST", "/v1/jobs/" + job.ID + "/cancel", ""},
	}
	others := []struct{ method, path, body string }{
		{"GET", "/v1/models", ""}, {"GET", "/v1/models/digits", ""}, {"GET", "/v1/jobs", ""},
		{"POST", "/v1/jobs", `{"model":"digits","inputs":[[1]]}`},
		{"POST", "/v1/models/digits/predict", `{"inputs":[[1]]}`},
		{"GET", "/v1/cluster", ""}, {"GET", "/metrics", ""},
	}
	for _, key := range []string{"", "bik_wrong"} {
		for _, p := range append(jobPaths, others...) {
			code, hdr, body := s.As(key).Do(p.method, p.path, "application/json", []byte(p.body), nil)
			if code != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") || !strings.Contains(string(body), string(api.CodeUnauthorized)) {
				t.Errorf("key %q, %s %s: %d %q %s", key, p.method, p.path, code, hdr.Get("WWW-Authenticate"), body)
			}
		}
	}
	b := s.As(KeyB)
	for _, p := range jobPaths {
		code, _, body := b.Do(p.method, p.path, "", nil, nil)
		if code != 404 || !strings.Contains(string(body), string(api.CodeUnknownJob)) || strings.Contains(string(body), `"index"`) {
			t.Errorf("tenant B, %s %s: %d %s", p.method, p.path, code, body)
		}
	}
	var list struct {
		Jobs []struct{ ID string } `json:"jobs"`
	}
	if code := b.GetJSON("/v1/jobs", &list); code != 200 || len(list.Jobs) != 0 {
		t.Errorf("tenant B lists %d jobs (%d)", len(list.Jobs), code)
	}
	if code := s.GetJSON("/v1/jobs", &list); code != 200 || len(list.Jobs) != 1 || list.Jobs[0].ID != job.ID {
		t.Errorf("tenant A lists %+v (%d)", list.Jobs, code)
	}
	for _, p := range []string{"/v1/cluster", "/metrics"} {
		if code, _, _ := b.Do("GET", p, "", nil, nil); code != 403 {
			t.Errorf("a user key on %s: %d, want 403", p, code)
		}
		if code, _, _ := s.Do("GET", p, "", nil, nil); code != 200 {
			t.Errorf("an operator key on %s: %d", p, code)
		}
	}
	for _, p := range []string{"/health", "/ready"} {
		if code, _, _ := s.As("").Do("GET", p, "", nil, nil); code != 200 {
			t.Errorf("%s without a key: %d", p, code)
		}
	}
	for key, want := range map[string]string{KeyB: `"tenant":"` + TenantB + `","role":"user"`, s.Key: `"tenant":"` + TenantA + `","role":"operator"`} {
		if code, _, body := s.As(key).Do("GET", "/v1/whoami", "", nil, nil); code != 200 || !strings.Contains(string(body), want) {
			t.Errorf("whoami: %d %s, want %s", code, body, want)
		}
	}
	if code, _, _ := s.As("").Do("GET", "/v1/whoami", "", nil, nil); code != 401 {
		t.Errorf("whoami without a key: %d", code)
	}
	checkWSIsolation(t, s, job.ID)
	checkIdempotencySpaces(t, s)
}

// On the WebSocket: no credentials → auth first or 4401; wrong ones → 401
// before the upgrade or 4401; the other tenant's job is an unknown job.
func checkWSIsolation(t *testing.T, s *System, job string) {
	t.Helper()
	anon := s.As("")
	w, _, err := anon.DialWS("")
	if err != nil {
		t.Fatal(err)
	}
	if m := w.Read(); m.Type != "hello" || !strings.Contains(string(m.Raw), `"auth_required":true`) {
		t.Fatalf("hello without credentials: %s", m.Raw)
	}
	w.Send(map[string]any{"type": "subscribe", "job": job})
	if c := closeCode(t, w); c != api.CloseUnauthorized {
		t.Errorf("subscribe before auth: close %d", c)
	}
	w, _, _ = anon.DialWS("")
	w.Read()
	w.Send(map[string]any{"type": "auth", "token": "bik_wrong"})
	if c := closeCode(t, w); c != api.CloseUnauthorized {
		t.Errorf("wrong auth token: close %d", c)
	}
	if _, resp, err := s.As("bik_wrong").DialWS(""); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("wrong key in the upgrade: %v", err)
	}
	w, _, _ = anon.DialWS("")
	w.Read()
	w.Send(map[string]any{"type": "auth", "token": KeyB})
	if m := w.Read(); m.Type != "authenticated" || !strings.Contains(string(m.Raw), TenantB) {
		t.Fatalf("auth: %s", m.Raw)
	}
	for _, msg := range []map[string]any{
		{"type": "subscribe", "job": job}, {"type": "subscribe", "job": job, "results": false},
	} {
		w.Send(msg)
		if m := w.Read(); m.Type != "error" || m.Code != api.CodeUnknownJob {
			t.Errorf("tenant B subscribing to A's job: %s", m.Raw)
		}
	}
	w.Send(map[string]any{"type": "predict", "ref": "p", "model": "digits", "inputs": []any{DigitSamples(t)[0].Pixels}})
	if m := w.Read(); m.Type != "prediction" {
		t.Errorf("tenant B's own prediction: %s", m.Raw)
	}
}

// Each tenant has its own idempotency keys: the same key is another job.
func checkIdempotencySpaces(t *testing.T, s *System) {
	t.Helper()
	body := map[string]any{"model": "digits", "inputs": [][]float32{DigitSamples(t)[0].Pixels}}
	var a, b submitResp
	if code := s.PostJSON("/v1/jobs", body, &a, "Idempotency-Key", "same"); code != 202 {
		t.Fatalf("A: %d", code)
	}
	if code := s.As(KeyB).PostJSON("/v1/jobs", body, &b, "Idempotency-Key", "same"); code != 202 || b.Job.ID == a.Job.ID {
		t.Fatalf("B with A's idempotency key: %d, job %s (A's %s)", code, b.Job.ID, a.Job.ID)
	}
}

// A key over its request rate gets 429 rate_limited with Retry-After; a
// tenant over its unfinished jobs or items in flight gets 429
// quota_exceeded; each a setting of the key.
func TestRateAndQuotaLimits(t *testing.T) {
	gate := newGate()
	const slow, jobs = "bik_test_rate_limited", "bik_test_quota_limited"
	s := Start(t, Options{Models: gate.wrap, Keys: []string{
		TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000",
		"slow " + auth.HashKey(slow) + " rate=2 burst=3",
		"quota " + auth.HashKey(jobs) + " jobs=2 items=100 rate=1000 burst=1000",
	}})
	gate.close()
	defer gate.open()
	limited := 0
	for i := 0; i < 10; i++ {
		code, hdr, body := s.As(slow).Do("GET", "/v1/models", "", nil, nil)
		if code == 429 {
			if ra, _ := strconv.Atoi(hdr.Get("Retry-After")); ra < 1 || !strings.Contains(string(body), string(api.CodeRateLimited)) {
				t.Fatalf("429 without Retry-After: %v %s", hdr, body)
			}
			limited++
		}
	}
	if limited < 5 {
		t.Fatalf("%d of 10 requests limited at rate 2/s burst 3", limited)
	}
	q := s.As(jobs)
	inputs, _ := DigitInputs(t, 40)
	for i := 0; i < 2; i++ {
		if code := q.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs}, nil); code != 202 {
			t.Fatalf("job %d: %d", i, code)
		}
	}
	var e apiError
	code, hdr, body := q.Do("POST", "/v1/jobs", "application/json", mustJSON(t, map[string]any{"model": "digits", "inputs": inputs}), &e)
	if code != 429 || e.Error.Code != api.CodeQuotaExceeded || hdr.Get("Retry-After") == "" || !strings.Contains(e.Error.Message, "2 unfinished jobs") {
		t.Fatalf("third job: %d %s", code, body)
	}
	gate.open() // the two jobs finish: room again, but not for 150 items
	Eventually(t, 30*time.Second, func() error {
		in, _ := DigitInputs(t, 101)
		code, _, body := q.Do("POST", "/v1/jobs", "application/json", mustJSON(t, map[string]any{"model": "digits", "inputs": in}), nil)
		if code != 429 || !strings.Contains(string(body), "items in flight") {
			return fmt.Errorf("101 items at items=100: %d %s", code, body)
		}
		return nil
	})
	Eventually(t, 30*time.Second, func() error {
		if code := q.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs}, nil); code != 202 {
			return fmt.Errorf("a job once the others finished: %d", code)
		}
		return nil
	})
}

// The keys file is read again when it changes: a new key works and a
// removed one stops working, without a restart, even when another line of
// the file is bad.
func TestKeysReloadWithoutRestart(t *testing.T) {
	s := Start(t, Options{})
	const newKey = "bik_test_new_key"
	if code, _, _ := s.As(newKey).Do("GET", "/v1/models", "", nil, nil); code != 401 {
		t.Fatalf("an unknown key: %d", code)
	}
	lines := TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000\n" + "new " + auth.HashKey(newKey) + "\n"
	if err := os.WriteFile(s.KeysFile, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, func() error {
		if code, _, _ := s.As(newKey).Do("GET", "/v1/models", "", nil, nil); code != 200 {
			return fmt.Errorf("the new key: %d", code)
		}
		if code, _, _ := s.As(KeyB).Do("GET", "/v1/models", "", nil, nil); code != 401 {
			return fmt.Errorf("the removed key: %d", code)
		}
		return nil
	})
	// A file with a bad line: the removal of another key still takes
	// effect, the bad line's key stays as it was, and the error is counted.
	lines = TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000 jobs=many\n" + "not a keys line\n"
	if err := os.WriteFile(s.KeysFile, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	Eventually(t, 10*time.Second, func() error {
		if code, _, _ := s.As(newKey).Do("GET", "/v1/models", "", nil, nil); code != 401 {
			return fmt.Errorf("the key removed beside a bad line: %d", code)
		}
		return nil
	})
	if code, _, _ := s.Do("GET", "/v1/models", "", nil, nil); code != 200 {
		t.Fatalf("the key of the bad line: %d", code)
	}
	_, _, metrics := s.Do("GET", "/metrics", "", nil, nil)
	if !strings.Contains(string(metrics), "gateway_api_keys_reload_errors_total 1") || !strings.Contains(string(metrics), "gateway_api_keys_bad_lines 2") {
		t.Fatalf("reload errors not in /metrics")
	}
}

// One tenant flooding the gateway (far beyond its request rate) does not
// move another tenant's synchronous p99 by more than 2×.
func TestFloodingTenantDoesNotSlowOthers(t *testing.T) {
	const flood = "bik_test_flooder"
	s := Start(t, Options{Keys: []string{
		TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000",
		"flood " + auth.HashKey(flood) + " rate=20 burst=20",
	}})
	sample := DigitSamples(t)[0].Pixels
	p99 := func() time.Duration {
		var d []time.Duration
		for i := 0; i < 300; i++ {
			start := time.Now()
			if code := s.PostJSON("/v1/models/digits/predict", map[string]any{"inputs": [][]float32{sample}}, nil); code != 200 {
				t.Fatalf("predict: %d", code)
			}
			d = append(d, time.Since(start))
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)*99/100]
	}
	// A p99 of 300 requests is the third slowest: one pause of the shared
	// 2-core host moves it. A gateway the flood slows does so every time,
	// so the comparison is made up to three times and must hold once.
	for try := 1; ; try++ {
		idle := p99()
		flooded, refused := underFlood(s.As(flood), p99)
		t.Logf("tenant A's sync p99: %s alone, %s while another tenant floods (%d requests refused)", idle, flooded, refused)
		if refused == 0 {
			t.Fatal("the flood was never refused")
		}
		if raceEnabled {
			t.Log("latency ratio not asserted under the race detector (make test-go asserts it in a run without)")
			return
		}
		if flooded <= 2*idle+2*time.Millisecond {
			return
		}
		if try == 3 {
			t.Fatalf("p99 %s under the flood, %s without: more than 2×, in 3 tries of 3", flooded, idle)
		}
	}
}

// underFlood measures with four clients of the flooding tenant sending
// predictions as fast as they are answered, and says how many of theirs
// were refused.
func underFlood(f *System, measure func() time.Duration) (time.Duration, int64) {
	var stop atomic.Bool
	var refused atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if code, _, _ := f.Do("POST", "/v1/models/digits/predict", "application/json", []byte(`{"inputs":[[1]]}`), nil); code == 429 {
					refused.Add(1)
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	d := measure()
	stop.Store(true)
	wg.Wait()
	return d, refused.Load()
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := jsonMarshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
