package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// Claim takes name:version for a push until c.Until: it fails with
// ErrPushInProgress while another push holds it (a claim past its Until
// is taken over: its gateway died), ErrVersionExists when the version is
// registered and ErrVersionRetired while a retired one is cleaned up. A
// version left in state checking by a push that died is discarded.
func (r *Registry) Claim(ctx context.Context, name, version string, c wire.PushClaim) error {
	key := wire.ModelKey(name, version)
	if _, err := r.pushes.Create(ctx, key, wire.Marshal(c)); err != nil {
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("claim %s:%s: %w", name, version, err)
		}
		if err := r.takeOver(ctx, key, c); err != nil {
			return fmt.Errorf("claim %s:%s: %w", name, version, err)
		}
	}
	v, err := r.Get(ctx, name, version)
	switch {
	case errors.Is(err, ErrVersionNotFound):
		return nil
	case err != nil:
	case v.Deleted:
		err = fmt.Errorf("%s:%s: %w", name, version, ErrVersionRetired)
	case v.Meta.State == wire.RegistryChecking:
		if err = r.Discard(ctx, v); err == nil {
			return nil
		}
	default:
		err = fmt.Errorf("%s:%s: %w", name, version, ErrVersionExists)
	}
	return errors.Join(err, r.Release(ctx, name, version))
}

// takeOver replaces an expired claim; one still valid is ErrPushInProgress.
func (r *Registry) takeOver(ctx context.Context, key string, c wire.PushClaim) error {
	e, err := r.pushes.Get(ctx, key)
	if err != nil {
		return err // gone meanwhile: the caller may try again
	}
	var old wire.PushClaim
	if json.Unmarshal(e.Value(), &old) == nil && c.Since.Before(old.Until) {
		return ErrPushInProgress
	}
	if _, err := r.pushes.Update(ctx, key, wire.Marshal(c), e.Revision()); err != nil {
		if errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return ErrPushInProgress // another push took it first
		}
		return err
	}
	return nil
}

// Release ends a push's claim, leaving nothing of it in the bucket.
func (r *Registry) Release(ctx context.Context, name, version string) error {
	if err := purgeKey(ctx, r.js, wire.BucketPushes, wire.ModelKey(name, version)); err != nil {
		return fmt.Errorf("release %s:%s: %w", name, version, err)
	}
	return nil
}

// Claims lists the pushes in progress (and those whose gateway died, past
// their Until), by "name.version".
func (r *Registry) Claims(ctx context.Context) (map[string]wire.PushClaim, error) {
	return readBucket[wire.PushClaim](ctx, r.pushes)
}

// purgeKey drops every message of a key in a bucket: its value, its
// history and its delete marker.
func purgeKey(ctx context.Context, js jetstream.JetStream, bucket, key string) error {
	st, err := js.Stream(ctx, "KV_"+bucket)
	if err != nil {
		return err
	}
	return st.Purge(ctx, jetstream.WithPurgeSubject("$KV."+bucket+"."+key))
}

// readBucket reads every value of a bucket, by key; undecodable values are
// left out.
func readBucket[T any](ctx context.Context, kv jetstream.KeyValue) (map[string]T, error) {
	lister, err := kv.ListKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kv.Bucket(), err)
	}
	defer func() { _ = lister.Stop() }()
	out := map[string]T{}
	for k := range lister.Keys() {
		e, err := kv.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read %s %s: %w", kv.Bucket(), k, err)
		}
		var v T
		if json.Unmarshal(e.Value(), &v) == nil {
			out[k] = v
		}
	}
	return out, nil
}

// SweepOrphans drops the bytes of uploads that no record names and that
// nothing was written to for olderThan: a push whose gateway died while
// it stored them. It returns how many it dropped and how many unnamed
// ones it left (younger than olderThan).
func (r *Registry) SweepOrphans(ctx context.Context, olderThan time.Duration) (dropped, left int, err error) {
	prefix := "$O." + wire.BucketRegistry + ".C."
	info, err := r.stream.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
	if err != nil {
		return 0, 0, fmt.Errorf("sweep registry: %w", err)
	}
	if len(info.State.Subjects) == 0 {
		return 0, 0, nil
	}
	vs, err := r.List(ctx)
	if err != nil {
		return 0, 0, err
	}
	named := map[string]bool{}
	for _, v := range vs {
		named[v.NUID] = true
	}
	for subj := range info.State.Subjects {
		if named[strings.TrimPrefix(subj, prefix)] {
			continue
		}
		last, err := r.stream.GetLastMsgForSubject(ctx, subj)
		if err != nil || time.Since(last.Time) < olderThan {
			left++
			continue
		}
		if err := r.stream.Purge(ctx, jetstream.WithPurgeSubject(subj)); err != nil {
			return dropped, left, fmt.Errorf("sweep registry: %w", err)
		}
		dropped++
	}
	return dropped, left, nil
}
