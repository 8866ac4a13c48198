package model

import "testing"

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1", "1", 0},
		{"1", "2", -1},
		{"9", "10", -1},
		{"v9", "v10", -1}, // the gateway once ordered these lexically
		{"v10", "v9", 1},
		{"10", "9", 1},
		{"010", "10", 1}, // equal numbers: the longer spelling sorts last
		{"2", "2a", -1},
		{"1-rc2", "1-rc10", -1},
		{"1", "a", -1},
		{"b", "a", 1},
		{"", "1", -1},
		{"99999999999999999999999", "100000000000000000000000", -1},
	} {
		if got := CompareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
		if got := CompareVersions(tc.b, tc.a); got != -tc.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tc.b, tc.a, got, -tc.want)
		}
	}
}
