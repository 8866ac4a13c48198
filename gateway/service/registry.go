package service

import (
	"fmt"
	"time"
)

// RegistryConfig bounds pushes to the model registry and paces its
// upkeep. Every field must be set (package gateway's Config fills the
// defaults).
type RegistryConfig struct {
	// MaxModelBytes bounds a pushed upload, and its files unpacked.
	MaxModelBytes int64
	// MaxModelFiles bounds the files and directories of a pushed archive.
	MaxModelFiles int
	// MaxMetadataBytes bounds metadata.json given as the push's metadata
	// field.
	MaxMetadataBytes int
	// PushTimeout bounds a whole push: the upload, then its check; the
	// version is claimed for that long.
	PushTimeout time.Duration
	// CheckTimeout is how long a worker may take to unpack, load and warm
	// up a pushed version.
	CheckTimeout time.Duration
	// DrainGrace is how long after a version is retired the registry waits
	// before it looks for work left for it (a submission that chose it just
	// before is then in its queue).
	DrainGrace time.Duration
	// SweepInterval is how often the registry's upkeep runs: retired
	// versions drained and deleted, abandoned pushes cleaned up.
	SweepInterval time.Duration
}

func (c RegistryConfig) validate() error {
	for _, f := range []struct {
		name string
		ok   bool
	}{
		{"Registry.MaxModelBytes", c.MaxModelBytes > 0}, {"Registry.MaxModelFiles", c.MaxModelFiles > 0},
		{"Registry.MaxMetadataBytes", c.MaxMetadataBytes > 0}, {"Registry.PushTimeout", c.PushTimeout > 0},
		{"Registry.CheckTimeout", c.CheckTimeout > 0 && c.CheckTimeout <= c.PushTimeout},
		{"Registry.DrainGrace", c.DrainGrace >= 0}, {"Registry.SweepInterval", c.SweepInterval > 0},
	} {
		if !f.ok {
			return fmt.Errorf("%w: %s out of range", ErrConfig, f.name)
		}
	}
	return nil
}
