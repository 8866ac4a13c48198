package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// fault is one line of the faults file: when the script did what.
type fault struct {
	At   int64  `json:"at_unix_ms"`
	Name string `json:"name"`
}

// stall is how results flowed after a fault, until the next fault (or the
// window's end, or the job's).
type stall struct {
	fault
	// LongestGapMs is the longest time without a results message (the
	// fault counts as the first mark).
	LongestGapMs int64 `json:"longest_gap_ms"`
	// Pauses counts the gaps of at least -pause.
	Pauses int `json:"pauses"`
	// ResumeMs is the time from the fault to the end of its last pause: when
	// results were flowing again for good. Without a pause, the time to the
	// first results message after the fault.
	ResumeMs int64 `json:"resume_ms"`
	// ChunksInWindow counts the results messages of the window.
	ChunksInWindow int `json:"chunks_in_window"`
}

func analyze(args []string) error {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	events := fs.String("events", "events.ndjson", "the follower's events")
	faults := fs.String("faults", "faults.txt", `the script's faults: lines "UNIX_MS NAME"`)
	window := fs.Duration("window", 20*time.Second, "how long after a fault to look at most")
	pause := fs.Duration("pause", 2*time.Second, "a gap between results messages this long is a pause")
	maxStall := fs.Duration("max-stall", 5*time.Second, "fail when progress resumes later than this after a fault")
	maxKill := fs.Duration("max-stall-kill", 0, `the same for faults named "kill ..." (0: -max-stall)`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	arrivals, end, err := readArrivals(*events)
	if err != nil {
		return err
	}
	fl, err := readFaults(*faults)
	if err != nil {
		return err
	}
	var out []stall
	var errs []error
	for i, f := range fl {
		limit := f.At + window.Milliseconds()
		if i+1 < len(fl) && fl[i+1].At < limit {
			limit = fl[i+1].At
		}
		if end > 0 && end < limit {
			limit = end
		}
		s, err := measure(f, arrivals, limit, limit == end, pause.Milliseconds())
		most := *maxStall
		if strings.HasPrefix(f.Name, "kill") && *maxKill > 0 {
			most = *maxKill
		}
		if err == nil && s.ResumeMs > most.Milliseconds() {
			err = fmt.Errorf("%s: progress resumed %d ms after it (> %v)", f.Name, s.ResumeMs, most)
		}
		errs = append(errs, err)
		out = append(out, s)
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	fmt.Println(string(b))
	return errors.Join(errs...)
}

// readArrivals returns the arrival times of results messages, sorted, and
// the time of the end (0 if none).
func readArrivals(path string) ([]int64, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	var ts []int64
	var end int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		switch e.Type {
		case "results":
			ts = append(ts, e.T)
		case "end":
			end = e.T
		}
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts, end, sc.Err()
}

func readFaults(path string) ([]fault, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []fault
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		at, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		out = append(out, fault{At: at, Name: strings.Join(fields[1:], " ")})
	}
	return out, nil
}

// measure looks at the results messages after fault f up to limit (the
// job's end when ended): the fault counts as a mark; a gap of at least pause
// ms is a pause.
func measure(f fault, arrivals []int64, limit int64, ended bool, pause int64) (stall, error) {
	s := stall{fault: f}
	prev := f.At
	for _, t := range arrivals {
		if t <= f.At || t > limit {
			continue
		}
		if s.ChunksInWindow == 0 {
			s.ResumeMs = t - f.At
		}
		s.ChunksInWindow++
		gap := t - prev
		s.LongestGapMs = max(s.LongestGapMs, gap)
		if gap >= pause {
			s.Pauses++
			s.ResumeMs = t - f.At
		}
		prev = t
	}
	if s.ChunksInWindow == 0 {
		return s, fmt.Errorf("%s: no results in the %d ms after it", f.Name, limit-f.At)
	}
	// Results must not have stopped at the window's end, unless the job did.
	if !ended && limit-prev >= max(pause, s.LongestGapMs) {
		return s, fmt.Errorf("%s: results stopped %d ms after it", f.Name, prev-f.At)
	}
	return s, nil
}
