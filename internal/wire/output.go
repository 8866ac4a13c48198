package wire

import "time"

// OutputPageChunks is how many chunks' rendered lengths one page of an
// OutputIndex holds (a key of BucketOutputs each) unless it says otherwise.
const OutputPageChunks = 4096

// OutputIndex is the layout of one download file of a finished job
// (GET /v1/jobs/{id}/output or /errors in one format), kept in
// BucketOutputs: the file is its header followed by each chunk's items
// rendered in chunk order, and the index holds each chunk's rendered length
// in pages of OutputPageChunks (OutputPageKey), so that a byte offset maps
// to its chunk without rendering anything before it. It is computed once
// per job and file, and again when the job's outcome changed (Basis).
type OutputIndex struct {
	Job string `json:"job"`
	// File names the file: "output.ndjson", "errors.csv", ...
	File string `json:"file"`
	// Basis identifies the job record's outcome the file was rendered from
	// (its counts and unstored chunks): another basis, another file.
	Basis string `json:"basis"`
	// Columns are the probability columns of a CSV file (p_<label>).
	Columns []string `json:"columns,omitempty"`
	// HeaderBytes is the length of the file's header (a CSV header row).
	HeaderBytes int64 `json:"header_bytes"`
	// Size is the file's length in bytes.
	Size   int64 `json:"size"`
	Chunks int   `json:"chunks"`
	// PageChunks is how many chunks each page lists.
	PageChunks int `json:"page_chunks"`
	// PageStarts is the byte offset in the file of each page's first chunk.
	PageStarts []int64 `json:"page_starts"`
	// SHA256 is the digest of the whole file, hex.
	SHA256  string    `json:"sha256"`
	BuiltAt time.Time `json:"built_at"`
}

// OutputKey is the key of a job's file index in BucketOutputs.
func OutputKey(job, file string) string { return job + "." + file }

// OutputPageKey is the key of page p of a job's file index.
func OutputPageKey(job, file string, p int) string { return OutputKey(job, file) + "." + itoa(p) }

// OutputJobFilter matches every key of a job in BucketOutputs.
func OutputJobFilter(job string) string { return job + ".>" }
