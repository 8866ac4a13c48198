package worker

import (
	"math"
	"testing"
	"time"
)

func TestRateMeter(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	type sample struct {
		after   time.Duration
		total   uint64
		byModel map[string]uint64
		want    rates
	}
	tests := []struct {
		name    string
		samples []sample
	}{
		{"first sample has no rate yet", []sample{
			{0, 500, map[string]uint64{"digits:1": 500, "breast_cancer:1": 0},
				rates{byModel: map[string]float64{"digits:1": 0, "breast_cancer:1": 0}}},
		}},
		{"each model its own rate, not the worker's split evenly", []sample{
			{0, 0, map[string]uint64{"digits:1": 0, "breast_cancer:1": 0}, rates{byModel: map[string]float64{"digits:1": 0, "breast_cancer:1": 0}}},
			{time.Second, 3000, map[string]uint64{"digits:1": 3000, "breast_cancer:1": 0},
				rates{total: 3000, byModel: map[string]float64{"digits:1": 3000, "breast_cancer:1": 0}, due: true}},
			{1500 * time.Millisecond, 3300, map[string]uint64{"digits:1": 3200, "breast_cancer:1": 100},
				rates{total: 200, byModel: map[string]float64{"digits:1": 400 / 3.0, "breast_cancer:1": 200 / 3.0}, due: true}},
		}},
		{"one more announcement when the work stops, then none until the heartbeat", []sample{
			{0, 0, map[string]uint64{"digits:1": 0}, rates{byModel: map[string]float64{"digits:1": 0}}},
			{time.Second, 10, map[string]uint64{"digits:1": 10}, rates{total: 10, byModel: map[string]float64{"digits:1": 10}, due: true}},
			{time.Second, 10, map[string]uint64{"digits:1": 10}, rates{byModel: map[string]float64{"digits:1": 0}, due: true}},
			{time.Second, 10, map[string]uint64{"digits:1": 10}, rates{byModel: map[string]float64{"digits:1": 0}}},
		}},
		{"a model that appears later starts at zero", []sample{
			{0, 0, map[string]uint64{}, rates{byModel: map[string]float64{}}},
			{time.Second, 40, map[string]uint64{"digits:1": 40}, rates{total: 40, byModel: map[string]float64{"digits:1": 0}, due: true}},
		}},
		{"no time passed: no rate", []sample{
			{0, 0, map[string]uint64{"digits:1": 0}, rates{byModel: map[string]float64{"digits:1": 0}}},
			{0, 10, map[string]uint64{"digits:1": 10}, rates{byModel: map[string]float64{"digits:1": 0}}},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var m rateMeter
			at := t0
			for i, s := range tc.samples {
				at = at.Add(s.after)
				got := m.sample(at, s.total, s.byModel)
				if !near(got.total, s.want.total) || got.due != s.want.due || len(got.byModel) != len(s.want.byModel) {
					t.Fatalf("sample %d: got %+v, want %+v", i, got, s.want)
				}
				for id, v := range s.want.byModel {
					if g, ok := got.byModel[id]; !ok || !near(g, v) {
						t.Fatalf("sample %d: %s = %v, want %v", i, id, got.byModel[id], v)
					}
				}
			}
		})
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
