package benchload

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// RawResult is one line of cmd/rawtf: raw in-process TensorFlow.
type RawResult struct {
	Model        string  `json:"model"`
	Batch        int     `json:"batch"`
	Items        int     `json:"items"`
	ItemsPerSec  float64 `json:"items_per_s"`
	CPUMicrosPer float64 `json:"cpu_us_per_item"`
}

// line is one line of results.jsonl as scripts/bench.sh writes it.
type line struct {
	Kind   string          `json:"kind"`
	Label  string          `json:"label"`
	Result json.RawMessage `json:"result"`
}

// Report reads the JSON lines of a bench run and writes them as markdown
// tables: raw TF, jobs (with the ratio to the raw TF measured in the same
// run for the same model), synchronous loads; CPU in µs per item or request
// of each process; datasets (rates, peak memory, disk per million items);
// fair share against FIFO.
func Report(r io.Reader, w io.Writer) error {
	var raws []RawResult
	var jobs []labelled[JobResult]
	var syncs []labelled[SyncResult]
	var fairs []labelled[FairResult]
	var datasets []labelled[DatasetResult]
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var l line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		var err error
		switch l.Kind {
		case "raw":
			var x RawResult
			err = json.Unmarshal(l.Result, &x)
			raws = append(raws, x)
		case "job":
			var x JobResult
			err = json.Unmarshal(l.Result, &x)
			jobs = append(jobs, labelled[JobResult]{l.Label, x})
		case "sync":
			var x SyncResult
			err = json.Unmarshal(l.Result, &x)
			syncs = append(syncs, labelled[SyncResult]{l.Label, x})
		case "fair":
			var x FairResult
			err = json.Unmarshal(l.Result, &x)
			fairs = append(fairs, labelled[FairResult]{l.Label, x})
		case "dataset":
			var x DatasetResult
			err = json.Unmarshal(l.Result, &x)
			datasets = append(datasets, labelled[DatasetResult]{l.Label, x})
		}
		if err != nil {
			return fmt.Errorf("line %d (%s): %w", n, l.Kind, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read results: %w", err)
	}
	writeRaw(w, raws)
	writeJobs(w, jobs, bestRaw(raws))
	writeSync(w, syncs)
	writeFair(w, fairs)
	writeDatasets(w, datasets)
	return nil
}

type labelled[T any] struct {
	label string
	r     T
}

// bestRaw is the fastest raw rate per model at its largest batch.
func bestRaw(raws []RawResult) map[string]float64 {
	best := map[string]float64{}
	for _, r := range raws {
		best[r.Model] = max(best[r.Model], r.ItemsPerSec)
	}
	return best
}

func writeRaw(w io.Writer, raws []RawResult) {
	if len(raws) == 0 {
		return
	}
	fmt.Fprint(w, "| raw TF (cmd/rawtf) | batch | items/s | TF CPU µs/item |\n|---|---|---|---|\n")
	for _, r := range raws {
		fmt.Fprintf(w, "| %s | %d | %.0f | %.1f |\n", r.Model, r.Batch, r.ItemsPerSec, r.CPUMicrosPer)
	}
	fmt.Fprintln(w)
}

func writeJobs(w io.Writer, jobs []labelled[JobResult], raw map[string]float64) {
	if len(jobs) == 0 {
		return
	}
	names := procNames(jobs, func(j JobResult) map[string]time.Duration { return j.CPU })
	fmt.Fprintf(w, "| job | model | format | items | s | items/s | × raw | CPU µs/item: %s |\n", strings.Join(names, " / "))
	fmt.Fprint(w, "|---|---|---|---|---|---|---|---|\n")
	for _, j := range jobs {
		ratio := "—"
		if b := raw[j.r.Model]; b > 0 {
			ratio = fmt.Sprintf("%.2f", j.r.ItemsPerSec()/b)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %d | %.2f | %.0f | %s | %s |\n", j.label, j.r.Model, j.r.Format,
			j.r.Items, j.r.Total.Seconds(), j.r.ItemsPerSec(), ratio, perUnit(j.r.CPU, names, j.r.Items))
	}
	fmt.Fprintln(w)
}

func writeSync(w io.Writer, syncs []labelled[SyncResult]) {
	if len(syncs) == 0 {
		return
	}
	names := procNames(syncs, func(s SyncResult) map[string]time.Duration { return s.CPU })
	fmt.Fprintf(w, "| sync | conns | req/s | p50 ms | p99 ms | errors | CPU µs/request: %s |\n", strings.Join(names, " / "))
	fmt.Fprint(w, "|---|---|---|---|---|---|---|\n")
	for _, s := range syncs {
		label := s.label
		if s.r.BatchedWith != "" {
			label += " (" + s.r.BatchedWith + ")"
		}
		fmt.Fprintf(w, "| %s | %d | %.0f | %.2f | %.2f | %d | %s |\n", label, s.r.Conns, s.r.ReqPerSec(),
			ms(s.r.P50), ms(s.r.P99), s.r.Errors, perUnit(s.r.CPU, names, s.r.Requests))
	}
	fmt.Fprintln(w)
}

func procNames[T any](rows []labelled[T], cpu func(T) map[string]time.Duration) []string {
	var names []string
	for _, r := range rows {
		for n := range cpu(r.r) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names
}

func perUnit(cpu map[string]time.Duration, names []string, n int) string {
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = "—"
		if d, ok := cpu[name]; ok && n > 0 {
			parts[i] = fmt.Sprintf("%.1f", float64(d.Microseconds())/float64(n))
		}
	}
	return strings.Join(parts, " / ")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
