package service

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"batchinfer/api"
	"batchinfer/gateway/input"
	"batchinfer/internal/tracing"
	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"
)

// PredictRequest is a synchronous prediction.
type PredictRequest struct {
	Model, Version string
	Inputs         []json.RawMessage
	// Source, when set, is read instead of Inputs: the tensors of another
	// protocol (the Open Inference Protocol's), checked the same way.
	Source input.Source
	// Timeout is how long to wait: 0 for the default (SyncTimeout), else
	// within [MinSyncTimeout, SyncTimeout].
	Timeout time.Duration
}

// Predict sends the items to a worker and waits for the answer: over core
// NATS to the workers' queue group (nothing stored on the way), together
// with the predictions of the same model that wait at the same moment
// (coalescer), or, when no worker listens or the one asked is full,
// through the durable sync queue, ahead of batch work, where the request
// waits for any worker until its timeout.
func (s *Service) Predict(ctx context.Context, req PredictRequest) (resp *api.PredictResponse, err error) {
	ctx, span := s.startPredict(ctx, req)
	var meta *model.Metadata
	n := 0
	defer func() { endPredict(span, meta, n, err) }()
	meta, n, resp, err = s.predict(ctx, req)
	return resp, err
}

func (s *Service) predict(ctx context.Context, req PredictRequest) (*model.Metadata, int, *api.PredictResponse, error) {
	timeout, err := s.timeout(req.Timeout)
	if err != nil {
		return nil, 0, nil, err
	}
	meta, err := s.Model(req.Model, req.Version)
	if err != nil {
		return nil, 0, nil, err
	}
	src := req.Source
	if src == nil {
		src = input.JSONItems(req.Inputs)
	}
	_, vspan := s.startSpan(ctx, "predict.validate")
	items, err := input.Decode(meta, s.limits(meta, s.cfg.MaxSyncItems), src)
	tracing.Fail(vspan, err)
	vspan.End()
	if err != nil {
		return meta, 0, nil, err
	}
	start := time.Now()
	p := &predictCall{items: items, expires: start.Add(timeout), done: make(chan predictAnswer, 1), sc: trace.SpanContextFromContext(ctx)}
	for _, it := range items {
		p.size += len(it.Data) + 8
	}
	if err := s.coalescerFor(meta).enqueue(p); err != nil {
		return meta, len(items), nil, err
	}
	s.metrics.items.WithLabelValues("sync", meta.ID(), caller(ctx).Tenant).Add(float64(len(items)))
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case a := <-p.done:
		if a.err != nil {
			return meta, len(items), nil, a.err
		}
		lat := time.Since(start)
		s.metrics.syncLatency.Observe(lat.Seconds())
		return meta, len(items), &api.PredictResponse{Model: meta.Name, Version: meta.Version, Items: a.items, LatencyMS: float64(lat.Microseconds()) / 1000}, nil
	case <-ctx.Done():
		return meta, len(items), nil, ctx.Err()
	case <-t.C:
		return meta, len(items), nil, api.Errorf(api.CodeTimeout, "no worker answered within %s (model %s)", timeout, meta.ID())
	}
}

// refused says whether a reply is not an answer: no worker listens (the
// server's 503 no-responders status) or the worker asked was full.
func refused(m *nats.Msg) bool {
	return len(m.Data) == 0 && (m.Header.Get("Status") == "503" || m.Header.Get(wire.HdrBusy) != "")
}

// queueSync puts the request on the durable sync queue. The message
// expires from the queue with the request, so a worker never computes an
// answer nobody waits for.
func (s *Service) queueSync(ctx context.Context, meta *model.Metadata, msg *nats.Msg, timeout time.Duration) error {
	s.metrics.syncQueued.Inc()
	m := &nats.Msg{Subject: wire.InferSubject(wire.PrioritySync, meta.Name, meta.Version), Header: msg.Header, Data: msg.Data}
	ttl := max(time.Second, timeout.Round(time.Second))
	if _, err := s.in.JS.PublishMsg(ctx, m, jetstream.WithMsgTTL(ttl), jetstream.WithExpectStream(wire.StreamInfer)); err != nil {
		return queueErr(fmt.Errorf("queue prediction: %w", err))
	}
	return nil
}

func (s *Service) timeout(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return s.cfg.SyncTimeout, nil
	case d < s.cfg.MinSyncTimeout || d > s.cfg.SyncTimeout:
		return 0, api.Errorf(api.CodeBadRequest, "timeout must be a duration in [%s, %s], e.g. 2s", s.cfg.MinSyncTimeout, s.cfg.SyncTimeout)
	}
	return d, nil
}
