package wire

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The model registry: versions pushed through the API, kept in JetStream so
// that every worker reaches them without a shared disk.
const (
	// BucketRegistry is the Object Store of pushed model versions: one
	// object per version, named RegistryObject(name, version), holding the
	// upload as it was pushed (a tar, tar.gz or zip archive, or a .tflite
	// file); its metadata (RegistryMeta, under RegistryMetaKey) says what it
	// is and its state. Workers watch it.
	BucketRegistry = "registry"
	// BucketAliases maps AliasKey(name, alias) to an Alias.
	BucketAliases = "aliases"
	// BucketPushes holds a PushClaim per version being pushed, keyed
	// ModelKey(name, version): a second push of it is refused while the
	// claim lasts.
	BucketPushes = "pushes"

	// SubjectCheckFull is where a pushed version is checked by a worker
	// that links TensorFlow (and LiteRT): it checks any version.
	SubjectCheckFull = "registry.check.full"
	// SubjectCheckLite is where a pushed version is checked by any worker
	// (LiteRT-only workers too): used for versions that hold a TFLite
	// model, when no TensorFlow worker answers.
	SubjectCheckLite = "registry.check.lite"
	// CheckQueueGroup is the workers' queue group on the check subjects.
	CheckQueueGroup = "registry-check"

	// RegistryMetaKey is the key of the JSON RegistryMeta in a registry
	// object's metadata.
	RegistryMetaKey = "bi-registry"
)

// Registry states of a pushed version.
const (
	// RegistryChecking: the upload is stored and a worker checks it; no
	// worker loads it yet.
	RegistryChecking = "checking"
	// RegistryActive: checked and committed; workers load it.
	RegistryActive = "active"
	// RegistryRetiring: an operator retired it: no new work is routed to it,
	// what was sent to it finishes, then it is deleted.
	RegistryRetiring = "retiring"
)

// Source of a model version in the catalogue.
const (
	// SourceDisk: a worker's models directory (WORKER_MODELS_DIR).
	SourceDisk = "disk"
	// SourceRegistry: pushed to the registry.
	SourceRegistry = "registry"
)

// Formats of a pushed version's upload.
const (
	FormatTar    = "tar"
	FormatTarGz  = "tar.gz"
	FormatZip    = "zip"
	FormatTFLite = "tflite"
)

// RegistryObject is the object name of model name:version in
// BucketRegistry.
func RegistryObject(name, version string) string { return name + "/" + version }

// ParseRegistryObject splits an object name made by RegistryObject.
func ParseRegistryObject(s string) (name, version string, ok bool) {
	name, version, ok = strings.Cut(s, "/")
	return name, version, ok && name != "" && version != "" && !strings.Contains(version, "/")
}

// RegistryMeta is what the registry records of a pushed version, in its
// object's metadata.
type RegistryMeta struct {
	State  string `json:"state"`
	Format string `json:"format"`
	// PushedAt and PushedBy (the key id of the operator) say who pushed it.
	PushedAt time.Time `json:"pushed_at"`
	PushedBy string    `json:"pushed_by,omitempty"`
	// RetiringAt is when an operator retired it (state retiring).
	RetiringAt *time.Time `json:"retiring_at,omitempty"`
	// Metadata is metadata.json as given in the push's upload field, if
	// any: written beside the model files when they are unpacked.
	Metadata json.RawMessage `json:"metadata,omitempty"`
	// Set by the check, when committed: the model's metadata as the worker
	// that checked it completed it (model.Metadata), the runtimes whose
	// files the version holds, and the size and number of its files
	// unpacked (the bounds a loading worker unpacks it under).
	Model         json.RawMessage `json:"model,omitempty"`
	Runtimes      []string        `json:"runtimes,omitempty"`
	UnpackedBytes int64           `json:"unpacked_bytes,omitempty"`
	Files         int             `json:"files,omitempty"`
}

// Map is m as an object's metadata.
func (m RegistryMeta) Map() map[string]string {
	return map[string]string{RegistryMetaKey: string(Marshal(m))}
}

// ParseRegistryMeta reads the RegistryMeta of an object's metadata.
func ParseRegistryMeta(md map[string]string) (RegistryMeta, error) {
	var m RegistryMeta
	s, ok := md[RegistryMetaKey]
	if !ok {
		return m, fmt.Errorf("registry object without %s metadata", RegistryMetaKey)
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return m, fmt.Errorf("registry object metadata: %w", err)
	}
	return m, nil
}

// PushClaim is a push in progress, in BucketPushes: it holds the version
// until Until (then it may be taken over: its gateway died).
type PushClaim struct {
	Gateway string    `json:"gateway"`
	By      string    `json:"by,omitempty"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
}

// CheckRequest asks a worker to check a pushed version: unpack it within
// the bounds, load it, match its signature to the metadata, warm it up.
type CheckRequest struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// NUID identifies the stored upload (the object's NUID): a worker
	// checks exactly the bytes the gateway stored.
	NUID     string          `json:"nuid"`
	Format   string          `json:"format"`
	Metadata json.RawMessage `json:"metadata,omitempty"`
	MaxBytes int64           `json:"max_bytes"`
	MaxFiles int             `json:"max_files"`
}

// CheckReply is a worker's verdict on a pushed version. Error, when set,
// names the problem (the version is refused); Unavailable says the worker
// could not check it (not the version's fault: no such runtime, a NATS
// failure).
type CheckReply struct {
	Error       string `json:"error,omitempty"`
	Unavailable bool   `json:"unavailable,omitempty"`
	// Model is the model's completed metadata (model.Metadata).
	Model         json.RawMessage `json:"model,omitempty"`
	Runtimes      []string        `json:"runtimes,omitempty"`
	UnpackedBytes int64           `json:"unpacked_bytes,omitempty"`
	Files         int             `json:"files,omitempty"`
	Worker        string          `json:"worker,omitempty"`
}

// Alias is a named route to versions of a model, in BucketAliases: each
// request naming the alias goes to one of Weights' versions with the
// probability of its weight (the weights sum to 100).
type Alias struct {
	Model     string         `json:"model"`
	Name      string         `json:"name"`
	Weights   map[string]int `json:"weights"`
	UpdatedAt time.Time      `json:"updated_at"`
	UpdatedBy string         `json:"updated_by,omitempty"`
}

// AliasKey is the key of alias of model name in BucketAliases.
func AliasKey(name, alias string) string { return name + "." + alias }

// ModelAnnouncement is what a worker adds to a model version's metadata
// when it announces it in BucketModels: both are embedded in one JSON
// object, flat, so that a reader of the metadata alone reads it as before.
type ModelAnnouncement struct {
	// Source is SourceDisk or SourceRegistry (empty: disk, as announced by
	// a worker of an earlier release).
	Source string `json:"source,omitempty"`
}
