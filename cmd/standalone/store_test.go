package main

import (
	"testing"

	"batchinfer/internal/natsx"

	"github.com/rs/zerolog"
)

// The embedded server's file store is sized to the streams' bounds, not to
// the disk, unless it was set.
func TestSizeStore(t *testing.T) {
	streams := natsx.StreamConfig{QueueMaxBytes: 1 << 30, ResultMaxBytes: 4 << 30, UploadMaxBytes: 12 << 30, RegistryMaxBytes: 1 << 30}
	c := natsx.EmbeddedConfig{StoreDir: t.TempDir()}
	sizeStore(&c, streams, zerolog.Nop())
	if want := int64(2+4+12+1)<<30 + natsx.DefaultDeadLetterMaxBytes + storeHeadroom; c.MaxStore != want {
		t.Fatalf("max store %d, want %d", c.MaxStore, want)
	}
	c = natsx.EmbeddedConfig{StoreDir: t.TempDir(), MaxStore: 5}
	if sizeStore(&c, streams, zerolog.Nop()); c.MaxStore != 5 {
		t.Fatalf("a set max store became %d", c.MaxStore)
	}
	if free, ok := freeBytes(c.StoreDir + "/not/yet/made"); !ok || free <= 0 {
		t.Fatalf("free bytes of a directory to come: %d %v", free, ok)
	}
}
