package loadgen

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Check is one pass/fail verdict of a run.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Info checks are reported, never fail the run.
	Info bool `json:"info,omitempty"`
}

// Report is a run's samples, totals and verdicts.
type Report struct {
	Config  map[string]string `json:"config"`
	Started time.Time         `json:"started"`
	Samples []Sample          `json:"samples"`
	Totals  map[string]int64  `json:"totals"`
	Errors  []string          `json:"errors"`
	Checks  []Check           `json:"checks"`
}

// OK reports whether every check that counts passed.
func (r *Report) OK() bool {
	for _, c := range r.Checks {
		if !c.OK && !c.Info {
			return false
		}
	}
	return true
}

func (r *Report) finish(run *runner) {
	s := &run.stats
	r.Totals = map[string]int64{
		"jobs": s.Jobs.Load(), "items": s.Items.Load(), "predictions": s.Predictions.Load(),
		"errors": s.Errors.Load(), "lost": s.Lost.Load(), "duplicates": s.Duplicates.Load(),
		"reconnects": s.Reconnects.Load(), "resubscribes": s.Resubscribes.Load(), "cancels": s.Cancels.Load(),
		"slow_closes": s.SlowCloses.Load(), "replays_dropped": s.Replays.Load(),
		"refused": s.Refused.Load(), "unstored": s.Unstored.Load(),
	}
	run.mu.Lock()
	r.Errors = slices.Clone(run.errors)
	run.mu.Unlock()
	add := func(name string, ok bool, info bool, format string, args ...any) {
		r.Checks = append(r.Checks, Check{Name: name, OK: ok, Info: info, Detail: fmt.Sprintf(format, args...)})
	}
	add("no errors", s.Errors.Load() == 0, false, "%d errors", s.Errors.Load())
	add("nothing lost or duplicated", s.Lost.Load() == 0 && s.Duplicates.Load() == 0, false,
		"%d lost, %d duplicated items", s.Lost.Load(), s.Duplicates.Load())
	add("refusals and store failures", true, true, "%d submissions refused for want of room, %d items failed unstored (results store full)",
		s.Refused.Load(), s.Unstored.Load())
	add("work was done", s.Jobs.Load() > 0 && (run.cfg.SyncClients == 0 || s.Predictions.Load() > 0), false,
		"%d jobs, %d predictions", s.Jobs.Load(), s.Predictions.Load())
	r.trendChecks(run.cfg, add)
}

// trendChecks compares the start of the measured window (Warmup) with the
// end of the load, and the end of the settle period with before the load.
func (r *Report) trendChecks(cfg Config, add func(string, bool, bool, string, ...any)) {
	w := r.windows(cfg.Warmup)
	w.consumerCheck(r.Samples, add)
	if len(w.load) < 2 {
		add("trends", false, true, "load too short to measure trends after the %s warmup", cfg.Warmup)
		return
	}
	for _, p := range cfg.Procs {
		w.procChecks(p, cfg.MaxGrowth, add)
	}
}

// consumerCheck: the server's consumer count is back to its count before
// the load, and stayed within twice it meanwhile. (A KV watcher is an
// ordered consumer; a client starved of CPU misses its heartbeats and
// re-creates it, and the old one lingers until its inactivity threshold.
// A consumer per subscription would grow with the load instead.)
func (w windows) consumerCheck(all []Sample, add func(string, bool, bool, string, ...any)) {
	if w.before == nil || w.before.Consumers < 0 || len(w.after) == 0 {
		return
	}
	base, end := w.before.Consumers, w.after[len(w.after)-1].Consumers
	lo, hi := base, base
	for _, sm := range all {
		if sm.Consumers >= 0 {
			lo, hi = min(lo, sm.Consumers), max(hi, sm.Consumers)
		}
	}
	add("JetStream consumers back to baseline", end == base && hi <= 2*base, false,
		"%d before the load, between %d and %d during it, %d after", base, lo, hi, end)
}

// windows are the samples by phase: before, the load after its warmup,
// and after the load.
type windows struct {
	before      *Sample
	load, after []Sample
	loadEnd     time.Duration
}

func (r *Report) windows(warmup time.Duration) windows {
	var w windows
	for i := range r.Samples {
		sm := r.Samples[i]
		switch sm.Phase {
		case "before":
			w.before = &r.Samples[i]
		case "load":
			w.loadEnd = sm.At
			if sm.At >= warmup {
				w.load = append(w.load, sm)
			}
		case "after":
			w.after = append(w.after, sm)
		}
	}
	return w
}

// median of f over the samples of process name.
func median(ss []Sample, name string, f func(ProcSample) float64) float64 {
	v := make([]float64, 0, len(ss))
	for _, sm := range ss {
		v = append(v, f(sm.Procs[name]))
	}
	sort.Float64s(v)
	return v[len(v)/2]
}

