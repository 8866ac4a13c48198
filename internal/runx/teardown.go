package runx

import (
	"errors"
	"fmt"
	"sync"
)

// Teardown releases resources in the reverse order of their acquisition:
// a service's Start registers each release as soon as the resource is
// acquired, and runs them all on its error paths and in Stop.
type Teardown struct {
	mu  sync.Mutex
	fns []named
}

type named struct {
	name string
	fn   func() error
}

// Add registers the release of one resource.
func (t *Teardown) Add(name string, fn func() error) {
	t.mu.Lock()
	t.fns = append(t.fns, named{name, fn})
	t.mu.Unlock()
}

// Run releases everything registered, last first, once each, and joins
// their errors.
func (t *Teardown) Run() error {
	t.mu.Lock()
	fns := t.fns
	t.fns = nil
	t.mu.Unlock()
	var errs []error
	for i := len(fns) - 1; i >= 0; i-- {
		if err := fns[i].fn(); err != nil {
			errs = append(errs, fmt.Errorf("release %s: %w", fns[i].name, err))
		}
	}
	return errors.Join(errs...)
}
