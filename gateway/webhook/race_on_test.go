//go:build race

package webhook

// raceEnabled: the soak runs a fifth of its jobs under the race detector,
// which slows it several times; make test-go runs it in full without -race.
const raceEnabled = true
