package system

import (
	"strings"
	"testing"

	"batchinfer/api"
	"batchinfer/gateway"
	"batchinfer/gateway/auth"
)

// GET /v1/limits answers each caller its own limits, as configured (the
// gateway's bounds, its key's quotas or the defaults), and they are the
// limits the gateway enforces: one item more than max_job_items is
// refused naming the same number.
func TestLimitsAreTheCallers(t *testing.T) {
	s := Start(t, Options{
		Keys: []string{
			TenantA + " " + auth.HashKey(KeyA) + " role=operator id=key-a rate=100000 burst=100000",
			TenantB + " " + auth.HashKey(KeyB) + " id=key-b rate=100000 burst=100000 jobs=3 items=500 results=12345",
		},
		Gateway: func(c *gateway.Config) {
			c.Service.MaxItems, c.Service.MaxSyncItems = 50, 4
			c.MaxBodyBytes, c.MaxJSONBodyBytes = 1<<20, 64<<10
			c.Uploads.MaxSize, c.Uploads.MaxTenantUploads, c.Uploads.MaxTenantBytes = 8<<20, 7, 32<<20
			c.Auth.Defaults = auth.Limits{Jobs: 9, Items: 900, Results: 1 << 30}
		},
	})
	gw := api.Limits{MaxJobItems: 50, MaxBodyBytes: 1 << 20, MaxJSONBodyBytes: 64 << 10, MaxUploadBytes: 8 << 20, MaxSyncItems: 4}
	uploads := api.TenantLimits{MaxUploads: 7, MaxUploadBytes: 32 << 20}
	for _, tc := range []struct {
		name, key string
		jobs      int
		items     int
		results   int64
	}{
		{"the gateway's defaults", KeyA, 9, 900, 1 << 30},
		{"the key's own quotas", KeyB, 3, 500, 12345},
	} {
		var got api.Limits
		if code := s.As(tc.key).GetJSON("/v1/limits", &got); code != 200 {
			t.Fatalf("%s: %d", tc.name, code)
		}
		want := gw
		want.Tenant = uploads
		want.Tenant.MaxJobs, want.Tenant.MaxItemsInFlight, want.Tenant.MaxResultBytes = tc.jobs, tc.items, tc.results
		if got != want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, want)
		}
	}
	if code, _, body := s.As("").Do("GET", "/v1/limits", "", nil, nil); code != 401 || !strings.Contains(string(body), string(api.CodeUnauthorized)) {
		t.Errorf("without a key: %d %s", code, body)
	}
	over := `{"model":"digits","inputs":[` + strings.TrimSuffix(strings.Repeat("[0],", gw.MaxJobItems+1), ",") + `]}`
	if code, _, body := s.Do("POST", "/v1/jobs", "application/json", []byte(over), nil); code != 413 || !strings.Contains(string(body), "limit is 50") {
		t.Errorf("max_job_items + 1 items: %d %s", code, body)
	}

	// Without authentication there are no job quotas; the upload quotas hold.
	open := s.NewGatewayWith(func(c *gateway.Config) { c.Auth = gateway.AuthConfig{Mode: "none"} })
	anon := s.As("")
	anon.BaseURL = "http://" + open.Addr()
	var got api.Limits
	if code := anon.GetJSON("/v1/limits", &got); code != 200 || got.Tenant != uploads || got.MaxJobItems != 50 {
		t.Errorf("without authentication: %d %+v", code, got)
	}
}
