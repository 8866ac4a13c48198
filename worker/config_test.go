package worker

import (
	"errors"
	"testing"
	"time"

	"batchinfer/internal/config"
	"batchinfer/internal/natsx"

	"github.com/rs/zerolog"
)

func TestResultFormatSetting(t *testing.T) {
	for _, tc := range []struct {
		format string
		ok     bool
	}{{"", true}, {ResultFormatCompact, true}, {ResultFormatJSON, true}, {"xml", false}, {"JSON", false}} {
		cfg := Config{NATS: natsx.ConnConfig{URL: "nats://127.0.0.1:1"}, ResultFormat: tc.format}
		_, err := New(cfg, []Predictor{nil}, zerolog.Nop())
		if ok := err == nil; ok != tc.ok || err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Errorf("ResultFormat %q: %v", tc.format, err)
		}
	}
}

// TestCountSettings checks the bounds of the count settings: negative
// linger (one write per chunk) is allowed, more than a second is not, nor
// a negative batch.
func TestCountSettings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		linger time.Duration
		batch  int
		ok     bool
	}{
		{"defaults", 0, 0, true},
		{"one write per chunk", -1, 0, true},
		{"a second", time.Second, 5, true},
		{"over a second", time.Second + 1, 0, false},
		{"negative batch", 0, -1, false},
	} {
		cfg := Config{NATS: natsx.ConnConfig{URL: "nats://127.0.0.1:1"}, CountLinger: tc.linger, CountBatch: tc.batch}
		_, err := New(cfg, []Predictor{nil}, zerolog.Nop())
		if ok := err == nil; ok != tc.ok || err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestNewcomerSlotsSetting checks the newcomer slots' bounds: negative
// (none) and up to maxNewcomerSlots are allowed, more are not.
func TestNewcomerSlotsSetting(t *testing.T) {
	for _, tc := range []struct {
		slots int
		ok    bool
	}{{0, true}, {-1, true}, {1, true}, {maxNewcomerSlots, true}, {maxNewcomerSlots + 1, false}} {
		cfg := Config{NATS: natsx.ConnConfig{URL: "nats://127.0.0.1:1"}, NewcomerSlots: tc.slots}
		_, err := New(cfg, []Predictor{nil}, zerolog.Nop())
		if ok := err == nil; ok != tc.ok || err != nil && !errors.Is(err, config.ErrInvalid) {
			t.Errorf("NewcomerSlots %d: %v", tc.slots, err)
		}
	}
}
