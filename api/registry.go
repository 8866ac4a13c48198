package api

import (
	"time"

	"batchinfer/model"
)

// Catalogue states of a model version (ModelInfo.State, RegistryVersion.State).
const (
	// StateChecking: being pushed: stored, a worker checks it (registry
	// listing only).
	StateChecking = "checking"
	// StateLoading: registered; no worker has loaded and warmed it up yet:
	// not routable.
	StateLoading = "loading"
	// StateReady: at least one live worker serves it.
	StateReady = "ready"
	// StateUnserved: workers served it, none does now: work for it waits
	// in its queue.
	StateUnserved = "unserved"
	// StateRetiring: retired: no new work goes to it; what was sent
	// finishes, then it leaves the catalogue.
	StateRetiring = "retiring"
)

// RegistryVersion is a model version as the registry lists it (GET
// /v1/models/{name}/versions, PUT and DELETE
// /v1/models/{name}/versions/{version}).
type RegistryVersion struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Source is "registry" (pushed) or "disk" (a worker's models directory).
	Source string `json:"source"`
	// State is checking, loading, ready, unserved or retiring.
	State   string `json:"state"`
	Workers int    `json:"workers"`
	// Of a pushed version: the upload's format, size and SHA-256 digest,
	// the runtimes whose files it holds, who pushed it and when.
	Format     string     `json:"format,omitempty"`
	Size       uint64     `json:"size,omitempty"`
	Digest     string     `json:"digest,omitempty"`
	Runtimes   []string   `json:"runtimes,omitempty"`
	PushedAt   *time.Time `json:"pushed_at,omitempty"`
	PushedBy   string     `json:"pushed_by,omitempty"`
	RetiringAt *time.Time `json:"retiring_at,omitempty"`
	// LoadErrors are the live workers that could not load it, with why.
	LoadErrors map[string]string `json:"load_errors,omitempty"`
	// Aliases are the model's aliases that route to it.
	Aliases []string `json:"aliases,omitempty"`
	// Metadata is the version's metadata (absent while it is checked).
	Metadata *model.Metadata `json:"metadata,omitempty"`
}

// RegistryVersions is GET /v1/models/{name}/versions.
type RegistryVersions struct {
	Name     string            `json:"name"`
	Versions []RegistryVersion `json:"versions"`
}

// AliasRequest is the body of PUT /v1/models/{name}/aliases/{alias}: the
// versions the alias routes to, each with its share of the requests in
// percent (the weights sum to 100).
type AliasRequest struct {
	Weights map[string]int `json:"weights"`
}

// Alias is a model's alias: a request naming it as its version goes to one
// of Weights' versions, with the probability of its weight (in percent).
type Alias struct {
	Model     string         `json:"model"`
	Name      string         `json:"name"`
	Weights   map[string]int `json:"weights"`
	UpdatedAt time.Time      `json:"updated_at"`
}
