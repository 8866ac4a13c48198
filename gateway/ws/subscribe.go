package ws

import (
	"context"

	"batchinfer/api"
	"batchinfer/gateway/service"
	"batchinfer/internal/wire"
)

func (s *session) onSubscribe(m api.Subscribe) bool {
	if m.Job == "" {
		return s.invalid("", "", "subscribe needs a job")
	}
	if !s.bounded("", m.Job) {
		return false
	}
	after := int64(0)
	if m.After != nil {
		after = *m.After
	}
	if after < 0 {
		return s.invalid(m.Job, m.Job, "after must be >= 0")
	}
	if !s.allow(m.Job, m.Job) {
		return true
	}
	s.subscribe(service.FollowRequest{Job: m.Job, After: uint64(after), Results: m.Results == nil || *m.Results}, nil)
	return true
}

// subscribe starts following a job. A subscription to the same job is
// replaced: the stream restarts from the new cursor. first, when set, is
// sent before subscribed (a submit's accepted).
func (s *session) subscribe(req service.FollowRequest, first func()) {
	s.stopSub(req.Job)
	if n := s.active(); n >= s.cfg.MaxSubscriptions {
		if first != nil {
			first()
		}
		s.sendError(req.Job, req.Job, api.Errorf(api.CodeTooManySubs,
			"already following %d jobs (limit GATEWAY_MAX_WS_SUBSCRIPTIONS)", s.cfg.MaxSubscriptions))
		return
	}
	f, err := s.backend.Follow(s.ctx(), req)
	if first != nil {
		first()
	}
	if err != nil {
		s.sendError(req.Job, req.Job, err)
		return
	}
	if !s.track(req.Job, f) {
		f.Stop()
		return
	}
	if s.send(s.t.ctx, api.TypeSubscribed, api.Subscribed{
		Type: api.TypeSubscribed, Job: req.Job, After: req.After, Results: req.Results, Status: f.Status(),
	}) != nil {
		f.Stop()
	}
	s.work.Add(1)
	go func() {
		defer s.work.Done()
		f.Run(sink{s, req.Job}, func() {})
		// Forgotten only once its last frame is queued, so that an
		// unsubscribe racing with the end still answers after the end.
		s.mu.Lock()
		if s.subs != nil && s.subs[req.Job] == f {
			delete(s.subs, req.Job)
		}
		s.mu.Unlock()
	}()
}

// track records f as the session's follower of job; false when the session
// is closing. A follower it replaces (a concurrent subscribe to the same
// job) is stopped: the newest wins.
func (s *session) track(job string, f service.Follower) bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false
	}
	prev := s.subs[job]
	s.subs[job] = f
	s.mu.Unlock()
	if prev != nil {
		prev.Stop()
	}
	return true
}

// active counts the subscriptions still streaming.
func (s *session) active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, f := range s.subs {
		if !f.Finished() {
			n++
		}
	}
	return n
}

// stopSub ends the subscription to job, if any, and waits until it sends
// nothing more.
func (s *session) stopSub(job string) {
	s.mu.Lock()
	f := s.subs[job]
	if f != nil {
		delete(s.subs, job)
	}
	s.mu.Unlock()
	if f != nil {
		f.Stop()
	}
}

// sink writes a follower's stream to the connection.
type sink struct {
	s   *session
	job string
}

func (k sink) Results(ctx context.Context, r service.StoredResult) error {
	b, ok := resultFrame(r)
	if !ok {
		return nil // not a chunk result: skipped
	}
	return k.s.t.send(ctx, api.TypeResults, b)
}

func (k sink) Progress(ctx context.Context, st wire.JobStatus) error {
	return k.s.send(ctx, api.TypeProgress, api.Progress{Type: api.TypeProgress, Job: k.job, Status: st})
}

func (k sink) End(ctx context.Context, st wire.JobStatus, lastSeq uint64) error {
	return k.s.send(ctx, api.TypeEnd, api.End{Type: api.TypeEnd, Job: k.job, Status: st, LastSeq: lastSeq})
}

func (k sink) Gone(ctx context.Context, err *api.Error) error {
	return k.s.send(ctx, api.TypeError, api.NewErrorMessage(k.job, k.job, err))
}
