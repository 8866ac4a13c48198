package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
)

// Keyring holds the API keys of a keys file and reloads them when the file
// changes (or on Reload, which the command calls on SIGHUP). A reload that
// finds bad lines applies what is safe: the good lines' keys are loaded,
// keys whose line is gone are removed (a revocation always takes effect),
// a bad line keeps the key it names as it was, and the errors are logged
// and counted (gateway_api_keys_reload_errors_total).
type Keyring struct {
	path string
	log  zerolog.Logger
	opts KeyringOptions
	keys atomic.Pointer[[]Key]
	mu   sync.Mutex // one reload at a time
	// Loaded counts loads (for tests and the reload log).
	loaded  atomic.Int64
	metrics *keyMetrics
}

// KeyringOptions are a Keyring's settings.
type KeyringOptions struct {
	// AllowDevKey accepts the hash of PublicDevKey; otherwise a line
	// holding it is refused.
	AllowDevKey bool
	// Registerer, when set, gets the keyring's metrics.
	Registerer prometheus.Registerer
}

// OpenKeyring loads path; it fails if the file cannot be read or has any
// bad line: a gateway does not start with a keys file it cannot read whole.
func OpenKeyring(path string, log zerolog.Logger, opts ...KeyringOptions) (*Keyring, error) {
	k := &Keyring{path: path, log: log.With().Str("component", "auth").Str("keys_file", path).Logger()}
	if len(opts) > 0 {
		k.opts = opts[0]
	}
	k.metrics = newKeyMetrics(k.opts.Registerer)
	p, err := k.read()
	if err != nil {
		return nil, err
	}
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("api keys %s: %w", k.path, err)
	}
	k.store(p.Keys, 0)
	return k, nil
}

// Reload reads the file again. Its error names what was not applied: the
// file could not be read (nothing changed), or bad lines (the rest was).
func (k *Keyring) Reload() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	p, err := k.read()
	if err != nil {
		k.metrics.errors.Inc()
		return err
	}
	keys := p.Keys
	prev := map[[sha256.Size]byte]Key{}
	for _, key := range *k.keys.Load() {
		prev[key.Hash] = key
	}
	for _, b := range p.Bad {
		if old, ok := prev[b.Hash]; ok && b.HasHash {
			keys = append(keys, old) // a bad line keeps its key as it was
		}
	}
	k.store(keys, len(p.Bad))
	if err := p.Err(); err != nil {
		k.metrics.errors.Inc()
		return fmt.Errorf("api keys %s: %d bad line(s) not applied (the rest was): %w", k.path, len(p.Bad), err)
	}
	return nil
}

// read parses the file and refuses the public development key unless
// allowed.
func (k *Keyring) read() (Parsed, error) {
	f, err := os.Open(k.path)
	if err != nil {
		return Parsed{}, fmt.Errorf("api keys: %w", err)
	}
	defer f.Close()
	p, err := ReadKeys(f)
	if err != nil {
		return Parsed{}, fmt.Errorf("api keys %s: %w", k.path, err)
	}
	if k.opts.AllowDevKey {
		return p, nil
	}
	dev := sha256.Sum256([]byte(PublicDevKey))
	good := p.Keys[:0]
	for _, key := range p.Keys {
		if key.Hash == dev {
			p.Bad = append(p.Bad, BadLine{Line: key.Line, Err: errDevKey})
			continue
		}
		good = append(good, key)
	}
	p.Keys = good
	return p, nil
}

var errDevKey = errors.New("the public development key of deploy/secrets/api_keys.dev: " +
	"use keys of your own (docs/security.md), or set GATEWAY_ALLOW_DEV_KEY=true for a local trial")

func (k *Keyring) store(keys []Key, bad int) {
	k.keys.Store(&keys)
	k.loaded.Add(1)
	k.metrics.keys.Set(float64(len(keys)))
	k.metrics.bad.Set(float64(bad))
	k.log.Info().Int("keys", len(keys)).Int("bad_lines", bad).Msg("api keys loaded")
}

// Path is the keys file.
func (k *Keyring) Path() string { return k.path }

// Loads is how many times the file was loaded.
func (k *Keyring) Loads() int64 { return k.loaded.Load() }

// Verify returns the key whose hash is that of token. It compares the
// hash with every key in constant time, so that the time taken says
// nothing about which key, if any, matched.
func (k *Keyring) Verify(token string) (Key, bool) {
	sum := sha256.Sum256([]byte(token))
	var found Key
	match := 0
	for _, key := range *k.keys.Load() {
		if subtle.ConstantTimeCompare(key.Hash[:], sum[:]) == 1 {
			found, match = key, 1
		}
	}
	return found, match == 1
}

// Has says whether a key with this hash is loaded.
func (k *Keyring) Has(hash [sha256.Size]byte) bool {
	for _, key := range *k.keys.Load() {
		if key.Hash == hash {
			return true
		}
	}
	return false
}

// Watch reloads the keys when the file changes until ctx ends (WatchFile).
func (k *Keyring) Watch(ctx context.Context) error {
	return WatchFile(ctx, k.path, k.Reload, k.log)
}

// WatchFile calls reload when the file at path changes, until ctx ends;
// a reload that fails is logged (the caller keeps what it had). It
// watches the directory, so that an editor's rename or a Kubernetes
// secret's symlink swap are seen too; a short pause lets a write finish.
func WatchFile(ctx context.Context, path string, reload func() error, log zerolog.Logger) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", path, err)
	}
	if err := w.Add(filepath.Dir(path)); err != nil {
		_ = w.Close()
		return fmt.Errorf("watch %s: %w", path, err)
	}
	go func() {
		defer w.Close()
		var settle <-chan time.Time
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-w.Events:
				if name := filepath.Base(ev.Name); name == filepath.Base(path) || strings.HasPrefix(name, "..") {
					settle = time.After(100 * time.Millisecond) // the file, or a Kubernetes secret's ..data swap
				}
			case err := <-w.Errors:
				log.Warn().Err(err).Msg("watching a settings file failed")
			case <-settle:
				if err := reload(); err != nil {
					log.Error().Err(err).Msg("settings file has errors: what could not be read keeps its previous settings")
				}
			}
		}
	}()
	return nil
}

type keyMetrics struct {
	errors    prometheus.Counter
	keys, bad prometheus.Gauge
}

func newKeyMetrics(reg prometheus.Registerer) *keyMetrics {
	m := &keyMetrics{
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_api_keys_reload_errors_total", Help: "Reloads of the API keys file that could not read it or found bad lines.",
		}),
		keys: prometheus.NewGauge(prometheus.GaugeOpts{Name: "gateway_api_keys", Help: "API keys loaded."}),
		bad: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_api_keys_bad_lines", Help: "Lines of the API keys file not applied at its last load.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.errors, m.keys, m.bad)
	}
	return m
}
