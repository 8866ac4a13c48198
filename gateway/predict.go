package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// predictRequest is the body of POST /v1/models/{name}/predict.
type predictRequest struct {
	Inputs []json.RawMessage `json:"inputs"`
}

// predictResponse is a synchronous prediction's answer.
type predictResponse struct {
	Model     string            `json:"model"`
	Version   string            `json:"version"`
	Items     []wire.ItemResult `json:"items"`
	LatencyMS float64           `json:"latency_ms"`
}

func (g *Gateway) handlePredict(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, g.cfg.MaxSyncBodyBytes)
	meta, err := g.resolveModel(r.PathValue("name"), r.URL.Query().Get("version"))
	if err != nil {
		return err
	}
	timeout := g.cfg.SyncTimeout
	if s := r.URL.Query().Get("timeout"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > g.cfg.SyncTimeout {
			return apiErr(http.StatusBadRequest, CodeBadRequest, "timeout must be a duration in (0, %s], e.g. 2s", g.cfg.SyncTimeout)
		}
		timeout = d
	}
	var req predictRequest
	if err := decodeJSONBody(r.Body, &req); err != nil {
		return err
	}
	items, err := g.decodeInputs(meta, req.Inputs, g.cfg.MaxSyncItems)
	if err != nil {
		return err
	}
	resp, err := g.predict(r.Context(), meta, items, timeout)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// predict queues items ahead of batch work and waits for the worker's reply.
func (g *Gateway) predict(ctx context.Context, meta *model.Metadata, items []wire.Item, timeout time.Duration) (*predictResponse, error) {
	start := time.Now()
	subject, ch, done := g.replies.register()
	defer done()
	msg := &nats.Msg{
		Subject: wire.InferSubject(wire.PrioritySync, meta.Name, meta.Version),
		Header: nats.Header{
			wire.HdrJob:     []string{"sync"},
			wire.HdrChunk:   []string{"0"},
			wire.HdrStart:   []string{"0"},
			wire.HdrCount:   []string{strconv.Itoa(len(items))},
			wire.HdrReply:   []string{subject},
			wire.HdrEnqueue: []string{strconv.FormatInt(start.UnixNano(), 10)},
		},
		Data: wire.EncodeChunk(nil, items),
	}
	// The message expires from the queue with the request, so a worker
	// never computes an answer nobody waits for.
	ttl := max(time.Second, timeout.Round(time.Second))
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := g.js.PublishMsg(pctx, msg, jetstream.WithMsgTTL(ttl), jetstream.WithExpectStream(wire.StreamInfer)); err != nil {
		return nil, queueErr(fmt.Errorf("queue prediction: %w", err))
	}
	g.metrics.items.WithLabelValues("sync").Add(float64(len(items)))
	select {
	case m := <-ch:
		var cr wire.ChunkResult
		if err := json.Unmarshal(m.Data, &cr); err != nil {
			return nil, fmt.Errorf("decode prediction: %w", err)
		}
		lat := time.Since(start)
		g.metrics.syncLatency.Observe(lat.Seconds())
		return &predictResponse{Model: meta.Name, Version: meta.Version, Items: cr.Items, LatencyMS: float64(lat.Microseconds()) / 1000}, nil
	case <-pctx.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &APIError{Status: http.StatusGatewayTimeout, Code: CodeTimeout,
			Message: fmt.Sprintf("no worker answered within %s (model %s)", timeout, meta.ID())}
	}
}

func (g *Gateway) handleModels(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]any{"models": g.cat.list(time.Now())})
	return nil
}

func (g *Gateway) handleModel(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("name")
	var versions []ModelInfo
	for _, m := range g.cat.list(time.Now()) {
		if m.Name == name {
			versions = append(versions, m)
		}
	}
	if len(versions) == 0 {
		return apiErr(http.StatusNotFound, CodeUnknownModel, "unknown model %s", name)
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": name, "versions": versions})
	return nil
}

// queueInfo is the depth of one model version's queues.
type queueInfo struct {
	PendingChunks  uint64 `json:"pending_chunks"`
	InFlightChunks int    `json:"in_flight_chunks"`
	PendingSync    uint64 `json:"pending_sync"`
}

func (g *Gateway) handleCluster(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), natsOpTimeout)
	defer cancel()
	byModel := map[string]queueInfo{}
	var total queueInfo
	for _, m := range g.cat.list(time.Now()) {
		var q queueInfo
		for _, prio := range []string{wire.PriorityBatch, wire.PrioritySync} {
			c, err := g.infer.Consumer(ctx, wire.ConsumerName(prio, m.Name, m.Version))
			if err != nil {
				continue // no worker has created it yet
			}
			info := c.CachedInfo()
			if fresh, err := c.Info(ctx); err == nil {
				info = fresh
			}
			if prio == wire.PrioritySync {
				q.PendingSync = info.NumPending
			} else {
				q.PendingChunks = info.NumPending
			}
			q.InFlightChunks += info.NumAckPending
		}
		byModel[m.ID()] = q
		total.PendingChunks += q.PendingChunks
		total.PendingSync += q.PendingSync
		total.InFlightChunks += q.InFlightChunks
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"workers": g.cat.liveWorkers(time.Now()),
		"queue": map[string]any{
			"pending_chunks": total.PendingChunks, "pending_sync": total.PendingSync,
			"in_flight_chunks": total.InFlightChunks, "by_model": byModel,
		},
		"time": time.Now().UTC(),
	})
	return nil
}
