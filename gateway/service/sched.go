package service

import (
	"encoding/json"
	"strings"
	"sync"
	"time"

	"batchinfer/api"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go"
)

// Priorities a job may ask for.
var priorities = map[string]bool{"high": true, "normal": true, "low": true}

// parsePriority checks a job's priority ("" is normal).
func parsePriority(p string) (string, error) {
	if p == "" {
		return "normal", nil
	}
	if !priorities[p] {
		return "", api.Errorf(api.CodeBadRequest, "priority %q: want high, normal or low", p)
	}
	return p, nil
}

// parseDeadline reads a job's deadline: an RFC 3339 time, or a duration
// from now ("90s", "2h"); it must be in the future and within maxAge.
func parseDeadline(s string, now time.Time, maxAge time.Duration) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		d, derr := time.ParseDuration(s)
		if derr != nil || strings.HasPrefix(s, "-") {
			return nil, api.Errorf(api.CodeBadRequest, "deadline %q: want an RFC 3339 time (2026-12-24T18:00:00Z) or a positive duration (90m)", s)
		}
		t = now.Add(d)
	}
	switch {
	case !t.After(now):
		return nil, api.Errorf(api.CodeBadRequest, "deadline %s is not in the future", t.UTC().Format(time.RFC3339))
	case t.Sub(now) > maxAge:
		return nil, api.Errorf(api.CodeBadRequest, "deadline %s is further than %s away (STREAM_MAX_AGE)", t.UTC().Format(time.RFC3339), maxAge)
	}
	t = t.UTC()
	return &t, nil
}

// queueView keeps the scheduler's last snapshot of the queued jobs: a
// queued job's status says where it stands.
type queueView struct {
	mu   sync.Mutex
	snap wire.QueueSnapshot
	sub  *nats.Subscription
}

func newQueueView(nc *nats.Conn) (*queueView, error) {
	v := &queueView{}
	sub, err := nc.Subscribe(wire.SubjectQueue, func(m *nats.Msg) {
		var snap wire.QueueSnapshot
		if json.Unmarshal(m.Data, &snap) == nil {
			v.mu.Lock()
			v.snap = snap
			v.mu.Unlock()
		}
	})
	if err != nil {
		return nil, err
	}
	v.sub = sub
	return v, nil
}

// position is where job stands, if the last snapshot (at most a few
// seconds old) lists it.
func (v *queueView) position(job string) *wire.QueuePosition {
	if v == nil {
		return nil
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.snap.Jobs[job]
	if !ok || time.Since(v.snap.At) > 5*time.Second {
		return nil
	}
	return &p
}

func (v *queueView) close() {
	if v != nil && v.sub != nil {
		_ = v.sub.Unsubscribe()
	}
}
