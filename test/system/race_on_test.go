//go:build race

package system

// raceEnabled: the race detector slows every goroutine several times, so
// latency ratios are only asserted without it (make test-go runs those
// tests a second time without -race).
const raceEnabled = true
