package litert

import (
	"os"
	"path/filepath"
	"testing"
)

// The committed models verify whole; cut anywhere before their last
// buffer's data they do not, and nothing panics on the way.
func TestVerify(t *testing.T) {
	for _, name := range []string{"digits", "breast_cancer"} {
		b, err := os.ReadFile(filepath.Join("..", "models", name, "1", "model.tflite"))
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		step := max(len(b)/500, 1)
		for cut := 0; cut < len(b)*9/10; cut += step {
			if verify(b[:cut]) == nil {
				t.Fatalf("%s cut at %d of %d bytes verifies", name, cut, len(b))
			}
		}
	}
}
