package benchload

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"batchinfer/client"
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
		// T_B idle: the median of 30, 20, 90 ms; 80 ms of 20 s = 0.4 %, 2.7 × idle
		"| fair | 8 × 100000 | 256 | 0.03 | 0.08 | 20.00 | 0.4 % | 2.7 × | 40013 | 1.50 1.20 1.00 |",
		// FIFO: 19 s of 19.5 s, 760 × its idle 25 ms: both targets missed
		"| fifo | 8 × 100000 | 256 | 0.03 | 19.00 | 19.50 | 97.4 % ✗ | 760.0 × ✗ | 41039 | 1.50 1.20 1.00 |",
		"| fair | 100 | 10 | 100000 | 2.50 | 40000 | 9.0 / 20.0 | 1.50 1.20 1.00 |",
		// 40000 / 50000 items/s = 0.80, under the 0.90 target
		"| fair: cost, 100 jobs | 40000 | 50000 | 0.80 ✗ | 9.0 | 8.0 |",
		"| fair: contend, 8 jobs | 40013 | 41039 | 0.97 | 8.0 | 7.5 |",
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

// A fairness run needs two tenants and a known scenario; it says so before
// it sends anything.
func TestRunFairBadConfig(t *testing.T) {
	c := &Client{Client: client.New("http://127.0.0.1:1", "")}
	for _, tc := range []struct {
		cfg  FairConfig
		want string
	}{
		{FairConfig{Scenario: ScenarioContend, Keys: []string{"a"}}, "2 tenant keys"},
		{FairConfig{Scenario: "lifo", Keys: []string{"a", "b"}}, `scenario "lifo"`},
	} {
		if _, err := c.RunFair(t.Context(), &Corpus{}, tc.cfg, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: err %v, want one with %q", tc.cfg, err, tc.want)
		}
	}
}
