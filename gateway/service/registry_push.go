package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"batchinfer/api"
	"batchinfer/internal/store"
	"batchinfer/internal/wire"
	"batchinfer/model"
	"batchinfer/model/archive"

	"github.com/nats-io/nats.go"
)

// Push is a model version pushed to the registry.
type Push struct {
	Name, Version string
	// Body is the upload: a tar, tar.gz or zip archive of the version's
	// directory, or a .tflite file. It is streamed into the registry, never
	// held whole; an error it returns that is an *api.Error is answered as
	// it is (the transport's size limit).
	Body io.Reader
	// Metadata, when set, returns metadata.json given beside the upload;
	// it is called once Body is read.
	Metadata func() ([]byte, error)
}

// Push stores a pushed version, has a worker check it (unpack, load,
// match its signature to its metadata, warm up) and commits it: workers
// load it from then on. Nothing of a refused push stays: its upload is
// stored in state checking, where no worker loads it, and discarded.
func (s *Service) Push(ctx context.Context, p Push) (api.RegistryVersion, error) {
	if err := s.checkPushNames(p.Name, p.Version); err != nil {
		return api.RegistryVersion{}, err
	}
	rc := s.cfg.Registry
	ctx, cancel := context.WithTimeout(ctx, rc.PushTimeout)
	defer cancel()
	by := caller(ctx).KeyID
	now := time.Now().UTC()
	claim := wire.PushClaim{Gateway: s.id, By: by, Since: now, Until: now.Add(rc.PushTimeout)}
	if err := s.reg.Claim(ctx, p.Name, p.Version, claim); err != nil {
		return api.RegistryVersion{}, registryErr(err, p.Name, p.Version)
	}
	cleanup, cancelCleanup := context.WithTimeout(context.WithoutCancel(ctx), natsOpTimeout)
	defer cancelCleanup()
	defer func() { _ = s.reg.Release(cleanup, p.Name, p.Version) }()
	v, err := s.storePush(ctx, p, by, now)
	if err != nil {
		return api.RegistryVersion{}, err
	}
	if err := s.checkAndCommit(ctx, &v); err != nil {
		if derr := s.reg.Discard(cleanup, v); derr != nil {
			s.log.Warn().Err(derr).Str("model", v.ID()).Msg("discarding a refused push failed (swept later)")
		}
		return api.RegistryVersion{}, err
	}
	s.log.Info().Str("model", v.ID()).Str("by", by).Uint64("bytes", v.Size).Msg("model version pushed")
	return s.versionInfo(v, nil, nil), nil
}

// checkPushNames refuses a name or version the catalogue cannot take: an
// invalid one, an alias's name, a version served from a models directory.
func (s *Service) checkPushNames(name, version string) error {
	switch {
	case !model.ValidName(name):
		return api.Errorf(api.CodeBadRequest, "model name %q is invalid: %s", name, nameRule)
	case !model.ValidName(version):
		return api.Errorf(api.CodeBadRequest, "model version %q is invalid: %s", version, nameRule)
	}
	if _, ok := s.cat.alias(name, version); ok {
		return api.Errorf(api.CodeConflict, "%s is an alias of model %s: a version may not have an alias's name", version, name)
	}
	for _, e := range s.cat.entries(name, time.Now()) {
		if e.meta.Version == version && e.source == wire.SourceDisk {
			return api.Errorf(api.CodeConflict, "model %s version %s is served from the workers' models directory: push another version", name, version)
		}
	}
	return nil
}

// nameRule says what model.ValidName accepts.
const nameRule = "1 to 64 of a-z, 0-9, _ and -, starting with a letter or a digit"

// storePush stores the upload (and reads the metadata field after it).
func (s *Service) storePush(ctx context.Context, p Push, by string, now time.Time) (store.Version, error) {
	br := bufio.NewReaderSize(&bodyReader{r: p.Body}, archive.SniffLen)
	head, err := br.Peek(archive.SniffLen)
	if err != nil && !errors.Is(err, io.EOF) {
		return store.Version{}, bodyReadErr(err)
	}
	format, err := archive.Sniff(head)
	if err != nil {
		return store.Version{}, api.Errorf(api.CodeInvalidInput, "%s", trimInvalid(err))
	}
	meta := wire.RegistryMeta{Format: format, PushedAt: now, PushedBy: by}
	v, err := s.reg.Put(ctx, p.Name, p.Version, meta, br)
	if err != nil {
		var be *bodyError
		switch {
		case errors.As(err, &be):
			return store.Version{}, bodyReadErr(be.err)
		case ctx.Err() != nil:
			return store.Version{}, api.Errorf(api.CodeTimeout, "the push did not finish within %s (REGISTRY_PUSH_TIMEOUT)", s.cfg.Registry.PushTimeout)
		}
		return store.Version{}, registryErr(err, p.Name, p.Version)
	}
	if p.Metadata != nil {
		md, err := p.Metadata()
		if err == nil {
			md, err = checkGivenMetadata(md, p.Name, p.Version)
		}
		if err != nil {
			return v, errors.Join(err, s.reg.Discard(context.WithoutCancel(ctx), v))
		}
		v.Meta.Metadata = md
	}
	return v, nil
}

