package webhook

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"batchinfer/api"
	"batchinfer/internal/wire"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Payload is the body of ev's requests: the same on every attempt. Links
// are absolute when publicURL is set.
func Payload(ev *wire.WebhookEvent, publicURL string) []byte {
	links := api.LinksFor(ev.Job.ID)
	if base := strings.TrimRight(publicURL, "/"); base != "" {
		links.Self, links.Results = base+links.Self, base+links.Results
		links.WS = strings.Replace(base, "http", "ws", 1) + links.WS
	}
	return wire.Marshal(api.WebhookPayload{
		Type: ev.Type, Timestamp: ev.At, Data: api.WebhookData{Job: ev.Job, Links: links},
	})
}

// Sign sets the Standard Webhooks headers of a request with body sent at
// now: webhook-id, webhook-timestamp and webhook-signature, one v1
// signature per secret, separated by spaces.
func Sign(h http.Header, id string, now time.Time, body []byte, secrets []string) error {
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		wh, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return fmt.Errorf("signing secret: %w", err)
		}
		sig, err := wh.Sign(id, now, body)
		if err != nil {
			return fmt.Errorf("sign: %w", err)
		}
		sigs = append(sigs, sig)
	}
	h.Set(standardwebhooks.HeaderWebhookID, id)
	h.Set(standardwebhooks.HeaderWebhookTimestamp, strconv.FormatInt(now.Unix(), 10))
	h.Set(standardwebhooks.HeaderWebhookSignature, strings.Join(sigs, " "))
	return nil
}
