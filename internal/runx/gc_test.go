package runx

import (
	"os"
	"runtime"
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

// DefaultGOMAXPROCS sets the processors unless GOMAXPROCS is in the
// environment, within [1, what Go would use].
func TestDefaultGOMAXPROCS(t *testing.T) {
	prev := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(prev)
	half := func(n int) int { return n / 2 }
	t.Setenv("GOMAXPROCS", "4")
	if got := DefaultGOMAXPROCS(half); got != 4 || runtime.GOMAXPROCS(0) != 4 {
		t.Fatalf("with GOMAXPROCS set: %d, runtime %d; want 4 kept", got, runtime.GOMAXPROCS(0))
	}
	os.Unsetenv("GOMAXPROCS")
	for _, tc := range []struct {
		from, want int
		procs      func(int) int
	}{
		{4, 2, half},
		{1, 1, half},                             // never below one
		{2, 2, func(n int) int { return 3 * n }}, // never above what Go would use
	} {
		runtime.GOMAXPROCS(tc.from)
		if got := DefaultGOMAXPROCS(tc.procs); got != tc.want || runtime.GOMAXPROCS(0) != tc.want {
			t.Errorf("from %d: %d, runtime %d; want %d", tc.from, got, runtime.GOMAXPROCS(0), tc.want)
		}
	}
}
