package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The URL of an unfinished upload is kept in the user's cache directory
// (~/.cache/batchinfer/uploads/), named after the gateway and the file's
// path, size and modification time, so that running the same command
// again goes on with it; it is removed once the upload is complete.

// resumeFile is where the upload of the file at path to base is noted
// ("" when there is no cache directory).
func resumeFile(base, path string, fi os.FileInfo) string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%s\n%s\n%d\n%d", base, abs, fi.Size(), fi.ModTime().UnixNano()))
	return filepath.Join(dir, "batchinfer", "uploads", hex.EncodeToString(sum[:16]))
}

func loadResume(file string) string {
	if file == "" {
		return ""
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// saveResume notes url; failing to is not worth failing the upload.
func saveResume(file, url string) {
	if file == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err == nil {
		_ = os.WriteFile(file, []byte(url+"\n"), 0o600)
	}
}

func dropResume(file string) {
	if file != "" {
		_ = os.Remove(file)
	}
}
