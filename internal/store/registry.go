package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"batchinfer/internal/natsx"
	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// Errors of the model registry.
var (
	// ErrVersionExists: the version is registered (in any state).
	ErrVersionExists = errors.New("model version already registered")
	// ErrVersionRetired: the version was retired and its clean-up is not
	// finished yet; it can be pushed again after.
	ErrVersionRetired = errors.New("model version retired, clean-up in progress")
	// ErrPushInProgress: another push of the version holds its claim.
	ErrPushInProgress = errors.New("model version being pushed")
	// ErrVersionNotFound: no such registered version.
	ErrVersionNotFound = errors.New("model version not registered")
	// ErrRegistryFull: the registry is at REGISTRY_MAX_BYTES.
	ErrRegistryFull = errors.New("the model registry is full")
	// ErrAliasNotFound: no such alias.
	ErrAliasNotFound = errors.New("alias not found")
)

// Registry is the model registry: each pushed version is an object of the
// registry Object Store holding the upload as pushed, its state in the
// object's metadata (wire.RegistryMeta); a push holds a claim on its
// version in the pushes bucket while it runs; aliases are in the aliases
// bucket. Workers watch the objects; gateways write them.
type Registry struct {
	obs     jetstream.ObjectStore
	stream  jetstream.Stream // the Object Store's, for purges
	claims  jetstream.Stream // the pushes bucket's, for Stamp
	pushes  jetstream.KeyValue
	aliases jetstream.KeyValue
	models  jetstream.KeyValue
	infer   jetstream.Stream
	input   jetstream.Stream
	js      jetstream.JetStream
}

// NewRegistry returns the registry over in's stores.
func NewRegistry(ctx context.Context, in *natsx.Infra) (*Registry, error) {
	st, err := in.JS.Stream(ctx, "OBJ_"+wire.BucketRegistry)
	if err != nil {
		return nil, fmt.Errorf("registry stream: %w", err)
	}
	claims, err := in.JS.Stream(ctx, "KV_"+wire.BucketPushes)
	if err != nil {
		return nil, fmt.Errorf("registry claims stream: %w", err)
	}
	return &Registry{
		obs: in.Buckets.Registry, stream: st, claims: claims, pushes: in.Buckets.Pushes, aliases: in.Buckets.Aliases,
		models: in.Buckets.Models, infer: in.Infer, input: in.Input, js: in.JS,
	}, nil
}

// Version is a registered version as its object says.
type Version struct {
	Name, Version string
	Meta          wire.RegistryMeta
	// NUID names the stored upload; Size and Digest (SHA-256) are its.
	NUID   string
	Size   uint64
	Digest string
	// Deleted: the version was retired and deleted; its record is kept
	// until its clean-up ends (Forget).
	Deleted bool
	// ModTime is when the object's record was last written.
	ModTime time.Time
}

// ID is "name:version".
func (v Version) ID() string { return v.Name + ":" + v.Version }

// VersionOf reads an object's record; ok is false for an object that is
// not a registry version.
func VersionOf(info *jetstream.ObjectInfo) (Version, bool) {
	name, version, ok := wire.ParseRegistryObject(info.Name)
	if !ok {
		return Version{}, false
	}
	v := Version{Name: name, Version: version, NUID: info.NUID, Size: info.Size, Digest: info.Digest, Deleted: info.Deleted, ModTime: info.ModTime}
	if !info.Deleted {
		m, err := wire.ParseRegistryMeta(info.Metadata)
		if err != nil {
			return Version{}, false
		}
		v.Meta = m
	}
	return v, true
}

// Get reads name:version's record (a deleted one too).
func (r *Registry) Get(ctx context.Context, name, version string) (Version, error) {
	info, err := r.obs.GetInfo(ctx, wire.RegistryObject(name, version), jetstream.GetObjectInfoShowDeleted())
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return Version{}, fmt.Errorf("%s:%s: %w", name, version, ErrVersionNotFound)
	}
	if err != nil {
		return Version{}, fmt.Errorf("registry %s:%s: %w", name, version, err)
	}
	v, ok := VersionOf(info)
	if !ok {
		return Version{}, fmt.Errorf("%s:%s: %w", name, version, ErrVersionNotFound)
	}
	return v, nil
}

// listAttempt bounds one attempt to list the registry. The client's
// listing waits for the last record it was told of; if that record is
// deleted just before it starts (a retired version's, forgotten), it
// waits for ever, so it is cut short and started again.
const listAttempt = 2 * time.Second

// WatchSyncWait is how long a watch's first records may take before the
// watch is started again (see listAttempt), after tries watches that
// did not sync in time: it doubles with each, to maxSyncWait, so that a
// registry slow to list (many records, a starved host) is waited for
// rather than watched again for ever.
func WatchSyncWait(tries int) time.Duration {
	return min(listAttempt<<min(tries, 8), maxSyncWait)
}

// maxSyncWait bounds WatchSyncWait.
const maxSyncWait = 30 * time.Second

// ErrNotSynced is a watch whose first records did not all come within
// WatchSyncWait: watch again.
var ErrNotSynced = errors.New("registry watch not synced in time")

// List reads every version's record, deleted ones too.
func (r *Registry) List(ctx context.Context) ([]Version, error) {
	var infos []*jetstream.ObjectInfo
	var err error
	for try := 0; ; try++ {
		actx, cancel := context.WithTimeout(ctx, WatchSyncWait(try))
		infos, err = r.obs.List(actx, jetstream.ListObjectsShowDeleted())
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			break
		}
	}
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list registry: %w", err)
	}
	out := make([]Version, 0, len(infos))
	for _, info := range infos {
		if v, ok := VersionOf(info); ok {
			out = append(out, v)
		}
	}
	return out, nil
}

