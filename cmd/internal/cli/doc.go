// Package cli is the batchinfer command line (cmd/batchinfer), on package
// client: run a dataset end to end (upload, job, output file), submit,
// watch, cancel and list jobs, download their files, predict, list and
// push models, read and redrive dead letters, make API keys. The gateway's
// binary runs it too when invoked as batchinfer (its image links
// /batchinfer to /gateway), so the image ships the CLI for a few hundred
// kilobytes.
package cli
