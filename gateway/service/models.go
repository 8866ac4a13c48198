package service

import (
	"context"
	"time"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// Model routes a request for name and version in the catalogue: version
// may name a version, an alias (drawn by weight among its versions), or
// be empty (the highest version a worker serves); see catalog.resolve. A
// version no worker has loaded and warmed up yet is not_ready, a retired
// one unknown_model.
func (s *Service) Model(name, version string) (*model.Metadata, error) {
	if !model.ValidName(name) {
		return nil, api.Errorf(api.CodeBadRequest, "model name %q is invalid", name)
	}
	if version != "" && !model.ValidName(version) {
		return nil, api.Errorf(api.CodeBadRequest, "model version %q is invalid", version)
	}
	return s.cat.resolve(name, version, time.Now())
}

// Models lists every model version with the workers serving it, and the
// aliases.
func (s *Service) Models() api.ModelList {
	return api.ModelList{Models: s.cat.list(time.Now()), Aliases: s.cat.aliasList("")}
}

// ModelVersions lists the versions of one model.
func (s *Service) ModelVersions(name string) (api.ModelVersions, error) {
	out := api.ModelVersions{Name: name}
	for _, m := range s.cat.list(time.Now()) {
		if m.Name == name {
			out.Versions = append(out.Versions, m)
		}
	}
	if len(out.Versions) == 0 {
		return out, api.Errorf(api.CodeUnknownModel, "unknown model %s", name)
	}
	return out, nil
}

// Cluster is the live workers and the depth of every queue.
func (s *Service) Cluster(ctx context.Context) api.Cluster {
	ctx, cancel := context.WithTimeout(ctx, natsOpTimeout)
	defer cancel()
	q := api.Queue{ByModel: map[string]api.QueueDepth{}}
	for _, m := range s.cat.list(time.Now()) {
		d := s.queueDepth(ctx, m.Name, m.Version)
		q.ByModel[m.ID()] = d
		q.PendingChunks += d.PendingChunks
		q.PendingSync += d.PendingSync
		q.InFlightChunks += d.InFlightChunks
	}
	return api.Cluster{Workers: s.cat.liveWorkers(time.Now()), Queue: q, Time: time.Now().UTC()}
}

func (s *Service) queueDepth(ctx context.Context, name, version string) api.QueueDepth {
	var d api.QueueDepth
	for _, prio := range wire.Priorities {
		c, err := s.in.Infer.Consumer(ctx, wire.ConsumerName(prio, name, version))
		if err != nil {
			continue // no worker has created it yet
		}
		info := c.CachedInfo()
		if fresh, err := c.Info(ctx); err == nil {
			info = fresh
		}
		if prio == wire.PrioritySync {
			d.PendingSync = info.NumPending
		} else {
			d.PendingChunks += info.NumPending
		}
		d.InFlightChunks += info.NumAckPending
	}
	return d
}
