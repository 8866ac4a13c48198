package system

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"batchinfer/internal/wire"
)

// A 1,000,000-item dataset goes the way a batch user's does: a tus upload
// of its NDJSON file, a job from the upload, the output file read as a
// stream (every index once, in order, the model's class) and the errors
// file (exactly the invalid rows). make test-go runs it without the race
// detector, which would make it several times slower; under -race
// TestDatasetJobFromUpload covers the same path at 20,000 items.
func TestMillionItemDataset(t *testing.T) {
	if raceEnabled {
		t.Skip("runs without -race (make test-go's second pass)")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	s := Start(t, Options{})
	const n, step = 1_000_000, 9973
	data, invalid := digitsDataset(t, n, step)
	start := time.Now()
	id := s.upload(t, data, "digits.ndjson")
	t.Logf("upload: %d MB in %v", len(data)>>20, time.Since(start).Round(time.Millisecond))
	data = nil
	var r submitResp
	if code, _, b := s.Do(http.MethodPost, fmt.Sprintf("/v1/jobs?model=digits&max_invalid=%d&upload=%s", len(invalid), id), "", nil, &r); code != http.StatusAccepted {
		t.Fatalf("job from upload: %d %s", code, b)
	}
	st := s.waitJob(t, r.Job.ID, 15*time.Minute)
	t.Logf("job: %d items in %v", n, time.Since(start).Round(time.Millisecond))
	if st.State != wire.StateCompleted || st.Total != n || st.Done != n-len(invalid) || st.Failed != len(invalid) {
		t.Fatalf("job %+v, want completed with %d failed", st, len(invalid))
	}
	s.streamOutputNDJSON(t, r.Job.ID, n, invalid, s.sampleClasses(t))
	s.checkErrorsFiles(t, r.Job.ID, invalid)
}

// streamOutputNDJSON reads a job's NDJSON output file as it arrives and
// checks each line: the index in order, the line, the class or the
// invalid row's error; and the Content-Length.
func (s *System) streamOutputNDJSON(t *testing.T, id string, n int, invalid []int, classes []int) {
	t.Helper()
	// Hundreds of MB: bounded by a deadline for the whole download, not by
	// the harness client's 60 s per request.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.BaseURL+"/v1/jobs/"+id+"/output", nil)
	req.Header.Set("Authorization", "Bearer "+s.Key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.ContentLength <= 0 {
		t.Fatalf("output: %d, Content-Length %d", resp.StatusCode, resp.ContentLength)
	}
	bad := map[int]bool{}
	for _, i := range invalid {
		bad[i] = true
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	i, size := 0, int64(0)
	for ; sc.Scan(); i++ {
		size += int64(len(sc.Bytes())) + 1
		var it struct {
			itemResult
			Line int `json:"line"`
		}
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil || it.Index != i || it.Line != i+1 {
			t.Fatalf("line %d: %s (%v), want index %d line %d", i+1, sc.Bytes(), err, i, i+1)
		}
		switch {
		case bad[i] && !strings.Contains(it.Error, fmt.Sprintf("invalid input (line %d)", i+1)):
			t.Fatalf("invalid row %d: %+v", i, it)
		case !bad[i] && (it.Class == nil || *it.Class != classes[i%len(classes)]):
			t.Fatalf("item %d: %+v, want class %d", i, it, classes[i%len(classes)])
		}
	}
	if err := sc.Err(); err != nil || i != n || size != resp.ContentLength {
		t.Fatalf("%d lines, %d bytes (%v), want %d lines, Content-Length %d", i, size, err, n, resp.ContentLength)
	}
}
