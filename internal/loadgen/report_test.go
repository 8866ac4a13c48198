package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestParseProcesses(t *testing.T) {
	ps, err := ParseProcesses([]string{"nats=12", "gateway=34@http://127.0.0.1:8000/metrics"})
	if err != nil || len(ps) != 2 || ps[0].PID != 12 || ps[1].Metrics != "http://127.0.0.1:8000/metrics" {
		t.Fatalf("%+v %v", ps, err)
	}
	for _, bad := range []string{"nats", "nats=x", "=1x"} {
		if _, err := ParseProcesses([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// samples of one process whose RSS goes from base to end over the load.
func samples(base, end int64, goroutines int) []Sample {
	out := []Sample{{At: 0, Phase: "before", Consumers: 7, Procs: map[string]ProcSample{"p": {RSSKB: base / 2, FDs: 10}}}}
	for i := 0; i <= 10; i++ {
		rss := base + (end-base)*int64(i)/10
		out = append(out, Sample{At: time.Duration(i) * time.Minute, Phase: "load", Consumers: 7,
			Procs: map[string]ProcSample{"p": {RSSKB: rss, FDs: 10, Goroutines: goroutines}}})
	}
	return out
}

func TestTrendChecks(t *testing.T) {
	cfg := Config{Procs: []Process{{Name: "p", Metrics: "x"}}, Warmup: 2 * time.Minute, MaxGrowth: 0.10}
	for _, tc := range []struct {
		name     string
		end      int64
		failures string
	}{
		{"flat", 100_000, ""},
		{"bounded growth", 105_000, ""},
		{"leak", 150_000, "p memory"},
		{"consumers not back", 100_000, "JetStream consumers back to baseline"},
		{"consumers growing", 100_000, "JetStream consumers back to baseline"},
		{"consumers back after a transient rise", 100_000, ""},
		{"descriptors swing with the clients", 100_000, ""},
		{"descriptors leaked", 100_000, "p file descriptors after the load"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Samples: samples(100_000, tc.end, 40)}
			after := Sample{At: 11 * time.Minute, Phase: "after", Consumers: 7, Procs: r.Samples[len(r.Samples)-1].Procs}
			switch tc.name {
			case "consumers not back":
				after.Consumers = 8
			case "consumers growing":
				r.Samples[5].Consumers = 15
			case "consumers back after a transient rise":
				r.Samples[5].Consumers = 13
			}
			if tc.name == "descriptors swing with the clients" {
				for i := len(r.Samples) - 3; i < len(r.Samples); i++ {
					r.Samples[i].Procs = map[string]ProcSample{"p": {RSSKB: tc.end, FDs: 40, Goroutines: 40}}
				}
			}
			if tc.name == "descriptors leaked" {
				after.Procs = map[string]ProcSample{"p": {RSSKB: tc.end, FDs: 40, Goroutines: 40}}
			}
			r.Samples = append(r.Samples, after)
			var failed []string
			r.trendChecks(cfg, func(name string, ok, info bool, _ string, _ ...any) {
				if !ok && !info {
					failed = append(failed, name)
				}
			})
			if got := strings.Join(failed, ","); got != tc.failures {
				t.Fatalf("failed checks %q, want %q", got, tc.failures)
			}
		})
	}
}

func TestReportMarkdown(t *testing.T) {
	r := &Report{Config: map[string]string{"job_clients": "2"}, Samples: samples(1000, 1000, 5), Totals: map[string]int64{"jobs": 3},
		Checks: []Check{{Name: "no errors", OK: true, Detail: "0 errors"}, {Name: "m", OK: false, Detail: "grew"}}}
	md := r.Markdown()
	for _, want := range []string{"**FAIL**", "| no errors | ok |", "Totals: jobs 3", "| 0:00 | before |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
