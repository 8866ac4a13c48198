package worker

import (
	"context"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// cancels mirrors the cancel bucket: the jobs whose queued chunks a
// worker fails instead of running.
type cancels struct {
	mu   sync.RWMutex
	jobs map[string]struct{}
}

func (c *cancels) has(job string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.jobs[job]
	return ok
}

// watch follows the bucket until ctx ends; it returns once the current
// content is loaded. done is closed when the watch ends.
func (c *cancels) watch(ctx context.Context, kv jetstream.KeyValue, ready context.Context) (done <-chan struct{}, err error) {
	c.jobs = map[string]struct{}{}
	kw, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("watch cancellations: %w", err)
	}
	synced, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		defer func() { _ = kw.Stop() }()
		var once sync.Once
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-kw.Updates():
				if !ok {
					return
				}
				if e == nil {
					once.Do(func() { close(synced) })
					continue
				}
				c.apply(e)
			}
		}
	}()
	select {
	case <-synced:
		return stopped, nil
	case <-ready.Done():
		return stopped, fmt.Errorf("watch cancellations: %w", ready.Err())
	}
}

func (c *cancels) apply(e jetstream.KeyValueEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.Operation() == jetstream.KeyValuePut {
		c.jobs[e.Key()] = struct{}{}
	} else {
		delete(c.jobs, e.Key())
	}
}
