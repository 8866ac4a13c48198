package webhook

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"batchinfer/api"
	"batchinfer/internal/wire"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The example of the Standard Webhooks specification: secret, id,
// timestamp and body give this signature.
func TestSignMatchesTheSpecificationVector(t *testing.T) {
	h := http.Header{}
	body := []byte(`{"test": 2432232314}`)
	if err := Sign(h, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body, []string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}); err != nil {
		t.Fatal(err)
	}
	want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if got := h.Get("webhook-signature"); got != want {
		t.Errorf("signature %q, want %q", got, want)
	}
	if h.Get("webhook-id") != "msg_p5jXN8AQM9LWM0D4loKWxJek" || h.Get("webhook-timestamp") != "1614265330" {
		t.Errorf("headers %v", h)
	}
}

// With two secrets (a rotation), receivers holding either verify.
func TestSignWithEverySecret(t *testing.T) {
	secrets := []string{"whsec_" + strings.Repeat("QUJD", 8), "whsec_" + strings.Repeat("WFla", 8)}
	body := []byte(`{"type":"job.completed"}`)
	h := http.Header{}
	if err := Sign(h, "msg_1", time.Now(), body, secrets); err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(h.Get("webhook-signature"))); n != 2 {
		t.Fatalf("%d signatures, want 2", n)
	}
	for _, s := range secrets {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.Verify(body, h); err != nil {
			t.Errorf("secret %s: %v", s, err)
		}
	}
	other, _ := standardwebhooks.NewWebhook("whsec_" + strings.Repeat("enp6", 8))
	if other.Verify(body, h) == nil {
		t.Error("another secret verified")
	}
	if other.Verify([]byte(`{"type":"job.failed"}`), h) == nil {
		t.Error("another body verified")
	}
}

func TestPayloadLinks(t *testing.T) {
	ev := &wire.WebhookEvent{ID: "msg_j_completed", Type: wire.EventJobCompleted, At: time.Unix(100, 0).UTC(), Job: wire.JobStatus{ID: "j1", State: "completed"}}
	for base, self := range map[string]string{"": "/v1/jobs/j1", "https://batch.example.com/": "https://batch.example.com/v1/jobs/j1"} {
		var p api.WebhookPayload
		if err := json.Unmarshal(Payload(ev, base), &p); err != nil {
			t.Fatal(err)
		}
		if p.Type != wire.EventJobCompleted || !p.Timestamp.Equal(ev.At) || p.Data.Job.ID != "j1" || p.Data.Links.Self != self {
			t.Errorf("base %q: payload %+v", base, p)
		}
	}
}
