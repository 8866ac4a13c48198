package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"batchinfer/internal/store"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// A receiver that fails the first attempts (a 500, then a timeout) and
// comes back gets exactly one event per job, each signed; the delivery
// log shows the attempts, their statuses and the backoff between them.
func TestDeliveryRetriesUntilTheReceiverComesBack(t *testing.T) {
	cfg := testConfig(t)
	cfg.Timeout = 300 * time.Millisecond
	e := start(t, cfg)
	rcv := newReceiver(t, secretA, func(n int) int {
		switch n {
		case 1:
			return http.StatusInternalServerError
		case 2:
			return 0 // hang past the timeout
		}
		return http.StatusNoContent
	})
	want := map[string]string{}
	for _, how := range []string{"completed", "completed", "failed", "cancelled"} {
		want[e.finish("tenant-a", rcv.url(), how)] = "job." + how
	}
	var jobs []string
	for j := range want {
		jobs = append(jobs, j)
	}
	e.settled(wire.DeliveryDelivered, jobs...)

	delivered := map[string]int{}
	for _, r := range rcv.requests() {
		if r.verified != nil {
			t.Errorf("request %s: signature: %v", r.id, r.verified)
		}
		if want[r.job] != r.event || r.id != wire.WebhookEventID(r.job, r.event) {
			t.Errorf("request %s: event %s of job %s, want %s", r.id, r.event, r.job, want[r.job])
		}
		delivered[r.job]++
	}
	for _, j := range jobs {
		if delivered[j] != 3 {
			t.Errorf("job %s: %d requests, want 3", j, delivered[j])
		}
		d := e.log(j)
		if d.Attempts != 3 || len(d.Log) != 3 || d.FinishedAt == nil || d.NextAttemptAt != nil || d.URL != rcv.url() || d.Type != want[j] {
			t.Fatalf("job %s: delivery %+v", j, d)
		}
		l := d.Log
		if l[0].Status != 500 || l[1].Status != 0 || !strings.Contains(l[1].Error, "timeout") || l[2].Status != 204 || l[2].Error != "" {
			t.Errorf("job %s: attempts %+v", j, l)
		}
		// The backoff: at least 0.8 × 50 ms after the first failure, 0.8 ×
		// 100 ms after the second (which itself took the 300 ms timeout).
		if gap := l[1].At.Sub(l[0].At); gap < 40*time.Millisecond {
			t.Errorf("job %s: second attempt %s after the first", j, gap)
		}
		if gap := l[2].At.Sub(l[1].At); gap < 300*time.Millisecond+80*time.Millisecond {
			t.Errorf("job %s: third attempt %s after the second", j, gap)
		}
	}
	e.drained()
	if ok, retried := e.metric("gateway_webhook_deliveries_total", outcomeDelivered), e.metric("gateway_webhook_deliveries_total", outcomeRetried); ok != 4 || retried != 8 {
		t.Errorf("metrics: %v delivered, %v retried; want 4 and 8", ok, retried)
	}
	e.d.readBacklog()
	if q := e.metric("gateway_webhook_retry_queue", ""); q != 0 {
		t.Errorf("retry queue %v once delivered", q)
	}
}

// drained checks the stream and the consumer hold nothing and no attempt
// is in flight.
func (e *env) drained() {
	e.t.Helper()
	ctx := context.Background()
	eventually(e.t, 30*time.Second, func() error {
		s, err := e.in.JS.Stream(ctx, wire.StreamWebhooks)
		if err != nil {
			return err
		}
		si, err := s.Info(ctx)
		if err != nil {
			return err
		}
		c, err := e.in.JS.Consumer(ctx, wire.StreamWebhooks, wire.ConsumerWebhooks)
		if err != nil {
			return err
		}
		ci, err := c.Info(ctx)
		if err != nil {
			return err
		}
		if si.State.Msgs != 0 || ci.NumPending != 0 || ci.NumAckPending != 0 || e.d.InFlight() != 0 {
			return fmt.Errorf("stream %d events, consumer %d pending %d unacked, %d in flight",
				si.State.Msgs, ci.NumPending, ci.NumAckPending, e.d.InFlight())
		}
		return nil
	})
}

