package service

import (
	"testing"

	"batchinfer/internal/store"
	"batchinfer/model"
)

// A text dataset's bound is its lines, and one more when the last line has
// no newline: a file of exactly the limit's rows passes the items limit.
func TestDatasetBound(t *testing.T) {
	meta := &model.Metadata{}
	for _, tc := range []struct {
		name string
		info store.UploadInfo
		want int
	}{
		{"ends with a newline", store.UploadInfo{Size: 300, Lines: 100, EndsWithNewline: true}, 100},
		{"last line without one", store.UploadInfo{Size: 300, Lines: 99}, 100},
		{"one line, no newline", store.UploadInfo{Size: 3}, 1},
	} {
		if got := datasetBound(meta, tc.info, FormatNDJSON); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
