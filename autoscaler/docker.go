package autoscaler

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"
)

// Scaler reads and sets the replica count of the worker service.
type Scaler interface {
	// Replicas is the service's replica count (its spec, not the tasks
	// running now).
	Replicas(ctx context.Context) (int, error)
	// Scale sets the replica count.
	Scale(ctx context.Context, n int) error
	Close() error
}

// updateAttempts bounds the retries of an update another writer raced.
const updateAttempts = 3

// DockerScaler scales a Swarm service through the Docker Engine API, at
// DOCKER_HOST (default the local socket), a manager's.
type DockerScaler struct {
	cli     *client.Client
	service string
}

// NewDockerScaler returns a Scaler of the Swarm service (name or id). It
// does not connect yet; the API version is negotiated at the first call.
func NewDockerScaler(service string) (*DockerScaler, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	return &DockerScaler{cli: cli, service: service}, nil
}

func (d *DockerScaler) inspect(ctx context.Context) (swarm.Service, error) {
	svc, _, err := d.cli.ServiceInspectWithRaw(ctx, d.service, swarm.ServiceInspectOptions{})
	if err != nil {
		return svc, fmt.Errorf("inspect service %s: %w", d.service, err)
	}
	if svc.Spec.Mode.Replicated == nil || svc.Spec.Mode.Replicated.Replicas == nil {
		return svc, fmt.Errorf("service %s is not in replicated mode", d.service)
	}
	return svc, nil
}

// Replicas implements Scaler.
func (d *DockerScaler) Replicas(ctx context.Context) (int, error) {
	svc, err := d.inspect(ctx)
	if err != nil {
		return 0, err
	}
	return int(*svc.Spec.Mode.Replicated.Replicas), nil
}

// Scale implements Scaler as `docker service scale` does: the spec as
// inspected with only the replica count changed, written at the version
// read, so a concurrent change of the service is never overwritten (the
// update is refused and tried again on the new version).
func (d *DockerScaler) Scale(ctx context.Context, n int) error {
	for attempt := 1; ; attempt++ {
		svc, err := d.inspect(ctx)
		if err != nil {
			return err
		}
		r := uint64(n)
		svc.Spec.Mode.Replicated.Replicas = &r
		_, err = d.cli.ServiceUpdate(ctx, svc.ID, svc.Version, svc.Spec, swarm.ServiceUpdateOptions{})
		if err == nil {
			return nil
		}
		if attempt == updateAttempts || !strings.Contains(err.Error(), "update out of sequence") {
			return fmt.Errorf("update service %s to %d replicas: %w", d.service, n, err)
		}
	}
}

// Close implements Scaler.
func (d *DockerScaler) Close() error { return d.cli.Close() }

// MemScaler is a Scaler that only remembers the count: the dry run's.
type MemScaler struct {
	mu sync.Mutex
	n  int
}

// NewMemScaler returns a MemScaler at n replicas.
func NewMemScaler(n int) *MemScaler { return &MemScaler{n: n} }

// Replicas implements Scaler.
func (m *MemScaler) Replicas(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.n, nil
}

// Scale implements Scaler.
func (m *MemScaler) Scale(_ context.Context, n int) error {
	m.mu.Lock()
	m.n = n
	m.mu.Unlock()
	return nil
}

// Close implements Scaler.
func (m *MemScaler) Close() error { return nil }
