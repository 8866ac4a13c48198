package benchload

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	f, err := os.Open("testdata/results.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if err := Report(f, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| digits | 256 | 73000 | 13.5 |",
		// 100k items in 2.5 s = 40000/s = 0.55 × 73000; CPU 8.0 µs gateway per item
		"| round 1 | digits | ndjson | 100000 | 2.50 | 40000 | 0.55 | 8.0 / 6.5 / 7.0 / 21.0 |",
		"| idle (200000 batch items queued) | 64 | 8000 | 7.00 | 15.00 | 0 | 100.0 / 20.0 / 25.0 / 70.0 |",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}

func TestReportBadLine(t *testing.T) {
	err := Report(strings.NewReader("{\"kind\":\"job\",\"result\":{}}\nnot json\n"), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("err = %v, want one naming line 2", err)
	}
}