// procChecks: memory, file descriptors and goroutines of one process from
// the first to the last samples of the window (medians of three), and its
// memory and file descriptors after the load against before it. File
// descriptors during the load are a note, not a check: the gateway's
// count is mostly the clients' connections open at the sample, which the
// load itself varies; a leak shows after the load, once they are closed.
func (w windows) procChecks(p Process, maxGrowth float64, add func(string, bool, bool, string, ...any)) {
	first, last := w.load[:min(3, len(w.load))], w.load[max(0, len(w.load)-3):]
	rss := func(x ProcSample) float64 { return float64(x.RSSKB) }
	b, e := median(first, p.Name, rss), median(last, p.Name, rss)
	growth := e/b - 1
	add(p.Name+" memory", growth <= maxGrowth, false, "RSS %.0f MB at %s → %.0f MB at the end of the load (%+.1f %%, bound %+.0f %%)",
		b/1024, w.load[0].At.Round(time.Second), e/1024, 100*growth, 100*maxGrowth)
	fd := func(x ProcSample) float64 { return float64(x.FDs) }
	bf, ef := median(first, p.Name, fd), median(last, p.Name, fd)
	add(p.Name+" file descriptors during the load", ef <= bf*1.1+10, true, "%.0f → %.0f (with the clients' connections open at each sample)", bf, ef)
	if p.Metrics != "" {
		g := func(x ProcSample) float64 { return float64(x.Goroutines) }
		bg, eg := median(first, p.Name, g), median(last, p.Name, g)
		add(p.Name+" goroutines", eg <= bg*1.1+10, false, "%.0f → %.0f", bg, eg)
	}
	if w.before != nil && len(w.after) > 0 {
		end := w.after[len(w.after)-1]
		preFD, postFD := w.before.Procs[p.Name].FDs, end.Procs[p.Name].FDs
		add(p.Name+" file descriptors after the load", float64(postFD) <= float64(preFD)*1.1+10, false, "%d before the load, %d %s after it",
			preFD, postFD, (end.At - w.loadEnd).Round(time.Second))
		pre, post := float64(w.before.Procs[p.Name].RSSKB), rss(end.Procs[p.Name])
		add(p.Name+" memory after the load", post <= pre*1.1, true, "RSS %.0f MB before the load, %.0f MB %s after it",
			pre/1024, post/1024, (end.At - w.loadEnd).Round(time.Second))
	}
}

// Markdown renders the verdicts, the totals and the samples (at most
// about 40 rows) as a document section.
func (r *Report) Markdown() string {
	var b strings.Builder
	verdict := "PASS"
	if !r.OK() {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "Run of %s: **%s**. Load: %s job clients (%s items per job) and %s sync clients for %s.\n\n",
		r.Started.Format("2006-01-02 15:04 UTC"), verdict, r.Config["job_clients"], r.Config["job_items"], r.Config["sync_clients"], r.Config["duration"])
	b.WriteString("| check | result | detail |\n|---|---|---|\n")
	for _, c := range r.Checks {
		res := "ok"
		if !c.OK {
			res = "**FAIL**"
			if c.Info {
				res = "note"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.Name, res, c.Detail)
	}
	keys := make([]string, 0, len(r.Totals))
	for k := range r.Totals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("\nTotals: ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", strings.ReplaceAll(k, "_", " "), r.Totals[k])
	}
	b.WriteString(".\n\n")
	r.sampleTable(&b)
	if len(r.Errors) > 0 {
		b.WriteString("\nFirst errors:\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- `%s`\n", e)
		}
	}
	return b.String()
}

func (r *Report) sampleTable(b *strings.Builder) {
	if len(r.Samples) == 0 {
		return
	}
	var names []string
	for n := range r.Samples[0].Procs {
		names = append(names, n)
	}
	sort.Strings(names)
	b.WriteString("| time | phase | jobs | items | predictions | errors | refused | sync p50 / p99 | consumers |")
	for _, n := range names {
		fmt.Fprintf(b, " %s RSS MB | %s goroutines | %s FDs |", n, n, n)
	}
	b.WriteString("\n|---|---|---|---|---|---|---|---|---|" + strings.Repeat("---|---|---|", len(names)) + "\n")
	step := max(1, len(r.Samples)/40)
	for i, sm := range r.Samples {
		if i%step != 0 && i != len(r.Samples)-1 && sm.Phase == r.Samples[max(0, i-1)].Phase {
			continue
		}
		fmt.Fprintf(b, "| %s | %s | %d | %d | %d | %d | %d | %s / %s | %d |", fmtAt(sm.At), sm.Phase, sm.Jobs, sm.Items, sm.Syncs, sm.Errors, sm.Refused,
			fmtMS(sm.SyncP50), fmtMS(sm.SyncP99), sm.Consumers)
		for _, n := range names {
			p := sm.Procs[n]
			g := "—"
			if p.Goroutines > 0 {
				g = fmt.Sprint(p.Goroutines)
			}
			fmt.Fprintf(b, " %.0f | %s | %d |", float64(p.RSSKB)/1024, g, p.FDs)
		}
		b.WriteString("\n")
	}
}

func fmtAt(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

func fmtMS(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
