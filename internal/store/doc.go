// Package store is the one home of the durable state both services share:
// job records in the jobs bucket (Jobs), updated by compare-and-set so that
// each chunk is counted once, and chunk results in the results stream
// (Results), stored once per chunk, and resumable uploads (Uploads): a
// record per upload in the uploads bucket and its bytes as parts on its own
// subject of the uploads stream. The gateway creates, reads and cancels
// jobs, reads results and keeps uploads; workers count chunks and store
// results.
package store
