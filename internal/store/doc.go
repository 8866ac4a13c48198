// Package store is the one home of the durable state both services share:
// job records in the jobs bucket (Jobs), updated by compare-and-set so that
// each chunk is counted once, and chunk results in the results stream
// (Results), stored once per chunk. The gateway creates, reads and cancels
// jobs and reads results; workers count chunks and store results.
package store
