package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/rs/zerolog"

	"batchinfer/cmd/internal/settings"
	"batchinfer/gateway/auth"
)

// The first start creates a key, later starts print the same one, and the
// keys file holds its hash only.
func TestDevKeys(t *testing.T) {
	dir := t.TempDir()
	start := func() string {
		var st settings.Standalone
		st.NATS.StoreDir = filepath.Join(dir, "nats")
		st.Gateway.Addr = "127.0.0.1:8000"
		var out bytes.Buffer
		if err := devKeys(&st, &out, zerolog.Nop()); err != nil {
			t.Fatal(err)
		}
		if st.Gateway.Auth.KeysFile != filepath.Join(dir, "api-keys") {
			t.Fatalf("keys file %q", st.Gateway.Auth.KeysFile)
		}
		key := regexp.MustCompile(`bik_[a-z2-7]+`).FindString(out.String())
		if key == "" {
			t.Fatalf("no key printed: %q", out.String())
		}
		return key
	}
	first, second := start(), start()
	if first != second {
		t.Fatalf("key changed across starts: %s then %s", first, second)
	}
	body, err := os.ReadFile(filepath.Join(dir, "api-keys"))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auth.ParseKeys(bytes.NewReader(body))
	if err != nil || len(keys) != 1 || keys[0].Tenant != "dev" {
		t.Fatalf("keys %+v, %v", keys, err)
	}
	if bytes.Contains(body, []byte(first)) || !bytes.Contains(body, []byte(auth.HashKey(first))) {
		t.Fatalf("keys file must hold the hash, not the key:\n%s", body)
	}
	for _, f := range []string{"api-keys", "dev-api-key"} {
		if fi, _ := os.Stat(filepath.Join(dir, f)); fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f, fi.Mode().Perm())
		}
	}
}
