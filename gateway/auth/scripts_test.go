package auth

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The keys the bench and soak scripts write are keys the gateway accepts
// (a setting past its bound kept the gateway from starting, unseen until
// someone ran the script).
func TestScriptsKeys(t *testing.T) {
	line := regexp.MustCompile(`printf '([a-z]+(?:%s)? %s [^'\\]*role=[^'\\]*)\\n'`)
	limits := regexp.MustCompile(`(?m)^\s*limits='([^']*)'`)
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
		var lines []string
		for _, m := range line.FindAllStringSubmatch(string(b), -1) {
			// The tenant (tenant%s: a name per loop), the hash, then settings
			// the script may pass as arguments (checked below where they are
			// assigned).
			f := strings.Fields(m[1])
			f[0], f[1] = strings.ReplaceAll(f[0], "%s", "X"), HashKey("bik_a_key_for_the_test")
			lines = append(lines, strings.Join(slices.DeleteFunc(f, func(x string) bool { return x == "%s" }), " "))
		}
		for _, m := range limits.FindAllStringSubmatch(string(b), -1) {
			lines = append(lines, "t "+HashKey("bik_a_key_for_the_test")+" "+m[1])
		}
		for _, l := range lines {
			seen++
			if _, err := ParseKeys(strings.NewReader(l + "\n")); err != nil {
				t.Errorf("%s: %q: %v", filepath.Base(f), l, err)
			}
		}
	}
	if seen < 2 {
		t.Fatalf("%d keys lines found in scripts/*.sh, want the bench's and the soak's", seen)
	}
}
