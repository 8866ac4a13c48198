package worker

import (
	"errors"
	"testing"

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
