package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"batchinfer/internal/wire"
	"batchinfer/model/archive"
	"batchinfer/model/loader"

	"github.com/nats-io/nats.go"
)

// checkTimeout bounds reading a pushed version to check it (the gateway
// waits REGISTRY_CHECK_TIMEOUT for the whole check).
const checkTimeout = 10 * time.Minute

// subscribeChecks answers the gateways' checks of pushed versions: TFLite
// ones always, any with a runtime for SavedModels.
func (r *registry) subscribeChecks() error {
	subjects := []string{wire.SubjectCheckLite}
	if r.src.full() {
		subjects = append(subjects, wire.SubjectCheckFull)
	}
	for _, subj := range subjects {
		sub, err := r.w.in.NC.QueueSubscribe(subj, wire.CheckQueueGroup, r.onCheck)
		if err != nil {
			return fmt.Errorf("subscribe %s: %w", subj, err)
		}
		r.checks = append(r.checks, sub)
	}
	return nil
}

// onCheck checks one pushed version and answers (one at a time: a check
// loads a model beside those served).
func (r *registry) onCheck(m *nats.Msg) {
	var req wire.CheckRequest
	rep := wire.CheckReply{}
	if err := json.Unmarshal(m.Data, &req); err != nil {
		rep.Unavailable, rep.Error = true, "undecodable check request: "+err.Error()
	} else {
		start := time.Now()
		rep = r.check(req)
		r.log.Info().Str("model", req.Name+":"+req.Version).Str("refused", rep.Error).Bool("unavailable", rep.Unavailable).
			Dur("took", time.Since(start)).Msg("pushed version checked")
	}
	rep.Worker = r.w.cfg.ID
	_ = m.Respond(wire.Marshal(rep))
}

// check unpacks the version as stored, loads it with every runtime of the
// worker that its files call for, warms each up, and says what it found.
func (r *registry) check(req wire.CheckRequest) wire.CheckReply {
	if req.MaxBytes <= 0 || req.MaxFiles <= 0 {
		return wire.CheckReply{Unavailable: true, Error: "check request without limits"}
	}
	ctx, cancel := context.WithTimeout(r.ctx, checkTimeout)
	defer cancel()
	lim := archive.Limits{MaxBytes: req.MaxBytes, MaxFiles: req.MaxFiles}
	dir, cleanup, res, err := r.unpack(ctx, req.Name, req.Version, req.NUID, req.Format, req.Metadata, lim)
	if err != nil {
		// The upload's content is refused; anything else (reading it, the
		// disk) is this worker's trouble.
		return wire.CheckReply{Error: trimInvalid(err.Error()), Unavailable: !errors.Is(err, archive.ErrInvalid)}
	}
	defer cleanup()
	c, err := r.src.Check(ctx, dir)
	if err != nil {
		// Paths are named from the version's name on: the worker's
		// directories are none of the pusher's business.
		msg := strings.ReplaceAll(err.Error(), filepath.Dir(filepath.Dir(dir))+string(filepath.Separator), "")
		msg = strings.TrimPrefix(msg, ErrRefused.Error()+": ")
		return wire.CheckReply{Error: msg, Unavailable: !errors.Is(err, ErrRefused)}
	}
	meta, err := json.Marshal(c.Meta)
	if err != nil {
		return wire.CheckReply{Error: err.Error(), Unavailable: true}
	}
	runtimes := slices.Clone(c.Runtimes)
	for _, f := range c.Unchecked {
		runtimes = append(runtimes, loader.ModelFiles[f])
	}
	return wire.CheckReply{Model: meta, Runtimes: runtimes, UnpackedBytes: res.Bytes, Files: res.Files}
}

// trimInvalid drops the sentinel's own words from a message.
func trimInvalid(s string) string {
	p := archive.ErrInvalid.Error() + ": "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
