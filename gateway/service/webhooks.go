package service

import (
	"context"

	"batchinfer/api"
	"batchinfer/internal/store"
)

// WebhookResolver says which webhook URL a job of tenant gets when it
// asks for requested ("" for none): a checked URL, the tenant's default,
// or an api error naming why the URL is refused.
type WebhookResolver func(ctx context.Context, tenant, requested string) (string, error)

// UseWebhooks sets how submissions' webhooks are checked; call it before
// Start. Without it a submission that asks for a webhook is refused.
func (s *Service) UseWebhooks(r WebhookResolver) { s.resolveHook = r }

// webhookOf is the webhook URL of a submission of p's tenant.
func (s *Service) webhookOf(ctx context.Context, tenant, requested string) (string, error) {
	if s.resolveHook == nil {
		if requested == "" {
			return "", nil
		}
		return "", api.Errorf(api.CodeBadRequest, "webhooks are not enabled on this gateway")
	}
	return s.resolveHook(ctx, tenant, requested)
}

// Webhooks is a job's webhook and the log of its deliveries.
func (s *Service) Webhooks(ctx context.Context, id string) (api.JobWebhooks, error) {
	r, err := s.loadJob(ctx, id)
	if err != nil {
		return api.JobWebhooks{}, err
	}
	ctx, cancel := s.op(ctx)
	defer cancel()
	l, err := store.NewWebhooks(s.in).Log(ctx, r.ID)
	if err != nil {
		return api.JobWebhooks{}, err
	}
	return api.JobWebhooks{Job: r.ID, URL: r.Webhook, Deliveries: l.Deliveries}, nil
}
