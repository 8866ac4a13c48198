package system

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/internal/wire"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

const webhookSecretA = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// hookReceiver verifies every request with the Standard Webhooks library;
// the first request of each event gets a 500, the next ones 204.
type hookReceiver struct {
	srv  *httptest.Server
	wh   *standardwebhooks.Webhook
	mu   sync.Mutex
	seen map[string]int
	got  []api.WebhookPayload
	bad  []error
}

func newHookReceiver(t *testing.T) *hookReceiver {
	wh, err := standardwebhooks.NewWebhook(webhookSecretA)
	if err != nil {
		t.Fatal(err)
	}
	r := &hookReceiver{wh: wh, seen: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := r.wh.Verify(body, req.Header); err != nil {
			r.bad = append(r.bad, err)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.seen[req.Header.Get("webhook-id")]++; r.seen[req.Header.Get("webhook-id")] == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		var p api.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			r.bad = append(r.bad, err)
		}
		r.got = append(r.got, p)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// webhookSystem is a system whose tenant A has a webhook secret, allowed
// to call back on 127.0.0.1 over http, with short backoffs.
func webhookSystem(t *testing.T) *System {
	path := filepath.Join(t.TempDir(), "webhooks")
	if err := os.WriteFile(path, []byte(TenantA+" secret="+webhookSecretA+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return Start(t, Options{Gateway: func(c *gateway.Config) {
		c.Webhooks.File, c.Webhooks.Schemes, c.Webhooks.AllowCIDRs = path, []string{"https", "http"}, []string{"127.0.0.1/32"}
		c.Webhooks.BackoffMin, c.Webhooks.BackoffMax, c.Webhooks.PublicURL = 50*time.Millisecond, time.Second, "https://batch.example.com"
	}})
}

// A job submitted with a webhook (JSON field, query parameter, WebSocket
// field) is posted, signed, when it completes; the first attempt fails
// and the delivery log on the job shows both.
func TestWebhookPostsTheJobsEnd(t *testing.T) {
	s := webhookSystem(t)
	rcv := newHookReceiver(t)
	inputs, _ := DigitInputs(t, 40)
	var viaJSON submitResp
	if code := s.PostJSON("/v1/jobs", map[string]any{"model": "digits", "inputs": inputs, "webhook": rcv.srv.URL + "/json"}, &viaJSON); code != http.StatusAccepted {
		t.Fatalf("submit: %d", code)
	}
	var lines []string
	for _, in := range inputs[:10] {
		b, _ := json.Marshal(in)
		lines = append(lines, string(b))
	}
	var viaQuery submitResp
	code, _, body := s.Do(http.MethodPost, "/v1/jobs?model=digits&webhook="+url.QueryEscape(rcv.srv.URL+"/query"), "application/x-ndjson",
		[]byte(strings.Join(lines, "\n")), &viaQuery)
	if code != http.StatusAccepted {
		t.Fatalf("ndjson submit: %d %s", code, body)
	}
	w := s.MustDialWS()
	w.Send(map[string]any{"type": "submit", "ref": "s", "model": "digits", "inputs": inputs[:5], "subscribe": false, "webhook": rcv.srv.URL + "/ws"})
	accepted := w.Read()
	if accepted.Type != "accepted" {
		t.Fatalf("ws submit: %s", accepted.Raw)
	}
	want := map[string]string{viaJSON.Job.ID: "/json", viaQuery.Job.ID: "/query", accepted.Job: "/ws"}
	for id, path := range want {
		hooks := s.waitDelivered(t, id)
		if hooks.URL != rcv.srv.URL+path {
			t.Errorf("job %s: webhook %q", id, hooks.URL)
		}
		d := hooks.Deliveries[0]
		if d.Type != wire.EventJobCompleted || d.Attempts != 2 || d.Log[0].Status != 500 || d.Log[1].Status != 204 {
			t.Errorf("job %s: delivery %+v", id, d)
		}
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.bad) > 0 || len(rcv.got) != 3 {
		t.Fatalf("%d verified payloads, errors %v", len(rcv.got), rcv.bad)
	}
	for _, p := range rcv.got {
		j := p.Data.Job
		if p.Type != wire.EventJobCompleted || j.State != wire.StateCompleted || j.Done != j.Total || want[j.ID] == "" ||
			p.Data.Links.Self != "https://batch.example.com/v1/jobs/"+j.ID || !strings.HasSuffix(j.Webhook, want[j.ID]) {
			t.Errorf("payload %+v", p)
		}
	}
}

// waitDelivered waits until a job's webhook is delivered.
func (s *System) waitDelivered(t *testing.T, id string) api.JobWebhooks {
	t.Helper()
	var hooks api.JobWebhooks
	Eventually(t, 30*time.Second, func() error {
		hooks = api.JobWebhooks{}
		if code := s.GetJSON("/v1/jobs/"+id+"/webhooks", &hooks); code != http.StatusOK {
			return fmt.Errorf("webhooks of %s: %d", id, code)
		}
		if len(hooks.Deliveries) != 1 || hooks.Deliveries[0].State != wire.DeliveryDelivered {
			return fmt.Errorf("job %s: deliveries %+v", id, hooks.Deliveries)
		}
		return nil
	})
	return hooks
}

// A webhook the gateway refuses is a 400 naming why, and creates nothing;
// another tenant's job's webhooks are unknown.
func TestWebhookRefusedAtSubmission(t *testing.T) {
	s := webhookSystem(t)
	inputs, _ := DigitInputs(t, 3)
	var before api.JobList
	s.GetJSON("/v1/jobs", &before)
	for _, tc := range []struct {
		name, query, webhook, want string
		as                         *System
	}{
		{"metadata address", "?webhook=" + url.QueryEscape("http://169.254.169.254/latest/meta-data/"), "", "cloud metadata", s},
		{"loopback name", "", "https://localhost/hook", "loopback", s},
		{"private address", "", "https://10.1.2.3/hook", "private", s},
		{"scheme", "", "ftp://example.com/hook", "scheme", s},
		{"credentials", "", "https://u:p@example.com/hook", "credentials", s},
		{"no secret", "", "https://93.184.215.14/hook", "no webhook signing secret", s.As(KeyB)},
	} {
		var e api.ErrorBody
		code := tc.as.PostJSON("/v1/jobs"+tc.query, map[string]any{"model": "digits", "inputs": inputs, "webhook": tc.webhook}, &e)
		if code != http.StatusBadRequest || e.Error == nil || e.Error.Code != api.CodeBadRequest || !strings.Contains(e.Error.Message, tc.want) {
			t.Errorf("%s: %d %+v, want 400 naming %q", tc.name, code, e.Error, tc.want)
		}
	}
	var after api.JobList
	s.GetJSON("/v1/jobs", &after)
	if *after.Total != *before.Total {
		t.Errorf("refused submissions left %d jobs", *after.Total-*before.Total)
	}
	job := s.finishedDigitsJob(t, 3)
	var e api.ErrorBody
	if code := s.As(KeyB).GetJSON("/v1/jobs/"+job.ID+"/webhooks", &e); code != http.StatusNotFound || e.Error.Code != api.CodeUnknownJob {
		t.Errorf("another tenant's webhooks: %d %+v", code, e.Error)
	}
	var none api.JobWebhooks
	if code := s.GetJSON("/v1/jobs/"+job.ID+"/webhooks", &none); code != http.StatusOK || none.URL != "" || none.Deliveries == nil || len(none.Deliveries) != 0 {
		t.Errorf("a job without a webhook: %d %+v", code, none)
	}
}
