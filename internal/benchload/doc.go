// Package benchload drives the benchmarks of scripts/bench.sh from its own
// process: batch jobs in the formats users send (NDJSON and JSON numbers,
// CSV, base64, images, raw float32 and .npy), read back as an NDJSON
// stream and checked line by line, and synchronous single-item
// predictions from many keep-alive connections through a minimal HTTP/1.1
// client (so that the load generator's own CPU stays small). Each
// measurement reports the CPU time of every server process over its
// window, read from /proc.
package benchload
