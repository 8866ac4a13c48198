package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/rs/zerolog"
)

// Keyring holds the API keys of a keys file and reloads them when the file
// changes (or on Reload, which the command calls on SIGHUP). A reload that
// fails keeps the keys it had.
type Keyring struct {
	path string
	log  zerolog.Logger
	keys atomic.Pointer[[]Key]
	mu   sync.Mutex // one reload at a time
	// Loaded counts successful loads (for tests and the reload log).
	loaded atomic.Int64
}

// OpenKeyring loads path; it fails if the file cannot be read or parsed.
func OpenKeyring(path string, log zerolog.Logger) (*Keyring, error) {
	k := &Keyring{path: path, log: log.With().Str("component", "auth").Str("keys_file", path).Logger()}
	if err := k.Reload(); err != nil {
		return nil, err
	}
	return k, nil
}

// Reload reads the file again.
func (k *Keyring) Reload() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, err := os.Open(k.path)
	if err != nil {
		return fmt.Errorf("api keys: %w", err)
	}
	defer f.Close()
	keys, err := ParseKeys(f)
	if err != nil {
		return fmt.Errorf("api keys %s: %w", k.path, err)
	}
	k.keys.Store(&keys)
	k.loaded.Add(1)
	k.log.Info().Int("keys", len(keys)).Msg("api keys loaded")
	return nil
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
					log.Error().Err(err).Msg("settings file not reloaded, keeping the previous settings")
				}
			}
		}
	}()
	return nil
}
