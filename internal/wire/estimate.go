package wire

import "strings"

// MaxProbabilities is the largest class count whose full probability vector
// is returned with every item.
const MaxProbabilities = 32

// ResultBytes is an upper estimate of the stored size of one item's result
// for a model with the given labels, outputs per item and top-k: the size
// of a result with the longest label everywhere, scores written at their
// longest, and a large index. Admission sizes a job's results with it.
func ResultBytes(labels []string, outputs, topK int) int {
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
	// A label that needs escapes takes up to six bytes a byte.
	if strings.ContainsAny(longest, "\"\\<>&") {
		longest = strings.Repeat("x", 6*len(longest))
	}
	const score = float32(3.8355765e-07) // the longest float32 text: 12 bytes
	class := outputs - 1
	r := ItemResult{Index: 999_999_999, Label: longest, Class: &class, Score: score, Line: 999_999_999}
	for i := 0; i < topK; i++ {
		r.Top = append(r.Top, Class{Label: longest, Class: class, Score: score})
	}
	if outputs <= MaxProbabilities {
		r.Probabilities = make([]float32, outputs)
		for i := range r.Probabilities {
			r.Probabilities[i] = score
		}
	}
	return len(r.appendJSON(nil)) + 1 // and its comma
}
