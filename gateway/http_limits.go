package gateway

import (
	"net/http"

	"batchinfer/api"
	"batchinfer/gateway/auth"
)

// handleLimits tells the caller its limits before it sends anything: the
// gateway's bounds on a job, a body, an upload and a prediction, and its
// tenant's quotas (none when authentication is off).
func (g *Gateway) handleLimits(w http.ResponseWriter, r *http.Request) error {
	api.WriteJSON(w, http.StatusOK, g.limitsFor(auth.From(r.Context())))
	return nil
}

// limitsFor is what GET /v1/limits answers p. The upload quotas hold for
// every tenant; the job quotas are the principal's (none when
// authentication is off).
func (g *Gateway) limitsFor(p *auth.Principal) api.Limits {
	l := api.Limits{
		MaxJobItems: g.cfg.Service.MaxItems, MaxBodyBytes: g.cfg.MaxBodyBytes, MaxJSONBodyBytes: g.cfg.MaxJSONBodyBytes,
		MaxUploadBytes: g.cfg.Uploads.MaxSize, MaxSyncItems: g.cfg.Service.MaxSyncItems,
		Tenant: api.TenantLimits{MaxUploads: g.cfg.Uploads.MaxTenantUploads, MaxUploadBytes: g.cfg.Uploads.MaxTenantBytes},
	}
	if p != nil && p != auth.Anonymous {
		l.Tenant.MaxJobs, l.Tenant.MaxItemsInFlight = max(p.Limits.Jobs, 0), max(p.Limits.Items, 0)
		l.Tenant.MaxResultBytes = max(p.Limits.Results, 0)
	}
	return l
}