// Watch follows the versions' records: the current ones, a nil, then each
// change (deleted versions too). If the nil does not come within
// WatchSyncWait, watch again (see listAttempt).
func (r *Registry) Watch(ctx context.Context) (jetstream.ObjectWatcher, error) {
	w, err := r.obs.Watch(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch registry: %w", err)
	}
	return w, nil
}

// Put stores a push's upload as name:version in state checking (workers
// load nothing in that state). The caller holds the version's claim. If
// body fails, nothing stays stored.
func (r *Registry) Put(ctx context.Context, name, version string, meta wire.RegistryMeta, body io.Reader) (Version, error) {
	meta.State = wire.RegistryChecking
	info, err := r.obs.Put(ctx, jetstream.ObjectMeta{Name: wire.RegistryObject(name, version), Metadata: meta.Map()}, body)
	if err != nil {
		if natsx.IsFull(err) {
			return Version{}, fmt.Errorf("store %s:%s: %w", name, version, ErrRegistryFull)
		}
		return Version{}, fmt.Errorf("store %s:%s: %w", name, version, err)
	}
	v, _ := VersionOf(info)
	return v, nil
}

// Open reads the upload of name:version, which must be the one stored as
// nuid (not a later push of the same version).
func (r *Registry) Open(ctx context.Context, name, version, nuid string) (io.ReadCloser, error) {
	res, err := r.obs.Get(ctx, wire.RegistryObject(name, version))
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, fmt.Errorf("%s:%s: %w", name, version, ErrVersionNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s:%s: %w", name, version, err)
	}
	info, err := res.Info()
	if err != nil || info.NUID != nuid {
		_ = res.Close()
		return nil, fmt.Errorf("%s:%s as stored %s: %w", name, version, nuid, ErrVersionNotFound)
	}
	return res, nil
}

// SetMeta writes name:version's record, if it still is the upload nuid.
// The state changes of a version are each written by one party (its push
// commits it, an operator retires it, the registry keeper deletes it), so
// a plain write is enough.
func (r *Registry) SetMeta(ctx context.Context, name, version, nuid string, meta wire.RegistryMeta) error {
	obj := wire.RegistryObject(name, version)
	info, err := r.obs.GetInfo(ctx, obj)
	if errors.Is(err, jetstream.ErrObjectNotFound) || (err == nil && info.NUID != nuid) {
		return fmt.Errorf("%s:%s: %w", name, version, ErrVersionNotFound)
	}
	if err != nil {
		return fmt.Errorf("update %s:%s: %w", name, version, err)
	}
	if err := r.obs.UpdateMeta(ctx, obj, jetstream.ObjectMeta{Name: obj, Metadata: meta.Map()}); err != nil {
		return fmt.Errorf("update %s:%s: %w", name, version, err)
	}
	return nil
}

// Discard removes a version that was never committed (its push failed):
// its bytes and its record go without a trace. The caller holds its claim,
// or knows its push ended.
func (r *Registry) Discard(ctx context.Context, v Version) error {
	err := r.stream.Purge(ctx, jetstream.WithPurgeSubject(chunkSubject(v.NUID)))
	if err == nil {
		err = r.forgetIf(ctx, v.Name, v.Version, func(info *jetstream.ObjectInfo) bool { return info.NUID == v.NUID })
	}
	if err != nil {
		return fmt.Errorf("discard %s: %w", v.ID(), err)
	}
	return nil
}

// Remove deletes a retired version: its bytes go, a deleted record stays
// (so that watchers see it) until Forget.
func (r *Registry) Remove(ctx context.Context, name, version string) error {
	err := r.obs.Delete(ctx, wire.RegistryObject(name, version))
	if err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("delete %s:%s: %w", name, version, err)
	}
	return nil
}

// Forget drops what is left of a removed version: its bytes, if its
// removal could not drop them, and its deleted record. The registry is
// then as if it had never been pushed.
func (r *Registry) Forget(ctx context.Context, v Version) error {
	if err := r.stream.Purge(ctx, jetstream.WithPurgeSubject(chunkSubject(v.NUID))); err != nil {
		return fmt.Errorf("forget %s: %w", v.ID(), err)
	}
	err := r.forgetIf(ctx, v.Name, v.Version, func(info *jetstream.ObjectInfo) bool { return info.Deleted && info.NUID == v.NUID })
	if err != nil {
		return fmt.Errorf("forget %s: %w", v.ID(), err)
	}
	return nil
}

// forgetIf deletes name:version's record message if it is still the one
// that match accepts (a new push of the version is left alone).
func (r *Registry) forgetIf(ctx context.Context, name, version string, match func(*jetstream.ObjectInfo) bool) error {
	m, err := r.stream.GetLastMsgForSubject(ctx, metaSubject(wire.RegistryObject(name, version)))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	var info jetstream.ObjectInfo
	if json.Unmarshal(m.Data, &info) != nil || !match(&info) {
		return nil
	}
	if err := r.stream.DeleteMsg(ctx, m.Sequence); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
		return err
	}
	return nil
}

func metaSubject(object string) string {
	return "$O." + wire.BucketRegistry + ".M." + base64.URLEncoding.EncodeToString([]byte(object))
}

func chunkSubject(nuid string) string { return "$O." + wire.BucketRegistry + ".C." + nuid }