// checkGivenMetadata checks metadata.json given as an upload field: a JSON
// object with the fields of metadata.json only, naming this version if it
// names one. It returns it compacted.
func checkGivenMetadata(md []byte, name, version string) ([]byte, error) {
	if len(bytes.TrimSpace(md)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(md))
	dec.DisallowUnknownFields()
	var m model.Metadata
	if err := dec.Decode(&m); err != nil {
		return nil, api.Errorf(api.CodeInvalidInput, "the metadata field is not metadata.json: %v", err)
	}
	switch {
	case m.Name != "" && m.Name != name:
		return nil, api.Errorf(api.CodeInvalidInput, "the metadata field names model %s, the push %s", m.Name, name)
	case m.Version != "" && m.Version != version:
		return nil, api.Errorf(api.CodeInvalidInput, "the metadata field names version %s, the push %s", m.Version, version)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, md); err != nil {
		return nil, api.Errorf(api.CodeInvalidInput, "the metadata field is not JSON: %v", err)
	}
	return out.Bytes(), nil
}

// checkAndCommit has a worker check the stored version, then commits it.
func (s *Service) checkAndCommit(ctx context.Context, v *store.Version) error {
	rep, err := s.checkPush(ctx, *v)
	if err != nil {
		return err
	}
	v.Meta.State = wire.RegistryActive
	v.Meta.Model, v.Meta.Runtimes, v.Meta.UnpackedBytes, v.Meta.Files = rep.Model, rep.Runtimes, rep.UnpackedBytes, rep.Files
	if err := s.reg.SetMeta(ctx, v.Name, v.Version, v.NUID, v.Meta); err != nil {
		return registryErr(err, v.Name, v.Version)
	}
	return nil
}

// checkPush asks a worker to check the stored version: a TensorFlow one
// first (it loads any), else any worker for an upload LiteRT may load.
func (s *Service) checkPush(ctx context.Context, v store.Version) (wire.CheckReply, error) {
	rc := s.cfg.Registry
	req := wire.Marshal(wire.CheckRequest{Name: v.Name, Version: v.Version, NUID: v.NUID, Format: v.Meta.Format,
		Metadata: v.Meta.Metadata, MaxBytes: rc.MaxModelBytes, MaxFiles: rc.MaxModelFiles})
	cctx, cancel := context.WithTimeout(ctx, rc.CheckTimeout)
	defer cancel()
	why := "no worker runs"
	for _, subj := range []string{wire.SubjectCheckFull, wire.SubjectCheckLite} {
		m, err := s.in.NC.RequestWithContext(cctx, subj, req)
		switch {
		case errors.Is(err, nats.ErrNoResponders):
			continue
		case err != nil && cctx.Err() != nil:
			return wire.CheckReply{}, api.Errorf(api.CodeTimeout, "no worker finished checking %s within %s (REGISTRY_CHECK_TIMEOUT)", v.ID(), rc.CheckTimeout)
		case err != nil:
			return wire.CheckReply{}, api.RetryLater(api.CodeUnavailable, time.Second, err, "the workers cannot be reached to check %s, retry later", v.ID())
		}
		var rep wire.CheckReply
		if err := json.Unmarshal(m.Data, &rep); err != nil {
			return rep, api.RetryLater(api.CodeUnavailable, time.Second, err, "undecodable answer of a worker checking %s", v.ID())
		}
		switch {
		case rep.Unavailable:
			why = fmt.Sprintf("worker %s: %s", rep.Worker, rep.Error)
			continue
		case rep.Error != "":
			return rep, api.Errorf(api.CodeInvalidInput, "model %s refused: %s", v.ID(), rep.Error)
		}
		return rep, nil
	}
	return wire.CheckReply{}, api.RetryLater(api.CodeUnavailable, 5*time.Second, nil,
		"no worker could check %s (%s): a SavedModel needs a worker with TensorFlow, a .tflite model any worker", v.ID(), why)
}

// registryErr answers the registry store's errors.
func registryErr(err error, name, version string) error {
	id := name + ":" + version
	switch {
	case errors.Is(err, store.ErrVersionExists):
		return api.Errorf(api.CodeConflict, "model %s is already registered: push another version, or retire this one first", id)
	case errors.Is(err, store.ErrVersionRetired):
		return api.RetryLater(api.CodeConflict, 5*time.Second, nil, "model %s was retired and is being cleaned up: push it again shortly", id)
	case errors.Is(err, store.ErrPushInProgress):
		return api.Errorf(api.CodeConflict, "model %s is being pushed by another request", id)
	case errors.Is(err, store.ErrVersionNotFound):
		return api.Errorf(api.CodeUnknownModel, "model %s is not in the registry", id)
	case errors.Is(err, store.ErrRegistryFull):
		return api.RetryLater(api.CodeInsufficientStorage, time.Minute, err, "the model registry is full (REGISTRY_MAX_BYTES): retire versions first")
	}
	return queueErr(err)
}

// bodyReader marks the errors of reading the upload, apart from those of
// storing it.
type bodyReader struct{ r io.Reader }

type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read upload: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

func (b *bodyReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err: err}
	}
	return n, err
}

// bodyReadErr answers a failure reading the upload.
func bodyReadErr(err error) error {
	var ae *api.Error
	if errors.As(err, &ae) {
		return ae
	}
	return api.Errorf(api.CodeBadRequest, "the upload could not be read: %v", err)
}

// trimInvalid drops archive.ErrInvalid's own words from err's message.
func trimInvalid(err error) string {
	msg, p := err.Error(), archive.ErrInvalid.Error()+": "
	if len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}
