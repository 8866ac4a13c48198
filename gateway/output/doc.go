// Package output renders a finished job's items as download files: every
// item (the output file) or only the failed ones (the errors file), as
// NDJSON or CSV. A file is its header followed by each chunk's items in
// chunk order, and a chunk always renders to the same bytes, so a file of
// any size is served one chunk at a time: an index of the chunks' rendered
// lengths (wire.OutputIndex, kept by the gateway) maps a byte offset to its
// chunk without rendering what comes before (Locate). The package knows
// nothing of HTTP or NATS.
package output