// A receiver that never comes back: the event is given up once the retry
// window ends, dead-lettered with the reason, and leaves the queue.
func TestDeliveryGivesUpAfterTheRetryWindow(t *testing.T) {
	cfg := testConfig(t)
	cfg.RetryWindow = 400 * time.Millisecond
	e := start(t, cfg)
	rcv := newReceiver(t, secretA, func(int) int { return http.StatusServiceUnavailable })
	job := e.finish("tenant-a", rcv.url(), "completed")
	e.settled(wire.DeliveryFailed, job)
	d := e.log(job)
	if d.Attempts < 2 || !strings.Contains(d.Error, "WEBHOOK_RETRY_WINDOW") || !strings.Contains(d.Error, "HTTP 503") || d.FinishedAt == nil {
		t.Errorf("delivery %+v", d)
	}
	if n := len(rcv.requests()); n != d.Attempts {
		t.Errorf("the receiver got %d requests, the log says %d attempts", n, d.Attempts)
	}
	m := e.deadLetter("tenant-a", job, "completed")
	if m.Header.Get(store.HdrWebhookError) != d.Error || m.Header.Get(store.HdrWebhookAttempts) != fmt.Sprint(d.Attempts) {
		t.Errorf("dead letter headers %v", m.Header)
	}
	var ev wire.WebhookEvent
	if err := json.Unmarshal(m.Data, &ev); err != nil || ev.Job.ID != job || ev.Type != wire.EventJobCompleted {
		t.Errorf("dead letter %s: %v", m.Data, err)
	}
	e.drained()
}

// deadLetter reads the dead-lettered event of a job.
func (e *env) deadLetter(tenant, job, event string) jetstream.RawStreamMsg {
	e.t.Helper()
	s, err := e.in.JS.Stream(context.Background(), wire.StreamDeadLetter)
	if err != nil {
		e.t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), wire.WebhookDeadSubject(tenant, job, "job."+event))
	if err != nil {
		e.t.Fatalf("no dead letter for job %s: %v", job, err)
	}
	return *m
}

// A URL refused when it is delivered (a redirect to the metadata
// address, a refused address) is given up at once, not retried.
func TestRefusedDeliveryIsNotRetried(t *testing.T) {
	e := start(t, testConfig(t))
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusTemporaryRedirect)
	}))
	defer redirect.Close()
	toMeta := e.finish("tenant-a", redirect.URL, "completed")
	toPrivate := e.finish("tenant-a", "http://10.0.0.1:8080/hook", "failed")
	e.settled(wire.DeliveryFailed, toMeta, toPrivate)
	for job, class := range map[string]string{toMeta: "cloud metadata", toPrivate: "private"} {
		d := e.log(job)
		if d.Attempts != 1 || !strings.Contains(d.Error, class) {
			t.Errorf("job %s: delivery %+v, want one attempt refused as %s", job, d, class)
		}
	}
	e.deadLetter("tenant-a", toPrivate, "failed")
	e.drained()
}

// A tenant whose endpoint hangs holds only its share of the attempts:
// another tenant's events are all delivered while its first attempts are
// still waiting for an answer.
func TestDeadEndpointDoesNotBlockOtherTenants(t *testing.T) {
	cfg := testConfig(t)
	cfg.Timeout, cfg.Concurrency, cfg.TenantConcurrency = 10*time.Second, 4, 2
	var hung atomic.Int64
	dead := newReceiver(t, secretA, func(int) int { hung.Add(1); return 0 })
	live := newReceiver(t, secretB, func(int) int { return http.StatusOK })
	e := start(t, cfg) // stopped first: the hung attempts end before the receivers close
	var stuck, fine []string
	for range 6 {
		stuck = append(stuck, e.finish("tenant-a", dead.url(), "completed"))
	}
	eventually(t, 10*time.Second, func() error {
		if n := hung.Load(); n < 2 {
			return fmt.Errorf("%d attempts at the dead endpoint", n)
		}
		return nil
	})
	for range 20 {
		fine = append(fine, e.finish("tenant-b", live.url(), "completed"))
	}
	e.settled(wire.DeliveryDelivered, fine...)
	for _, j := range stuck {
		if d := e.log(j); d.Attempts != 0 {
			t.Errorf("job %s: %d attempts finished while the other tenant's were delivered", j, d.Attempts)
		}
	}
	if n := hung.Load(); n != 2 {
		t.Errorf("%d attempts at the dead endpoint at once, want its tenant's 2", n)
	}
	// The other tenant's last attempts leave the gauges just after their
	// deliveries are logged.
	eventually(t, 10*time.Second, func() error {
		e.d.readBacklog()
		if q, in := e.metric("gateway_webhook_retry_queue", ""), e.metric("gateway_webhook_in_flight", ""); q != 6 || in != 2 {
			return fmt.Errorf("retry queue %v, in flight %v; want the dead endpoint's 6 and 2", q, in)
		}
		return nil
	})
}
