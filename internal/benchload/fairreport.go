package benchload

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// The targets for the fairness figures.
const (
	targetSmallOfDrain = 0.05 // T_B / T_A
	targetSmallOfIdle  = 3.0  // T_B / T_B_idle
	targetRateOfFIFO   = 0.90 // fair items/s / fifo items/s
)

// writeFair writes the fairness tables: B behind A's backlog per policy,
// the cost rows, and fair against FIFO.
func writeFair(w io.Writer, rows []labelled[FairResult]) {
	if len(rows) == 0 {
		return
	}
	writeContend(w, rows)
	writeCost(w, rows)
	writeFairVsFIFO(w, rows)
}

// idleOf is the median T_B_idle of the idle rows of a policy and label
// (0 if none).
func idleOf(rows []labelled[FairResult], policy, label string) time.Duration {
	var ds []time.Duration
	for _, r := range rows {
		if r.r.Scenario == ScenarioIdle && r.r.Policy == policy && r.label == label {
			ds = append(ds, r.r.Small)
		}
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func writeContend(w io.Writer, rows []labelled[FairResult]) {
	fmt.Fprint(w, "| policy | A's backlog | B's job | T_B idle s | T_B s | T_A s | T_B / T_A (≤ 5 %) | T_B / T_B idle (≤ 3 ×) | items/s | load avg |\n")
	fmt.Fprint(w, "|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		if r.r.Scenario != ScenarioContend {
			continue
		}
		idle := idleOf(rows, r.r.Policy, r.label)
		ofIdle := "—"
		if idle > 0 {
			ofIdle = fmt.Sprintf("%.1f ×%s", r.r.Small.Seconds()/idle.Seconds(), mark(r.r.Small.Seconds()/idle.Seconds() <= targetSmallOfIdle))
		}
		ofDrain := r.r.Small.Seconds() / r.r.Drain.Seconds()
		fmt.Fprintf(w, "| %s | %d × %d | %d | %.2f | %.2f | %.2f | %.1f %%%s | %s | %.0f | %s |\n", policyLabel(r),
			r.r.Jobs, (r.r.Items-r.r.SmallItems)/max(r.r.Jobs, 1), r.r.SmallItems, idle.Seconds(), r.r.Small.Seconds(),
			r.r.Drain.Seconds(), 100*ofDrain, mark(ofDrain <= targetSmallOfDrain), ofIdle, r.r.ItemsPerSec(), r.r.Load)
	}
	fmt.Fprintln(w)
}

func writeCost(w io.Writer, rows []labelled[FairResult]) {
	var cost []labelled[FairResult]
	for _, r := range rows {
		if r.r.Scenario == ScenarioCost {
			cost = append(cost, r)
		}
	}
	if len(cost) == 0 {
		return
	}
	names := procNames(cost, func(r FairResult) map[string]time.Duration { return r.CPU })
	fmt.Fprintf(w, "| policy | active jobs | tenants | items | s | items/s | CPU µs/item: %s | load avg |\n", strings.Join(names, " / "))
	fmt.Fprint(w, "|---|---|---|---|---|---|---|---|\n")
	for _, r := range cost {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.2f | %.0f | %s | %s |\n", policyLabel(r), r.r.Jobs, r.r.Tenants, r.r.Items,
			r.r.Span.Seconds(), r.r.ItemsPerSec(), perUnit(r.r.CPU, names, r.r.Items), r.r.Load)
	}
	fmt.Fprintln(w)
}

// writeFairVsFIFO compares each fair row with the FIFO row of the same
// scenario and size: items/s and the gateway's CPU per item.
func writeFairVsFIFO(w io.Writer, rows []labelled[FairResult]) {
	var out []string
	for _, f := range rows {
		if f.r.Policy != "fair" || f.r.Scenario == ScenarioIdle {
			continue
		}
		for _, o := range rows {
			if o.r.Policy != "fifo" || o.r.Scenario != f.r.Scenario || o.r.Jobs != f.r.Jobs || o.r.Items != f.r.Items || !sameRound(f.label, o.label) {
				continue
			}
			ratio := f.r.ItemsPerSec() / o.r.ItemsPerSec()
			out = append(out, fmt.Sprintf("| %s: %s, %d jobs | %.0f | %.0f | %.2f%s | %s | %s |", policyLabel(f), f.r.Scenario, f.r.Jobs,
				f.r.ItemsPerSec(), o.r.ItemsPerSec(), ratio, mark(ratio >= targetRateOfFIFO),
				perUnit(f.r.CPU, []string{"gateway"}, f.r.Items), perUnit(o.r.CPU, []string{"gateway"}, o.r.Items)))
			break
		}
	}
	if len(out) == 0 {
		return
	}
	fmt.Fprint(w, "| fair vs fifo | fair items/s | fifo items/s | fair / fifo (≥ 0.90) | gateway µs/item fair | fifo |\n|---|---|---|---|---|---|\n")
	fmt.Fprintln(w, strings.Join(out, "\n"))
	fmt.Fprintln(w)
}

// sameRound is whether a fair row's label (round, then variant) is of the
// FIFO row's round.
func sameRound(fair, fifo string) bool {
	return fifo == "" || fair == fifo || strings.HasPrefix(fair, fifo+", ")
}

func policyLabel(r labelled[FairResult]) string {
	if r.label == "" {
		return r.r.Policy
	}
	return r.r.Policy + " (" + r.label + ")"
}

// mark flags a figure that misses its target.
func mark(ok bool) string {
	if ok {
		return ""
	}
	return " ✗"
}
