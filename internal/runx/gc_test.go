package runx

import (
	"os"
	"runtime/debug"
	"testing"
)

// DefaultGOGC sets the target unless GOGC is in the environment.
func TestDefaultGOGC(t *testing.T) {
	prev := debug.SetGCPercent(100)
	defer debug.SetGCPercent(prev)
	t.Setenv("GOGC", "100") // (restored after the test)
	DefaultGOGC(400)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("with GOGC set, the target became %d", got)
	}
	os.Unsetenv("GOGC")
	DefaultGOGC(400)
	if got := debug.SetGCPercent(100); got != 400 {
		t.Fatalf("without GOGC, the target is %d, want 400", got)
	}
}
