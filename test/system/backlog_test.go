package system

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"batchinfer/gateway"
)

// A model's backlog (items not done yet, every tenant's) and a tenant's on
// it are bounded: a job that would pass either is refused 429 backlog_full
// with Retry-After, and nothing of it is kept; one that can never fit is
// 413; once the backlog drains, jobs are admitted again.
func TestAdmissionBoundsTheBacklog(t *testing.T) {
	gate := newGate()
	s := Start(t, Options{
		Keys:    threeTenants(),
		Models:  gate.wrap,
		Gateway: func(c *gateway.Config) { c.Service.MaxModelBacklog, c.Service.MaxTenantBacklog = 1000, 600 },
	})
	gate.close()
	b, c := s.As(KeyB), s.As(KeyC)
	submit := func(as *System, n int) (int, http.Header, apiError) {
		inputs, _ := DigitInputs(t, n)
		body, _ := jsonMarshal(map[string]any{"model": "digits", "inputs": inputs})
		var e apiError
		code, h, _ := as.Do(http.MethodPost, "/v1/jobs", "application/json", body, &e)
		return code, h, e
	}
	first := b.submit(t, map[string]any{"model": "digits", "inputs": mustInputs(t, 500)})
	for _, step := range []struct {
		name     string
		as       *System
		n, code  int
		errCode  string
		retrying bool
	}{
		{"B past its bound on the model", b, 200, http.StatusTooManyRequests, "backlog_full", true},
		{"C within both", c, 400, http.StatusAccepted, "", false},
		{"C past the model's bound", c, 200, http.StatusTooManyRequests, "backlog_full", true},
		{"a job that can never fit", c, 1001, http.StatusRequestEntityTooLarge, "too_many_items", false},
	} {
		code, h, e := submit(step.as, step.n)
		if code != step.code || string(e.Error.Code) != step.errCode {
			t.Fatalf("%s: %d %+v", step.name, code, e)
		}
		if ra, err := strconv.Atoi(h.Get("Retry-After")); step.retrying && (err != nil || ra < 1) {
			t.Fatalf("%s: Retry-After %q", step.name, h.Get("Retry-After"))
		}
	}
	var list struct {
		Jobs []jobStatus `json:"jobs"`
	}
	if b.GetJSON("/v1/jobs", &list); len(list.Jobs) != 1 || list.Jobs[0].ID != first.ID {
		t.Fatalf("tenant B's jobs %+v: a refused job left something", list.Jobs)
	}
	gate.open()
	b.waitJob(t, first.ID, 60*time.Second)
	Eventually(t, 30*time.Second, func() error { // the gateway learns the progress from the job feed
		if code, _, e := submit(b, 200); code != http.StatusAccepted {
			return errorf("after the drain: %d %+v", code, e)
		}
		return nil
	})
}

func mustInputs(t *testing.T, n int) [][]float32 {
	in, _ := DigitInputs(t, n)
	return in
}
