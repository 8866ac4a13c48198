package wire

import (
	"encoding/binary"
	"strings"
)

// MaxProbabilities is the largest class count whose full probability vector
// is returned with every item.
const MaxProbabilities = 32

// minItemResultBytes is the least ResultBytes gives: room for an item that
// fails with a reason of about 60 bytes, instead of a prediction.
const minItemResultBytes = 72

// ResultBytes is an upper estimate of the stored size of one item's result
// (the compact form, AppendCompact) for a model with the given labels,
// outputs per item and top-k: its label, class and top classes numbered as
// the largest, every score written out, the full probabilities when they
// are returned, and a large line number. Admission sizes a job's results
// with it and ResultChunkBytes, unless a worker of the model stores JSON
// (ResultJSONBytes).
func ResultBytes(labels []string, outputs, topK int) int {
	if outputs <= 0 {
		outputs = 1
	}
	if topK <= 0 || topK > outputs {
		topK = min(outputs, 5)
	}
	label := uvarintLen(uint64(max(len(labels)-1, 0)))
	class := varintLen(int64(outputs - 1))
	n := 2 + label + class + 4 + varintLen(999_999_999) // flags, label, class, score, line
	n += uvarintLen(uint64(topK)) + topK*(label+class+5)
	if outputs <= MaxProbabilities {
		n += uvarintLen(uint64(outputs)) + 4*outputs
	}
	return max(n, minItemResultBytes)
}

// ResultChunkBytes is an upper estimate of what a stored chunk result of n
// items takes beside its items (ResultBytes each): its fields (job and
// worker names of up to 64 bytes) and the distinct labels its items name,
// each once.
func ResultChunkBytes(labels []string, topK, n int) int {
	const fields = len(resultMagic) + 2*(1+64) + 5*10 + 10 + 10 + 10
	longest := 0
	for _, l := range labels {
		longest = max(longest, len(l))
	}
	named := min(max(len(labels), 1), n*(max(topK, 5)+1))
	return fields + named*(uvarintLen(uint64(longest))+longest)
}

func uvarintLen(v uint64) int { return len(binary.AppendUvarint(nil, v)) }

func varintLen(v int64) int { return len(binary.AppendVarint(nil, v)) }

// ResultJSONBytes is ResultBytes for results stored as JSON (a worker with
// WORKER_RESULT_FORMAT=json, or one older than the compact form): the size
// of a result with the longest label everywhere (escaped, when it needs
// escapes), scores written at their longest, and a large index and line.
func ResultJSONBytes(labels []string, outputs, topK int) int {
	if outputs <= 0 {
		outputs = 1
	}
	if topK <= 0 || topK > outputs {
		topK = min(outputs, 5)
	}
	longest := ""
	for _, l := range labels {
		if len(l) > len(longest) {
			longest = l
		}
	}
	if strings.ContainsAny(longest, "\"\\<>&") { // up to six bytes a byte
		longest = strings.Repeat("x", 6*len(longest))
	}
	const score = float32(3.8355765e-07) // the longest float32 text: 12 bytes
	class := outputs - 1
	r := ItemResult{Index: 999_999_999, Label: longest, Class: &class, Score: score, Line: 999_999_999}
	for range topK {
		r.Top = append(r.Top, Class{Label: longest, Class: class, Score: score})
	}
	if outputs <= MaxProbabilities {
		r.Probabilities = make([]float32, outputs)
		for i := range r.Probabilities {
			r.Probabilities[i] = score
		}
	}
	return max(len(r.appendJSON(nil))+1, minItemResultBytes) // and its comma
}

// ResultChunkJSONBytes is ResultChunkBytes for a chunk result stored as
// JSON: its fields, with job and worker names of up to 64 bytes (its
// items' labels are in theirs).
func ResultChunkJSONBytes() int {
	c := ChunkResult{Job: strings.Repeat("j", 64), Worker: strings.Repeat("w", 64), Chunk: 999_999_999, Start: 999_999_999,
		Done: 999_999_999, Failed: 999_999_999, Skipped: 999_999_999, Redrive: 1<<64 - 1}
	return len(c.AppendJSON(nil))
}
