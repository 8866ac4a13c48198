package worker

import (
	"slices"

	"batchinfer/internal/wire"
	"batchinfer/model"
)

// itemResult turns one output row into an ItemResult.
func itemResult(meta *model.Metadata, index int, probs []float32) wire.ItemResult {
	k := meta.TopK
	if k <= 0 || k > len(probs) {
		k = min(len(probs), 5)
	}
	order := make([]int, len(probs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case probs[a] > probs[b]:
			return -1
		case probs[a] < probs[b]:
			return 1
		}
		return 0
	})
	top := make([]wire.Class, k)
	for i := 0; i < k; i++ {
		c := order[i]
		top[i] = wire.Class{Label: label(meta, c), Class: c, Score: probs[c]}
	}
	best := order[0]
	r := wire.ItemResult{Index: index, Label: label(meta, best), Class: &best, Score: probs[best], Top: top}
	if len(probs) <= wire.MaxProbabilities {
		r.Probabilities = slices.Clone(probs)
	}
	return r
}

func label(meta *model.Metadata, c int) string {
	if c < len(meta.Labels) {
		return meta.Labels[c]
	}
	return ""
}
