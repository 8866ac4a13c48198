package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoTensorFlow checks that worker-lite links no TensorFlow: none of
// its dependencies is the TensorFlow binding or package tfmodel.
func TestNoTensorFlow(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed only %d packages", len(deps))
	}
	found := false
	for _, d := range deps {
		if strings.Contains(d, "tensorflow") || strings.Contains(d, "tfgo") || strings.HasSuffix(d, "/tfmodel") || strings.HasSuffix(d, "/tfflags") {
			t.Errorf("worker-lite depends on %s", d)
		}
		found = found || d == "batchinfer/model/litert"
	}
	if !found {
		t.Error("worker-lite does not depend on batchinfer/model/litert")
	}
}
