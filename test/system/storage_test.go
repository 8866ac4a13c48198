package system

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/gateway/auth"
	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"
	"batchinfer/worker"

	"github.com/nats-io/nats.go/jetstream"
)

// storeLimits are small results-store settings shared by gateway and
// workers (both declare the streams, so both must agree).
func storeLimits(c *natsx.StreamConfig) {
	c.ResultMaxBytes = 256 << 10 // ~17 compact digits chunks
	c.ResultTTL = 3 * time.Second
	c.RecordTTL = time.Hour
}

// A full results store never hangs a job: a job that cannot fit is refused
// up front (507); when the store fills anyway (here: another writer takes
// the room while two admitted jobs wait for the worker), the chunks whose
// results cannot be stored are retried for WORKER_STORE_RETRY and then
// fail with the reason, recorded in the job, so every job ends with counts
// that add up; finished jobs' results expire after RESULT_TTL (410, state
// expired) and the room comes back.
func TestFullResultsStoreEndsEveryJob(t *testing.T) {
	g := newGate()
	s := Start(t, Options{
		Gateway: func(c *gateway.Config) { storeLimits(&c.Streams) },
		Worker:  func(c *worker.Config) { storeLimits(&c.Streams); c.StoreRetry = time.Second },
		Models:  g.wrap,
	})
	inputs, _ := DigitInputs(t, 4000)
	var refused apiError
	if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs}, &refused); code != http.StatusInsufficientStorage ||
		refused.Error.Code != api.CodeInsufficientStorage || !strings.Contains(refused.Error.Message, "RESULT_MAX_BYTES") {
		t.Fatalf("a job larger than the store: %d %+v", code, refused)
	}

	g.close()
	a := s.submit(t, map[string]any{"model": "digits", "inputs": inputs[:700]})
	b := s.submit(t, map[string]any{"model": "digits", "inputs": inputs[:700]})
	s.fillResults(t, 40<<10) // another writer leaves room for a few chunks
	g.open()

	done, failedAll := 0, 0
	for _, id := range []string{a.ID, b.ID} {
		st := s.waitJob(t, id, 60*time.Second)
		if st.State != wire.StateCompleted || st.Done+st.Failed != st.Total {
			t.Fatalf("job %s: %+v (want completed, counts adding up)", id, st)
		}
		done, failedAll = done+st.Done, failedAll+st.Failed
		failed := 0
		for _, it := range s.allResults(t, id, st.Total) {
			if it.Error != "" {
				failed++
				if !strings.Contains(it.Error, "results store is full") {
					t.Fatalf("item %d: %q", it.Index, it.Error)
				}
			}
		}
		if failed != st.Failed {
			t.Fatalf("job %s: %d failed items in the results, %d counted", id, failed, st.Failed)
		}
	}
	if done == 0 || failedAll == 0 {
		t.Fatalf("%d done, %d failed: want both (some results fit, the rest not)", done, failedAll)
	}
	if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs[:700]}, &refused); code != http.StatusInsufficientStorage {
		t.Fatalf("a job while the store is full: %d", code)
	}

	// RESULT_TTL after they finished, the jobs' results expire: their status
	// stays (expired), their results answer 410, and their room is free.
	Eventually(t, 20*time.Second, func() error {
		var st jobStatus
		s.GetJSON("/v1/jobs/"+a.ID, &st)
		if st.State != wire.StateExpired {
			return fmt.Errorf("job %s: %+v", a.ID, st)
		}
		return nil
	})
	var gone apiError
	if code, _, body := s.Do(http.MethodGet, "/v1/jobs/"+a.ID+"/results", "", nil, &gone); code != http.StatusGone || gone.Error.Code != api.CodeExpired {
		t.Fatalf("results of an expired job: %d %s", code, body)
	}
	s.purgeFill(t)
	Eventually(t, 20*time.Second, func() error {
		var r submitResp
		if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs[:700]}, &r); code != http.StatusAccepted {
			return fmt.Errorf("after expiry: %d", code)
		}
		return nil
	})
}

