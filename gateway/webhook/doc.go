// Package webhook delivers the webhooks of finished jobs: signed per
// Standard Webhooks with a per-tenant secret, at least once, from a
// durable JetStream consumer shared by the gateways, retried with
// exponential backoff over a bounded window and then dead-lettered, each
// attempt in the job's delivery log. Where a webhook may go is checked
// against SSRF (Guard) when it is submitted and on every connection.
// Deliveries are apart from job processing: a slow or dead endpoint holds
// at most its tenant's share of this gateway's attempts.
package webhook
