package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"batchinfer/internal/natsx"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Process is a server process whose resources are sampled.
type Process struct {
	Name string
	PID  int
	// Metrics is its Prometheus endpoint, for go_goroutines (optional).
	Metrics string
}

// ParseProcesses reads name=pid[@metrics-url] entries.
func ParseProcesses(list []string) ([]Process, error) {
	var ps []Process
	for _, e := range list {
		name, rest, ok := strings.Cut(e, "=")
		if !ok {
			return nil, fmt.Errorf("process %q: want name=pid[@metrics-url]", e)
		}
		pidStr, url, _ := strings.Cut(rest, "@")
		pid, err := strconv.Atoi(pidStr)
		if err != nil {
			return nil, fmt.Errorf("process %q: pid: %w", e, err)
		}
		ps = append(ps, Process{Name: name, PID: pid, Metrics: url})
	}
	return ps, nil
}

// ProcSample is one process at one time.
type ProcSample struct {
	RSSKB      int64 `json:"rss_kb"`
	FDs        int   `json:"fds"`
	Goroutines int   `json:"goroutines,omitempty"`
	// Followers is the gateway's gateway_followers gauge, when exported.
	Followers int `json:"followers,omitempty"`
}

// Sample is everything measured at one time.
type Sample struct {
	At        time.Duration         `json:"at_ns"`
	Phase     string                `json:"phase"` // before, load, after
	Jobs      int64                 `json:"jobs"`
	Items     int64                 `json:"items"`
	Syncs     int64                 `json:"predictions"`
	Errors    int64                 `json:"errors"`
	Refused   int64                 `json:"refused"` // submissions refused for want of room so far
	SyncP50   time.Duration         `json:"sync_p50_ns"`
	SyncP99   time.Duration         `json:"sync_p99_ns"`
	Consumers int                   `json:"consumers"`
	Procs     map[string]ProcSample `json:"procs"`
}

type sampler struct {
	key   string // sent to the metrics endpoints (the gateway's needs an operator key)
	procs []Process
	nc    *nats.Conn
	js    jetstream.JetStream
	hc    *http.Client
}

func newSampler(ctx context.Context, key string, procs []Process, conn natsx.ConnConfig) (*sampler, error) {
	s := &sampler{key: key, procs: procs, hc: &http.Client{Timeout: 5 * time.Second}}
	if conn.URL != "" {
		nc, err := natsx.Connect(ctx, conn, nopLogger())
		if err != nil {
			return nil, fmt.Errorf("sampler: %w", err)
		}
		s.nc = nc
		s.js, _ = jetstream.New(nc)
	}
	return s, nil
}

func (s *sampler) close() {
	if s.nc != nil {
		s.nc.Close()
	}
}

func (s *sampler) sample(ctx context.Context) (int, map[string]ProcSample) {
	out := map[string]ProcSample{}
	for _, p := range s.procs {
		ps := ProcSample{RSSKB: rssKB(p.PID), FDs: fds(p.PID)}
		if p.Metrics != "" {
			m := s.scrape(ctx, p.Metrics)
			ps.Goroutines, ps.Followers = int(m["go_goroutines"]), int(m["gateway_followers"])
		}
		out[p.Name] = ps
	}
	consumers := -1
	if s.js != nil {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if info, err := s.js.AccountInfo(cctx); err == nil {
			consumers = info.Consumers
		}
		cancel()
	}
	return consumers, out
}

// scrape reads the unlabelled gauges of a Prometheus text endpoint.
func (s *sampler) scrape(ctx context.Context, url string) map[string]float64 {
	out := map[string]float64{}
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if s.key != "" {
		req.Header.Set("Authorization", "Bearer "+s.key)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' || strings.ContainsRune(line, '{') {
			continue
		}
		name, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
			out[name] = f
		}
	}
	return out
}

func rssKB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}

func fds(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}
