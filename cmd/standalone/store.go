package main

import (
	"os"
	"path/filepath"
	"syscall"

	"batchinfer/internal/natsx"

	"github.com/rs/zerolog"
)

// storeHeadroom is what the embedded server's file store holds beyond the
// streams' bounds: the KV buckets, timers and webhook events.
const storeHeadroom = 1 << 30

// sizeStore sets the embedded server's max_file_store to what the streams'
// bounds reserve: nats-server would otherwise take three quarters of the
// disk's free space and refuse to create the streams on a smaller disk.
// When the disk has less room than the bounds, the system still starts (a
// development system rarely fills its bounds) and says which settings to
// lower; a write past the disk's room fails then, loudly.
func sizeStore(c *natsx.EmbeddedConfig, streams natsx.StreamConfig, log zerolog.Logger) {
	if c.MaxStore > 0 {
		return
	}
	c.MaxStore = streams.Reserved() + storeHeadroom
	if free, ok := freeBytes(c.StoreDir); ok && free < c.MaxStore {
		log.Warn().Int64("streams_reserve_bytes", c.MaxStore).Int64("disk_free_bytes", free).
			Msg("the streams' bounds are larger than the disk's free space: writes past it will fail; lower RESULT_MAX_BYTES, QUEUE_MAX_BYTES, UPLOAD_MAX_BYTES (docs/scaling.md)")
	}
}

// freeBytes is the free space of the file system that holds dir (or its
// nearest existing parent).
func freeBytes(dir string) (int64, bool) {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil {
			var st syscall.Statfs_t
			if syscall.Statfs(d, &st) != nil {
				return 0, false
			}
			return int64(st.Bavail) * st.Bsize, true
		}
		if d == filepath.Dir(d) {
			return 0, false
		}
	}
}
