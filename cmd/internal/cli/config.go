package cli

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v2"
)

// Environment variables of the command.
const (
	envURL    = "BATCHINFER_URL"
	envKey    = "BATCHINFER_API_KEY"
	envConfig = "BATCHINFER_CONFIG"
)

// defaultURL is the gateway of `make run`.
const defaultURL = "http://127.0.0.1:8000"

// fileConfig is the config file: the gateway and the key to use when
// neither a flag nor the environment names them.
type fileConfig struct {
	URL      string `yaml:"url"`
	APIKey   string `yaml:"api_key"`
	RetryFor string `yaml:"retry_for"`
}

// configPath is the config file's path: --config, BATCHINFER_CONFIG, or
// config.yaml in the user's config directory (~/.config/batchinfer).
func configPath(flag string) (string, bool) {
	if p := cmp.Or(flag, os.Getenv(envConfig)); p != "" {
		return p, true
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", false
	}
	return filepath.Join(dir, "batchinfer", "config.yaml"), false
}

// loadConfig reads the config file; one that is absent is empty unless
// it was named.
func loadConfig(flag string) (fileConfig, error) {
	var c fileConfig
	path, named := configPath(flag)
	if path == "" {
		return c, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !named {
		return c, nil
	}
	if err != nil {
		return c, usagef("config: %v", err)
	}
	if err := yaml.UnmarshalStrict(b, &c); err != nil {
		return c, usagef("config %s: %v", path, err)
	}
	return c, nil
}

// settings are the connection settings after flags, environment and file.
type settings struct {
	url, key string
	retryFor time.Duration
}

// resolve picks each setting from the flag, the environment, the file,
// then the default.
func resolve(g *globals, c fileConfig) (settings, error) {
	s := settings{
		url: cmp.Or(g.url, os.Getenv(envURL), c.URL, defaultURL),
		key: cmp.Or(g.key, os.Getenv(envKey), c.APIKey),
	}
	s.retryFor = g.retryFor
	if !g.retrySet && c.RetryFor != "" {
		d, err := time.ParseDuration(c.RetryFor)
		if err != nil {
			return s, usagef("config: retry_for: %v", err)
		}
		s.retryFor = d
	}
	if s.retryFor == 0 {
		s.retryFor = -1 // 0 means no retries here, not the client's default
	}
	if _, err := parseBaseURL(s.url); err != nil {
		return s, err
	}
	return s, nil
}

func parseBaseURL(u string) (string, error) {
	if len(u) < 8 || (u[:7] != "http://" && (len(u) < 9 || u[:8] != "https://")) {
		return "", usagef("gateway URL %q: want http://HOST[:PORT] or https://...", u)
	}
	return u, nil
}

// Describe says where the settings come from, for --help.
var settingsHelp = fmt.Sprintf(`The gateway and key come from --url and --api-key, else the environment (%s,
%s), else the config file (--config, %s, or ~/.config/batchinfer/config.yaml):

  url: https://batch.example.com
  api_key: bik_...
  retry_for: 2m

The URL defaults to %s (make run).`, envURL, envKey, envConfig, defaultURL)
