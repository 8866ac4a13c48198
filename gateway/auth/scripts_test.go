package auth

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The keys the bench and soak scripts write are keys the gateway accepts
// (a setting past its bound kept the gateway from starting, unseen until
// someone ran the script).
func TestScriptsKeys(t *testing.T) {
	line := regexp.MustCompile(`printf '([a-z]+ %s [^'\\]*)\\n'`)
	files, err := filepath.Glob(filepath.Join("..", "..", "scripts", "*.sh"))
	if err != nil || len(files) == 0 {
		t.Fatalf("scripts: %v", err)
	}
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range line.FindAllStringSubmatch(string(b), -1) {
			seen++
			keys := strings.Replace(m[1], "%s", HashKey("bik_a_key_for_the_test"), 1) + "\n"
			if _, err := ParseKeys(strings.NewReader(keys)); err != nil {
				t.Errorf("%s: %q: %v", filepath.Base(f), m[1], err)
			}
		}
	}
	if seen < 2 {
		t.Fatalf("%d keys lines found in scripts/*.sh, want the bench's and the soak's", seen)
	}
}
