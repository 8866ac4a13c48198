package model

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// MaxExamples bounds the example inputs of a model's metadata.
const MaxExamples = 16

// FeatureRange is what the training data says of one input value of a
// model: the least and greatest value seen, and a typical one (the
// median). Clients offer the typical values as a starting input and flag
// values outside the range, where the model's outputs are unreliable.
type FeatureRange struct {
	Min     float64 `json:"min"`
	Max     float64 `json:"max"`
	Typical float64 `json:"typical"`
}

// Example is a real input from the training data, with its true label:
// something to try the model on.
type Example struct {
	Label  string    `json:"label"`
	Values []float64 `json:"values"`
}

// checkExamples: one range per input value, examples of the input's size
// with known labels, every value finite and within input.min..max.
func (m *Metadata) checkExamples() error {
	var errs []error
	n := m.ItemSize()
	if len(m.FeatureRanges) > 0 && len(m.FeatureRanges) != n {
		errs = append(errs, fmt.Errorf("%d feature_ranges for an input of %d elements", len(m.FeatureRanges), n))
	}
	for i, r := range m.FeatureRanges {
		if err := m.Input.checkValues(r.Min, r.Typical, r.Max); err != nil || !(r.Min <= r.Typical && r.Typical <= r.Max) {
			errs = append(errs, fmt.Errorf("feature_ranges[%d]: want min <= typical <= max, finite and within the input's range, got %+v", i, r))
		}
	}
	if len(m.Examples) > MaxExamples {
		errs = append(errs, fmt.Errorf("%d examples, at most %d", len(m.Examples), MaxExamples))
	}
	for i, e := range m.Examples {
		if !slices.Contains(m.Labels, e.Label) {
			errs = append(errs, fmt.Errorf("examples[%d]: label %q is not one of the labels", i, e.Label))
		}
		if len(e.Values) != n {
			errs = append(errs, fmt.Errorf("examples[%d]: %d values for an input of %d elements", i, len(e.Values), n))
		} else if err := m.Input.checkValues(e.Values...); err != nil {
			errs = append(errs, fmt.Errorf("examples[%d]: %w", i, err))
		}
	}
	return errors.Join(errs...)
}

// checkValues: finite and within the tensor's min..max where set.
func (t TensorSpec) checkValues(vs ...float64) error {
	for _, v := range vs {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return fmt.Errorf("value %v is not finite", v)
		case t.Min != nil && v < *t.Min:
			return fmt.Errorf("value %v is below the input's min %v", v, *t.Min)
		case t.Max != nil && v > *t.Max:
			return fmt.Errorf("value %v is above the input's max %v", v, *t.Max)
		}
	}
	return nil
}