// fillResults stores junk in the results stream until free bytes are left.
func (s *System) fillResults(t *testing.T, free int64) {
	t.Helper()
	js, stream := s.resultsStream(t)
	ctx := context.Background()
	junk := make([]byte, 8<<10)
	for i := 0; ; i++ {
		info, err := stream.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		left := info.Config.MaxBytes - int64(info.State.Bytes)
		if left <= free {
			return
		}
		n := min(int64(len(junk)), left-free)
		if _, err := js.Publish(ctx, fmt.Sprintf("res.jfill.%d", i), junk[:n]); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
}

// purgeFill removes what fillResults stored.
func (s *System) purgeFill(t *testing.T) {
	t.Helper()
	_, stream := s.resultsStream(t)
	if err := stream.Purge(context.Background(), jetstream.WithPurgeSubject("res.jfill.>")); err != nil {
		t.Fatal(err)
	}
}

func (s *System) resultsStream(t *testing.T) (jetstream.JetStream, jetstream.Stream) {
	t.Helper()
	nc := s.natsConn(t)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	stream, err := js.Stream(context.Background(), wire.StreamResults)
	if err != nil {
		t.Fatal(err)
	}
	return js, stream
}

// A tenant's share of the results store (GATEWAY_MAX_TENANT_RESULT_BYTES,
// the key's results=): its finished jobs hold what they stored until they
// expire, so once its share is used its next job is refused (507, naming
// the setting) while another tenant's is admitted; when its results
// expire, it is admitted again.
func TestTenantResultsShare(t *testing.T) {
	const key = "bik_test_results_share"
	inputs, _ := DigitInputs(t, 200)
	body := map[string]any{"model": "digits", "inputs": inputs}
	ttl := func(c *natsx.StreamConfig) { c.ResultTTL, c.RecordTTL = 3*time.Second, time.Hour }
	other := TenantA + " " + auth.HashKey(KeyA) + " role=operator rate=100000 burst=100000\n" +
		TenantB + " " + auth.HashKey(KeyB) + " rate=100000 burst=100000"
	s := Start(t, Options{
		Gateway: func(c *gateway.Config) { ttl(&c.Streams) },
		Worker:  func(c *worker.Config) { ttl(&c.Streams) },
		Keys:    []string{"share " + auth.HashKey(key) + " results=1 rate=100000 burst=100000", other},
	})
	share := s.As(key)
	// A share of 1 byte: the refusal says what a 200-item job needs.
	var refused apiError
	if code := share.PostJSON("/v1/jobs", body, &refused); code != http.StatusInsufficientStorage ||
		!strings.Contains(refused.Error.Message, "GATEWAY_MAX_TENANT_RESULT_BYTES") {
		t.Fatalf("a job past a 1-byte share: %d %+v", code, refused)
	}
	var need int64
	if _, err := fmt.Sscanf(refused.Error.Message[strings.Index(refused.Error.Message, "need about "):], "need about %d", &need); err != nil || need <= 0 {
		t.Fatalf("no estimate in %q", refused.Error.Message)
	}
	// Room for one and a half such jobs.
	s.writeKeys([]string{fmt.Sprintf("share %s results=%d rate=100000 burst=100000", auth.HashKey(key), need*3/2), other})
	var first submitResp
	Eventually(t, 10*time.Second, func() error {
		if code := share.PostJSON("/v1/jobs", body, &first); code != http.StatusAccepted {
			return fmt.Errorf("a job within the share: %d", code)
		}
		return nil
	})
	if st := share.waitJob(t, first.Job.ID, 30*time.Second); st.State != wire.StateCompleted {
		t.Fatalf("first job: %+v", st)
	}
	if code := share.PostJSON("/v1/jobs", body, &refused); code != http.StatusInsufficientStorage || refused.Error.Code != api.CodeInsufficientStorage {
		t.Fatalf("a second job while the first's results are held: %d %+v", code, refused)
	}
	s.As(KeyB).submit(t, body) // another tenant's share is its own
	// RESULT_TTL after it finished, the first job's results expire and
	// give its room back.
	Eventually(t, 20*time.Second, func() error {
		var r submitResp
		if code := share.PostJSON("/v1/jobs", body, &r); code != http.StatusAccepted {
			return fmt.Errorf("after the first job's results expired: %d", code)
		}
		return nil
	})
}
