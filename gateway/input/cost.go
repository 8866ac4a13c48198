package input

import (
	"bytes"
	"image"

	"batchinfer/internal/wire"
	"batchinfer/model"
)

// Cost is what items count against a tenant's items quota: 1 per item,
// and for an image the number of model inputs its pixels would fill, at
// least 1 (its preprocessing costs in proportion: a 4096×4096 image for an
// 8×8 model is 262,144 items' worth of work, not one).
func Cost(meta *model.Metadata, items []wire.Item) int64 {
	per := int64(0)
	if p := meta.Preprocessing.Image; p != nil && p.Width > 0 && p.Height > 0 {
		per = int64(p.Width) * int64(p.Height)
	}
	var c int64
	for _, it := range items {
		c += itemCost(it, per)
	}
	return c
}

// CostPer is the cost function of meta's items (ItemCost with the model's
// input pixels bound).
func CostPer(meta *model.Metadata) func(wire.Item) int64 {
	per := int64(0)
	if p := meta.Preprocessing.Image; p != nil && p.Width > 0 && p.Height > 0 {
		per = int64(p.Width) * int64(p.Height)
	}
	return func(it wire.Item) int64 { return itemCost(it, per) }
}

func itemCost(it wire.Item, inputPixels int64) int64 {
	if it.Kind != wire.ItemImage || inputPixels <= 0 {
		return 1
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(it.Data))
	if err != nil {
		return 1 // checked when decoded: cannot happen
	}
	px := int64(cfg.Width) * int64(cfg.Height)
	return max(1, (px+inputPixels-1)/inputPixels)
}

// MaxImagePixels is the most pixels an image for meta may have: factor
// times the model's input (0 for a model that takes no images).
func MaxImagePixels(meta *model.Metadata, factor int) int {
	p := meta.Preprocessing.Image
	if p == nil || factor <= 0 {
		return 0
	}
	return factor * p.Width * p.Height
}
