package store

import (
	"context"
	"errors"
	"fmt"

	"batchinfer/internal/wire"

	"github.com/nats-io/nats.go/jetstream"
)

// SetAlias writes an alias (replacing one of the same name).
func (r *Registry) SetAlias(ctx context.Context, a wire.Alias) error {
	if _, err := r.aliases.Put(ctx, wire.AliasKey(a.Model, a.Name), wire.Marshal(a)); err != nil {
		return fmt.Errorf("set alias %s:%s: %w", a.Model, a.Name, err)
	}
	return nil
}

// DeleteAlias removes an alias; ErrAliasNotFound if there is none.
func (r *Registry) DeleteAlias(ctx context.Context, model, alias string) error {
	key := wire.AliasKey(model, alias)
	if _, err := r.aliases.Get(ctx, key); errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("alias %s:%s: %w", model, alias, ErrAliasNotFound)
	}
	// A purge leaves one marker, which watchers see, and which a later
	// alias of the same name replaces.
	if err := r.aliases.Purge(ctx, key); err != nil {
		return fmt.Errorf("delete alias %s:%s: %w", model, alias, err)
	}
	return nil
}

// Aliases reads every alias, by AliasKey.
func (r *Registry) Aliases(ctx context.Context) (map[string]wire.Alias, error) {
	return readBucket[wire.Alias](ctx, r.aliases)
}

// WatchAliases follows the aliases: the current ones, a nil, then each
// change.
func (r *Registry) WatchAliases(ctx context.Context) (jetstream.KeyWatcher, error) {
	w, err := r.aliases.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch aliases: %w", err)
	}
	return w, nil
}

// Unannounce removes what the workers declared for a retired version once
// none serves it: its announcement in the models bucket and its consumers
// (its batch, newcomers' and synchronous queues, its backlog), and the input chunks
// left for it (of jobs cancelled before they were sent). Nothing of it
// stays.
func (r *Registry) Unannounce(ctx context.Context, name, version string) error {
	var errs []error
	if err := r.input.Purge(ctx, jetstream.WithPurgeSubject(wire.InputModelFilter(name, version))); err != nil {
		errs = append(errs, err)
	}
	type consumer struct {
		st   jetstream.Stream
		name string
	}
	consumers := []consumer{{r.input, wire.BacklogConsumer(name, version)}}
	for _, prio := range wire.Priorities {
		consumers = append(consumers, consumer{r.infer, wire.ConsumerName(prio, name, version)})
	}
	for _, c := range consumers {
		if err := c.st.DeleteConsumer(ctx, c.name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			errs = append(errs, err)
		}
	}
	key := wire.ModelKey(name, version)
	if err := r.models.Delete(ctx, key); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("unannounce %s:%s: %w", name, version, err)
	}
	return nil
}

// DropModelMarkers drops the delete markers Unannounce left in the models
// bucket (which watchers have seen by then): the bucket holds only the
// announced versions.
func (r *Registry) DropModelMarkers(ctx context.Context, keys []string) error {
	for _, k := range keys {
		e, err := r.models.Get(ctx, k)
		if err == nil && e.Operation() == jetstream.KeyValuePut {
			continue // announced again meanwhile
		}
		if err := purgeKey(ctx, r.js, wire.BucketModels, k); err != nil {
			return fmt.Errorf("drop marker of %s: %w", k, err)
		}
	}
	return nil
}
